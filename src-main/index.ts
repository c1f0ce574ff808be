// Electron main process: one hardened window, the application menu, file dialogs and the IPC
// bridge to the engine. Kept thin: requests are validated and served by the same ApiService
// the browser mode uses, and all heavy work runs in the job worker thread, off this process's
// event loop.
import { BrowserWindow, Menu, app, dialog, ipcMain, session, shell, webContents as allWebContents, type WebContents } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiService } from './api/service.js';
import { CallWorker } from './engine/jobs/calls.js';
import { JobQueue } from './engine/jobs/queue.js';
import { sweepStaleTemporaries } from './engine/atomic.js';
import { plmwHome, sweepUserData } from './engine/models/store.js';
import { registerIpc } from './ipc/register.js';
import { dialogFilters, type OpenKind } from './shell/files.js';
import { callWorkerPath, jobWorkerPath } from './shell/job-worker.js';
import { menuTemplate } from './shell/menu.js';
import { CONTENT_SECURITY_POLICY, isAllowedNavigation, webPreferences } from './shell/window-policy.js';
import { settingsFile } from './settings/settings.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererIndex = path.join(here, '../renderer/index.html');
const appOrigin = process.env.ELECTRON_RENDERER_URL ?? `file://${path.dirname(rendererIndex)}`;

let mainWindow: BrowserWindow | undefined;

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 1024,
    minHeight: 700,
    title: 'plm-workbench',
    show: false,
    webPreferences: webPreferences(path.join(here, '../preload/index.cjs')),
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = undefined;
  });
  if (process.env.ELECTRON_RENDERER_URL) void win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void win.loadFile(rendererIndex);
  mainWindow = win;
  return win;
}

/** Every web contents (windows, and anything else that appears) is locked down. */
function hardenContents(contents: WebContents): void {
  contents.setWindowOpenHandler(({ url }) => {
    if (/^https:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  // Also stops a dropped file from replacing the app: drops are handled by the preload.
  contents.on('will-navigate', (e, url) => {
    if (!isAllowedNavigation(url, appOrigin)) e.preventDefault();
  });
  contents.on('will-redirect', (e, url) => {
    if (!isAllowedNavigation(url, appOrigin)) e.preventDefault();
  });
  contents.on('will-attach-webview', (e) => e.preventDefault());
}

app.on('web-contents-created', (_e, contents) => hardenContents(contents));

app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, cb) => {
    cb({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  const openDialog = async (o: { kind: OpenKind; multiple: boolean }): Promise<string[]> => {
    const props: ('openFile' | 'multiSelections')[] = o.multiple ? ['openFile', 'multiSelections'] : ['openFile'];
    const options = { title: o.kind === 'fasta' ? 'Open FASTA' : 'Open structure', properties: props, filters: dialogFilters(o.kind) };
    const r = mainWindow ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options);
    return r.canceled ? [] : r.filePaths;
  };
  sweepUserData(plmwHome());
  sweepStaleTemporaries(app.getPath('userData'));
  const jobs = new JobQueue({ workerPath: jobWorkerPath });
  const calls = new CallWorker({ workerPath: callWorkerPath });
  const api = new ApiService({ front: 'electron', jobs, calls, settingsFile: settingsFile(app.getPath('userData')), resourcesDir: path.join(app.getAppPath(), 'resources'), openDialog });
  registerIpc({
    ipcMain,
    service: api,
    isTrustedUrl: (url) => isAllowedNavigation(url, appOrigin),
    targets: () => allWebContents.getAllWebContents().filter((wc) => isAllowedNavigation(wc.getURL(), appOrigin)),
  });

  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      menuTemplate(
        {
          openFiles: (kind) =>
            void openDialog({ kind, multiple: true }).then((paths) => {
              if (paths.length) api.emit({ type: 'files.opened', kind, paths });
            }),
          showSettings: () => api.emit({ type: 'menu.command', command: 'settings' }),
        },
        { isMac: process.platform === 'darwin', dev: !app.isPackaged },
      ),
    ),
  );
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
  app.on('before-quit', () => void Promise.all([jobs.close(), calls.close()]));
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
