// The Electron main process with `electron` mocked: the window's webPreferences, the CSP header,
// navigation/new-window/permission lockdown, the menu, and the IPC handler that validates every
// request against the contract and serves it from the same ApiService as the browser mode.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApiResult } from '../../src-main/api/contract.js';
import { CONTENT_SECURITY_POLICY } from '../../src-main/shell/window-policy.js';
import { REPO } from '../helpers/paths.js';

type Listener = (...args: unknown[]) => unknown;

const h = vi.hoisted(() => {
  const state = {
    userData: '',
    windows: [] as { options: Record<string, unknown>; loaded?: string; webContents: unknown }[],
    headersHandler: undefined as undefined | ((details: unknown, cb: (r: unknown) => void) => void),
    permissionRequest: undefined as undefined | ((wc: unknown, perm: string, cb: (ok: boolean) => void) => void),
    permissionCheck: undefined as undefined | ((...a: unknown[]) => boolean),
    ipc: new Map<string, (...a: unknown[]) => unknown>(),
    appEvents: new Map<string, (...a: unknown[]) => unknown>(),
    menu: undefined as unknown,
    sent: [] as { channel: string; payload: unknown }[],
    dialogCalls: [] as unknown[],
    openExternal: [] as string[],
  };
  return state;
});

function fakeContents(url: () => string) {
  const on = new Map<string, Listener>();
  return {
    on: (ev: string, fn: Listener) => on.set(ev, fn),
    listeners: on,
    windowOpenHandler: undefined as undefined | Listener,
    setWindowOpenHandler(fn: Listener) {
      this.windowOpenHandler = fn;
    },
    getURL: url,
    isDestroyed: () => false,
    send: (channel: string, payload: unknown) => h.sent.push({ channel, payload }),
  };
}

vi.mock('electron', () => {
  class BrowserWindow {
    static all: BrowserWindow[] = [];
    static getAllWindows = () => BrowserWindow.all;
    webContents: ReturnType<typeof fakeContents>;
    loaded?: string;
    constructor(readonly options: Record<string, unknown>) {
      this.webContents = fakeContents(() => `file://${this.loaded ?? ''}`);
      BrowserWindow.all.push(this);
      h.windows.push(this);
      // Electron announces every new web contents to the app.
      h.appEvents.get('web-contents-created')?.({}, this.webContents);
    }
    once() {}
    on() {}
    loadFile(f: string) {
      this.loaded = f;
      return Promise.resolve();
    }
    loadURL(u: string) {
      this.loaded = u;
      return Promise.resolve();
    }
  }
  return {
    BrowserWindow,
    app: {
      whenReady: () => Promise.resolve(),
      on: (ev: string, fn: Listener) => h.appEvents.set(ev, fn),
      getPath: (name: string) => (name === 'userData' ? h.userData : os.tmpdir()),
      getAppPath: () => os.tmpdir(),
      isPackaged: false,
      quit: () => undefined,
    },
    Menu: { buildFromTemplate: (t: unknown) => ((h.menu = t), { template: t }), setApplicationMenu: () => undefined },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: (fn: typeof h.headersHandler) => (h.headersHandler = fn) },
        setPermissionRequestHandler: (fn: typeof h.permissionRequest) => (h.permissionRequest = fn),
        setPermissionCheckHandler: (fn: typeof h.permissionCheck) => (h.permissionCheck = fn),
      },
    },
    shell: { openExternal: async (u: string) => void h.openExternal.push(u) },
    dialog: {
      showOpenDialog: async (...a: unknown[]) => {
        h.dialogCalls.push(a.at(-1));
        return { canceled: false, filePaths: ['/data/one.fasta', '/data/two.fa'] };
      },
    },
    ipcMain: { handle: (ch: string, fn: Listener) => h.ipc.set(ch, fn), removeHandler: (ch: string) => h.ipc.delete(ch) },
    webContents: { getAllWebContents: () => h.windows.map((w) => w.webContents) },
  };
});
vi.mock('../../src-main/shell/job-worker.js', () => ({ jobWorkerPath: path.join(os.tmpdir(), 'never-started-worker.js'), callWorkerPath: path.join(os.tmpdir(), 'never-started-call-worker.js') }));

const rendererIndex = path.join(REPO, 'src-main', '..', 'renderer', 'index.html');
const appUrl = `file://${rendererIndex}`;

beforeAll(async () => {
  h.userData = mkdtempSync(path.join(os.tmpdir(), 'plmw-userdata-'));
  await import('../../src-main/index.js');
  await new Promise((r) => setTimeout(r, 0));
});
afterAll(() => rmSync(h.userData, { recursive: true, force: true }));

