// The Electron front of the API: one IPC handler that validates every request against the
// contract (ApiService.handle) and forwards it to the same service and job queue the browser
// mode uses, and the event forwarding to the windows. Only frames showing the app itself may
// call (checked on every call with the window policy's navigation rule).
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import type { ApiEvent, ApiResult } from '../api/contract.js';
import type { ApiService } from '../api/service.js';
import { IPC_CALL, IPC_EVENT } from './channels.js';

export interface IpcOptions {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  service: ApiService;
  /** is this frame URL the app's own page? */
  isTrustedUrl: (url: string) => boolean;
  /** the web contents to send events to (every open window) */
  targets: () => WebContents[];
}

/** Register the handler and the event forwarding; returns the function that removes both. */
export function registerIpc(o: IpcOptions): () => void {
  o.ipcMain.handle(IPC_CALL, async (event: IpcMainInvokeEvent, method: unknown, request: unknown): Promise<ApiResult> => {
    const url = event.senderFrame?.url ?? '';
    if (!o.isTrustedUrl(url)) return { ok: false, error: { code: 'forbidden', message: `IPC call from an untrusted page refused: ${url || '(unknown)'}` } };
    return o.service.handle(method, request);
  });
  const off = o.service.onEvent((e: ApiEvent) => {
    for (const wc of o.targets()) if (!wc.isDestroyed()) wc.send(IPC_EVENT, e);
  });
  return () => {
    o.ipcMain.removeHandler(IPC_CALL);
    off();
  };
}
