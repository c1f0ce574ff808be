// The renderer's one composable: the Electron bridge when window.plmw exists, HTTP + SSE with
// the page's token otherwise (here against a real browser-mode server).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApiEvent, PlmwBridge } from '../../src-main/api/contract.js';
import { ApiService } from '../../src-main/api/service.js';
import { JobQueue } from '../../src-main/engine/jobs/queue.js';
import { startWebServer, type WebServer } from '../../src-main/server/server.js';
import { ApiCallError, httpTransport, resetTransport, sessionToken, useApi } from '../../src-renderer/src/composables/useApi.js';

let tmp: string;
let jobs: JobQueue;
let server: WebServer;
beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'plmw-useapi-'));
  jobs = new JobQueue({ diagnostics: true });
  server = await startWebServer({ service: new ApiService({ front: 'web', jobs, home: tmp }) });
});
afterAll(async () => {
  await server.close();
  await jobs.close();
  rmSync(tmp, { recursive: true, force: true });
});

function fakeWindow(href: string, plmw?: PlmwBridge) {
  const store = new Map<string, string>();
  const w = {
    location: { href },
    sessionStorage: { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) },
    history: { state: null, replaceState: (_s: unknown, _t: string, url: string) => (w.location.href = new URL(url, href).href) },
    plmw,
  };
  (globalThis as { window?: unknown }).window = w;
  return w;
}
beforeEach(() => resetTransport());

describe('useApi', () => {
  it('uses the Electron bridge when the preload exposed it', async () => {
    const calls: unknown[] = [];
    const bridge: PlmwBridge = {
      call: async (method, request) => {
        calls.push([method, request]);
        return method === 'health' ? { ok: true, result: { status: 'ok' } as never } : { ok: false, error: { code: 'bad_request', message: 'name: is required', field: 'name' } };
      },
      onEvent: () => () => undefined,
      pathForFile: () => '/x.fasta',
    };
    fakeWindow('file:///app/index.html', bridge);
    const api = useApi();
    expect(api.transport).toBe('electron');
    expect(await api.call('health', {})).toEqual({ status: 'ok' });
    const e = await api.call('runs.rename', { id: 'r', name: '' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiCallError);
    expect(e).toMatchObject({ code: 'bad_request', field: 'name' });
    expect(calls).toHaveLength(2);
  });

  it('takes the browser-mode token from the address, keeps it and hides it', () => {
    const w = fakeWindow('http://127.0.0.1:9/?token=abc123&view=runs#top');
    expect(sessionToken()).toBe('abc123');
    expect(w.location.href).toBe('http://127.0.0.1:9/?view=runs#top');
    expect(sessionToken()).toBe('abc123'); // after a reload, from sessionStorage
    expect(useApi().transport).toBe('http');
  });

  it('calls the HTTP API with the token and receives events over SSE', async () => {
    class FakeEventSource {
      static last: FakeEventSource;
      onmessage: ((m: { data: string }) => void) | null = null;
      closed = false;
      constructor(readonly url: string) {
        FakeEventSource.last = this;
      }
      close() {
        this.closed = true;
      }
    }
    (globalThis as { EventSource?: unknown }).EventSource = FakeEventSource;
    const t = httpTransport(server.token, server.url.replace(/\/$/, ''));
    const ok = await t.call('runs.list', {});
    expect(ok).toEqual({ ok: true, result: { root: path.join(tmp, 'runs'), runs: [] } });
    expect(await t.call('runs.get', { id: 5 })).toMatchObject({ ok: false, error: { code: 'bad_request', field: 'id' } });
    expect(await httpTransport('wrong', server.url.replace(/\/$/, '')).call('health', {})).toMatchObject({ ok: false, error: { code: 'unauthorized' } });

    const got: ApiEvent[] = [];
    const off = t.onEvent((e) => got.push(e));
    expect(FakeEventSource.last.url).toBe(`${server.url.replace(/\/$/, '')}/api/events?token=${server.token}`);
    FakeEventSource.last.onmessage!({ data: JSON.stringify({ type: 'job.cancelled', jobId: 'j', kind: 'selftest' }) });
    expect(got).toEqual([{ type: 'job.cancelled', jobId: 'j', kind: 'selftest' }]);
    off();
    expect(FakeEventSource.last.closed).toBe(true);
  });
});