describe('the window', () => {
  it('is sandboxed and context-isolated, with no Node integration', () => {
    expect(h.windows).toHaveLength(1);
    const prefs = h.windows[0].options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(prefs.preload).toMatch(/preload[/\\]index\.cjs$/);
    expect((h.windows[0] as { loaded?: string }).loaded).toBe(rendererIndex);
  });

  it('gets a strict Content-Security-Policy on every response', () => {
    let result: { responseHeaders: Record<string, string[]> } | undefined;
    h.headersHandler!({ responseHeaders: { 'X-Other': ['1'] } }, (r) => (result = r as typeof result));
    expect(result!.responseHeaders['X-Other']).toEqual(['1']);
    const csp = result!.responseHeaders['Content-Security-Policy'];
    expect(csp).toEqual([CONTENT_SECURITY_POLICY]);
    const directives = Object.fromEntries(csp[0].split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
    expect(directives['default-src']).toEqual(["'self'"]);
    expect(directives['script-src']).toEqual(["'self'"]); // no inline scripts, no eval
    expect(directives['object-src']).toEqual(["'none'"]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(directives['base-uri']).toEqual(["'none'"]);
    expect(directives['connect-src']).toEqual(["'self'"]);
  });

  it('refuses permissions, navigation away from the app, new windows and webviews', () => {
    let granted: boolean | undefined;
    h.permissionRequest!({}, 'media', (ok) => (granted = ok));
    expect(granted).toBe(false);
    expect(h.permissionCheck!({}, 'clipboard-read')).toBe(false);

    const wc = h.windows[0].webContents as ReturnType<typeof fakeContents>;
    const nav = (ev: string, url: string) => {
      const e = { prevented: false, preventDefault() {
        this.prevented = true;
      } };
      wc.listeners.get(ev)!(e, url);
      return e.prevented;
    };
    expect(nav('will-navigate', 'https://evil.example/')).toBe(true);
    expect(nav('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(nav('will-navigate', 'file:///home/me/dropped.fasta')).toBe(true);
    expect(nav('will-redirect', 'http://127.0.0.1:1/')).toBe(true);
    expect(nav('will-navigate', appUrl)).toBe(false);
    const attach = { prevented: false, preventDefault() {
      this.prevented = true;
    } };
    wc.listeners.get('will-attach-webview')!(attach);
    expect(attach.prevented).toBe(true);

    expect(wc.windowOpenHandler!({ url: 'https://example.org/docs' })).toEqual({ action: 'deny' });
    expect(wc.windowOpenHandler!({ url: 'javascript:alert(1)' })).toEqual({ action: 'deny' });
    expect(h.openExternal).toEqual(['https://example.org/docs']);
  });
});

describe('menu and dialogs', () => {
  type Item = { label?: string; role?: string; submenu?: Item[]; click?: () => void };
  it('has File > Open FASTA / Open Structure that open a filtered dialog and tell the page', async () => {
    const template = h.menu as Item[];
    const file = template.find((m) => m.label === 'File')!;
    const labels = file.submenu!.map((i) => i.label ?? i.role);
    expect(labels).toEqual(expect.arrayContaining(['Open FASTA…', 'Open Structure…']));
    expect(template.some((m) => m.role === 'editMenu')).toBe(true);
    h.sent.length = 0;
    file.submenu!.find((i) => i.label === 'Open FASTA…')!.click!();
    await new Promise((r) => setTimeout(r, 10));
    const opts = h.dialogCalls.at(-1) as { filters: { extensions: string[] }[]; properties: string[] };
    expect(opts.filters[0].extensions).toEqual(expect.arrayContaining(['fasta', 'fa', 'faa']));
    expect(opts.properties).toContain('multiSelections');
    expect(h.sent).toEqual([{ channel: 'plmw:event', payload: { type: 'files.opened', kind: 'fasta', paths: ['/data/one.fasta', '/data/two.fa'] } }]);
    file.submenu!.find((i) => i.label === 'Open Structure…')!.click!();
    await new Promise((r) => setTimeout(r, 10));
    expect((h.dialogCalls.at(-1) as { filters: { extensions: string[] }[] }).filters[0].extensions).toEqual(['pdb', 'ent', 'cif', 'mmcif']);
  });
});

describe('IPC', () => {
  const call = (url: string, method: unknown, request: unknown) =>
    h.ipc.get('plmw:call')!({ senderFrame: { url } }, method, request) as Promise<ApiResult>;

  it('validates every request against the contract and serves it', async () => {
    expect(await call(appUrl, 'health', {})).toMatchObject({ ok: true, result: { front: 'electron', capabilities: { nativeDialogs: true } } });
    expect(await call(appUrl, 'runs.rename', { id: 'r1' })).toEqual({ ok: false, error: { code: 'bad_request', message: 'name: is required (a string)', field: 'name' } });
    expect(await call(appUrl, 'infer', { model: 'm', out: 'o', fasta: 'f', emit: ['logits', 'secrets'] })).toMatchObject({ ok: false, error: { field: 'emit[1]' } });
    expect(await call(appUrl, 'fs.readFile', { path: '/etc/passwd' })).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    expect(await call(appUrl, 'dialog.open', { kind: 'structure' })).toEqual({ ok: true, result: { paths: ['/data/one.fasta', '/data/two.fa'] } });
  });

  it('refuses calls from any page but the app', async () => {
    expect(await call('https://evil.example/', 'health', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await call('', 'health', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('keeps settings as JSON in the user data folder', async () => {
    const r = await call(appUrl, 'settings.set', { modelFolder: '/models', providers: ['cpu'], threads: 2 });
    expect(r).toMatchObject({ ok: true, result: { file: path.join(h.userData, 'settings.json') } });
    expect(JSON.parse(readFileSync(path.join(h.userData, 'settings.json'), 'utf8'))).toEqual({ modelFolder: '/models', providers: ['cpu'], threads: 2 });
    expect(await call(appUrl, 'settings.set', { threads: 0 })).toMatchObject({ ok: false, error: { field: 'threads' } });
    expect(await call(appUrl, 'settings.get', {})).toMatchObject({ ok: true, result: { settings: { threads: 2 } } });
  });
});
