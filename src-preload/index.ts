// Exposes the typed engine API to the sandboxed renderer, and nothing else.
import { contextBridge, ipcRenderer } from 'electron';

contextBridge.exposeInMainWorld('plmw', {
  invoke: (channel: string, request: unknown) => ipcRenderer.invoke(`plmw:${channel}`, request),
});
