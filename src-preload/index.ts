// Exposes the typed engine API to the sandboxed renderer as `window.plmw`, and nothing else:
//   call(method, request) -> ApiResult     (validated in the main process against the contract)
//   onEvent(cb) -> unsubscribe             (job events, files opened from the menu or dropped)
//   pathForFile(file) -> string            (the path of a dropped File)
// Files dropped on the window become a `files.opened` event (FASTA or structure files by
// extension); the main process blocks the navigation a drop would otherwise cause.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { ApiEvent, PlmwBridge } from '../src-main/api/contract.js';
import { IPC_CALL, IPC_EVENT } from '../src-main/ipc/channels.js';
import { fileKind, type OpenKind } from '../src-main/shell/files.js';

const local = new Set<(e: ApiEvent) => void>();

const bridge: PlmwBridge = {
  call: (method, request) => ipcRenderer.invoke(IPC_CALL, method, request),
  onEvent(cb) {
    // The IPC event object (with its sender) never reaches the page.
    const listener = (_e: IpcRendererEvent, event: ApiEvent) => cb(event);
    ipcRenderer.on(IPC_EVENT, listener);
    local.add(cb);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT, listener);
      local.delete(cb);
    };
  },
  pathForFile: (file) => webUtils.getPathForFile(file),
};

contextBridge.exposeInMainWorld('plmw', bridge);

window.addEventListener('dragover', (e) => {
  if (e.dataTransfer?.types.includes('Files')) {
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  }
});

window.addEventListener('drop', (e) => {
  const files = [...(e.dataTransfer?.files ?? [])];
  if (files.length === 0) return;
  e.preventDefault();
  const byKind = new Map<OpenKind, string[]>();
  for (const f of files) {
    const p = webUtils.getPathForFile(f);
    const kind = fileKind(p || f.name);
    if (p && kind) byKind.set(kind, [...(byKind.get(kind) ?? []), p]);
  }
  for (const [kind, paths] of byKind) for (const cb of local) cb({ type: 'files.opened', kind, paths });
});
