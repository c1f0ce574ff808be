// IPC channel names shared by the Electron main process and the preload. Pure: the sandboxed
// preload bundles it.

/** renderer -> main: invoke(IPC_CALL, method, request) -> ApiResult */
export const IPC_CALL = 'plmw:call';
/** main -> renderer: send(IPC_EVENT, ApiEvent) */
export const IPC_EVENT = 'plmw:event';
