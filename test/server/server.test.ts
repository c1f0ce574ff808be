import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiService } from '../../src-main/api/service.js';
import { JobQueue } from '../../src-main/engine/jobs/queue.js';
import { startWebServer, type WebServer } from '../../src-main/server/server.js';
import { CONTENT_SECURITY_POLICY } from '../../src-main/shell/window-policy.js';
import { REPO } from '../helpers/paths.js';
import { events, post, request } from './helpers.js';

let tmp: string;
let renderer: string;
let jobs: JobQueue;
let server: WebServer;
let port: number;
let token: string;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'plmw-web-'));
  renderer = path.join(tmp, 'renderer');
  mkdirSync(path.join(renderer, 'assets'), { recursive: true });
  writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>plm-workbench</title>');
  writeFileSync(path.join(renderer, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(path.join(tmp, 'secret.txt'), 'not served');
  jobs = new JobQueue({ diagnostics: true });
  const service = new ApiService({ front: 'web', jobs, home: tmp });
  server = await startWebServer({ service, rendererDir: renderer });
  port = server.port;
  token = server.token;
});
afterAll(async () => {
  await server.close();
  await jobs.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('session token', () => {
  it('is 32 random bytes in hex, and the server listens on 127.0.0.1', () => {
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(server.url).toBe(`http://127.0.0.1:${port}/`);
  });

  it('refuses API requests without it or with a wrong one (401), accepts it in either header (200)', async () => {
    expect((await request(port, { path: '/api/health' })).status).toBe(401);
    expect((await request(port, { path: '/api/health', headers: { authorization: `Bearer ${'0'.repeat(64)}` } })).status).toBe(401);
    expect((await request(port, { path: '/api/health', headers: { 'x-plmw-token': token.slice(0, 63) } })).status).toBe(401);
    const noToken = await request(port, { method: 'POST', path: '/api/runs.list', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(noToken.status).toBe(401);
    expect(noToken.json()).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    // The query token is for the event stream only (EventSource cannot send headers).
    expect((await request(port, { path: `/api/health?token=${token}` })).status).toBe(401);
    expect((await request(port, { path: `/api/events?token=wrong` })).status).toBe(401);

    const ok = await request(port, { path: '/api/health', headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({ ok: true, result: { status: 'ok', front: 'web', capabilities: { nativeDialogs: false } } });
    expect((await request(port, { path: '/api/health', headers: { 'x-plmw-token': token } })).status).toBe(200);
  });
});

describe('DNS rebinding and cross-origin defences', () => {
  const auth = () => ({ 'x-plmw-token': token });
  it('refuses a Host other than 127.0.0.1:PORT or localhost:PORT', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`, `127.0.0.1`, `127.0.0.1:${port}.evil.example`]) {
      const r = await request(port, { path: '/api/health', headers: { ...auth(), host } });
      expect(r.status, host).toBe(403);
    }
    expect((await request(port, { path: '/', headers: { host: `rebind.attacker.test:${port}` } })).status).toBe(403);
    // No Host header at all (HTTP/1.0).
    const raw = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.end(`GET /api/health HTTP/1.0\r\nX-Plmw-Token: ${token}\r\n\r\n`));
      let d = '';
      s.on('data', (c) => (d += c));
      s.on('end', () => resolve(d));
    });
    expect(raw).toMatch(/^HTTP\/1\.[01] 403/);
    expect((await request(port, { path: '/api/health', headers: { ...auth(), host: `localhost:${port}` } })).status).toBe(200);
  });

  it('refuses cross-origin requests, even with the token', async () => {
    const r = await request(port, { path: '/api/health', headers: { ...auth(), origin: 'http://evil.example' } });
    expect(r.status).toBe(403);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect((await request(port, { path: '/api/health', headers: { ...auth(), origin: `http://127.0.0.1:${port + 1}` } })).status).toBe(403);
    expect((await request(port, { path: '/api/health', headers: { ...auth(), 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    expect((await request(port, { path: '/api/health', headers: { ...auth(), origin: `http://127.0.0.1:${port}` } })).status).toBe(200);
  });

  it('accepts only JSON bodies on POST', async () => {
    const r = await request(port, { method: 'POST', path: '/api/runs.list', headers: { ...auth(), 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
    expect(r.status).toBe(415);
    const bad = await request(port, { method: 'POST', path: '/api/runs.list', headers: { ...auth(), 'content-type': 'application/json' }, body: '{nope' });
    expect(bad.status).toBe(400);
  });
});

describe('the API over HTTP', () => {
  it('answers with the contract envelope and names the bad field', async () => {
    const r = await post(port, 'runs.list', {}, token);
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ ok: true, result: { root: path.join(tmp, 'runs'), runs: [] } });
    const bad = await post(port, 'runs.rename', { id: 'x', name: 5 }, token);
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual({ ok: false, error: { code: 'bad_request', message: 'name: must be a string, got 5', field: 'name' } });
    const missing = await post(port, 'runs.get', { id: 'nope' }, token);
    expect(missing.status).toBe(404);
    expect((await post(port, 'no.such', {}, token)).json()).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    const dialog = await post(port, 'dialog.open', { kind: 'fasta' }, token);
    expect(dialog.status).toBe(501);
    expect(dialog.json()).toMatchObject({ error: { code: 'unsupported' } });
  });

  it('streams job events over SSE', async () => {
    const sse = await events(port, token);
    expect(sse.status).toBe(200);
    const started = await post(port, 'selftest', { ms: 300, steps: 6 }, token);
    expect(started.status).toBe(200);
    const { jobId } = started.json<{ result: { jobId: string } }>().result;
    const done = await sse.until((e) => e.type === 'job.done' && e.jobId === jobId);
    expect(done).toMatchObject({ type: 'job.done', kind: 'selftest', result: { ms: 300, steps: 6 } });
    const types = sse.events.filter((e) => ('jobId' in e ? e.jobId : 'job' in e ? e.job.id : '') === jobId).map((e) => e.type);
    expect(types[0]).toBe('job.queued');
    expect(types).toContain('job.progress');
    const progress = sse.events.find((e) => e.type === 'job.progress')!;
    expect(Object.keys(progress).sort()).toEqual(['done', 'etaSeconds', 'jobId', 'kind', 'phase', 'rate', 'rateUnit', 'total', 'type']);
    const list = (await post(port, 'jobs.list', {}, token)).json<{ result: { jobs: { id: string; state: string }[] } }>();
    expect(list.result.jobs.find((j) => j.id === jobId)?.state).toBe('done');
    sse.close();
  });
});

describe('static files', () => {
  it('serves the renderer with the CSP, and nothing outside it', async () => {
    const page = await request(port, { path: '/' });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>plm-workbench</title>');
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const js = await request(port, { path: '/assets/app.js' });
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const r = await request(port, { path: p });
      expect(r.body, p).not.toContain('not served');
    }
    expect((await request(port, { path: '/missing.js' })).status).toBe(404);
    expect((await request(port, { path: '/runs/compare' })).body).toContain('<title>'); // client-side route
  });
});

describe('npm run web', () => {
  it('prints exactly one line with the address and token, then serves the API', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src-main/server/main.ts', '--no-open', '--port', '0', '--renderer', renderer, '--home', tmp], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PLMW_DIAGNOSTICS: '1' },
    });
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => (out += c));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no address line')), 30_000);
      child.stdout!.on('data', () => out.includes('\n') && (clearTimeout(t), resolve()));
      child.on('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const m = /^plm-workbench listening on http:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]{64})\n$/.exec(out);
    expect(m, out).not.toBeNull();
    const [p, t] = [Number(m![1]), m![2]];
    expect((await request(p, { path: '/api/health' })).status).toBe(401);
    expect((await request(p, { path: '/api/health', headers: { 'x-plmw-token': t } })).status).toBe(200);
    const job = (await post(p, 'selftest', { ms: 50 }, t)).json<{ result: { jobId: string } }>().result.jobId;
    for (let i = 0; i < 100; i++) {
      const jobsNow = (await post(p, 'jobs.list', {}, t)).json<{ result: { jobs: { id: string; state: string }[] } }>().result.jobs;
      if (jobsNow.find((j) => j.id === job)?.state === 'done') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    expect(out.split('\n').filter(Boolean)).toHaveLength(1);
  });
});
