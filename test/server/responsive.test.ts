// Browser mode under load and under hostile requests: a 200 MB FASTA upload is parsed off the
// event loop (health keeps answering), input errors are 400 with the located message, a path
// that is not valid percent-encoding is 400, static files are served by real path only, the
// body limit is stated, and the diagnostic job kind does not exist in normal use.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiService } from '../../src-main/api/service.js';
import { CallWorker } from '../../src-main/engine/jobs/calls.js';
import { JobQueue } from '../../src-main/engine/jobs/queue.js';
import { MAX_BODY_BYTES, startWebServer, type WebServer } from '../../src-main/server/server.js';
import { REPO, fixtureModel } from '../helpers/paths.js';
import { post, request } from './helpers.js';

let tmp: string;
let renderer: string;
let jobs: JobQueue;
let calls: CallWorker;
let server: WebServer;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'plmw-web2-'));
  renderer = path.join(tmp, 'renderer');
  mkdirSync(path.join(renderer, 'assets'), { recursive: true });
  writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>plm-workbench</title>');
  writeFileSync(path.join(renderer, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(path.join(tmp, 'secret.txt'), 'not served');
  symlinkSync(path.join(tmp, 'secret.txt'), path.join(renderer, 'assets', 'leak.js'));
  symlinkSync(path.join(tmp), path.join(renderer, 'up'));
  symlinkSync(path.join(renderer, 'assets', 'app.js'), path.join(renderer, 'assets', 'alias.js'));
  jobs = new JobQueue();
  calls = new CallWorker();
  const service = new ApiService({ front: 'web', jobs, calls, home: tmp, limits: { requestBodyBytes: MAX_BODY_BYTES } });
  server = await startWebServer({ service, rendererDir: renderer });
});
afterAll(async () => {
  await server.close();
  await jobs.close();
  await calls.close();
  rmSync(tmp, { recursive: true, force: true });
});

const auth = () => ({ 'x-plmw-token': server.token });

describe('input errors are 400 with the located message', () => {
  it('fasta.parse: text that is not FASTA, a file with a bad byte, a body that is not UTF-8', async () => {
    const r = await post(server.port, 'fasta.parse', { text: 'hello\n>a\nMK\n' }, server.token);
    expect(r.status).toBe(400);
    expect(r.json()).toEqual({ ok: false, error: { code: 'bad_request', message: "<text>:1:1: text before the first '>' header: not a FASTA file?" } });
    const file = path.join(tmp, 'latin1.fasta');
    writeFileSync(file, Buffer.concat([Buffer.from('>a\nMK\n>b caf'), Buffer.from([0xe9]), Buffer.from('\nAC\n')]));
    const f = await post(server.port, 'fasta.parse', { path: file }, server.token);
    expect(f.status).toBe(400);
    expect(f.json<{ error: { message: string } }>().error.message).toBe(`${file}:3:7: not valid UTF-8: byte 0xE9 at byte offset 12`);
    const bytes = Buffer.concat([Buffer.from('{"text": ">a\\nM'), Buffer.from([0xff]), Buffer.from('K\\n"}')]);
    const b = await rawPost(server.port, 'fasta.parse', bytes);
    expect(b.status).toBe(400);
    expect(JSON.parse(b.body).error.message).toMatch(/^request body:1:16: not valid UTF-8: byte 0xFF at byte offset 15/);
    // a good one still works, through the call worker
    const ok = await post(server.port, 'fasta.parse', { text: '>a\nMKT\n' }, server.token);
    expect(ok.json()).toMatchObject({ ok: true, result: { file: '<text>', records: [{ id: 'a', sequence: 'MKT' }] } });
  });

  it('models.import: a folder whose config.json is broken names the file', async () => {
    const dir = path.join(tmp, 'bad-model');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'config.json'), '{"model_type": "esm", "num_hidden_layers": 300000}');
    const r = await post(server.port, 'models.import', { dir }, server.token);
    expect(r.status).toBe(400);
    expect(r.json<{ error: { code: string; message: string } }>().error).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/config\.json: /) });
    const good = await post(server.port, 'models.import', { dir: fixtureModel('tiny'), name: 'tiny' }, server.token);
    expect(good.status).toBe(200);
    expect(good.json()).toMatchObject({ ok: true, result: { name: 'tiny', status: 'ready' } });
  });
});

describe('paths', () => {
  it('a path that is not valid percent-encoding is 400, not 500', async () => {
    for (const p of ['/api/%E0%A4%A', '/api/%zz', '/api/fasta.parse%']) {
      const r = await request(server.port, { path: p, method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{}' });
      expect(r.status, p).toBe(400);
      expect(r.json(), p).toMatchObject({ ok: false, error: { code: 'bad_request', message: expect.stringMatching(/not valid percent-encoding/) } });
    }
  });

  it('static files are served by real path: a symbolic link out of the renderer folder is not followed', async () => {
    expect((await request(server.port, { path: '/assets/alias.js' })).body).toBe('console.log(1)');
    for (const p of ['/assets/leak.js', '/up/secret.txt']) {
      const r = await request(server.port, { path: p });
      expect(r.body, p).not.toContain('not served');
      expect(r.status, p).toBe(404);
    }
  });
});

describe('limits and kinds', () => {
  it('states its request body limit, and refuses a larger body with it', async () => {
    const h = await request(server.port, { path: '/api/health', headers: auth() });
    expect(h.json()).toMatchObject({ result: { capabilities: { requestBodyBytes: MAX_BODY_BYTES } } });
    const big = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/api/fasta.parse', headers: { host: `127.0.0.1:${server.port}`, ...auth(), 'content-type': 'application/json', 'content-length': MAX_BODY_BYTES + 1 } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body).error.message).toBe(`request body over ${MAX_BODY_BYTES} bytes (the browser mode's limit; give a large file by its path instead)`);
  });

  it('has no selftest job kind in normal use', async () => {
    const h = await request(server.port, { path: '/api/health', headers: auth() });
    expect(h.json<{ result: { jobKinds: string[] } }>().result.jobKinds).not.toContain('selftest');
    const r = await post(server.port, 'selftest', { ms: 10 }, server.token);
    expect(r.status).toBe(404);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
  });
});

describe('the event loop stays free', () => {
  let child: ChildProcess | undefined;
  afterAll(() => void child?.kill('SIGTERM'));

  it('answers /api/health in under 200 ms while a 200 MB FASTA upload is parsed', async () => {
    // `npm run web` itself, in its own process, so the figures are the server's and not this test's.
    child = spawn(process.execPath, ['--import', 'tsx', 'src-main/server/main.ts', '--no-open', '--port', '0', '--renderer', renderer, '--home', tmp], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child!.stdout!.on('data', (c: Buffer) => {
        out += c;
        if (out.includes('\n')) resolve(out);
      });
      child!.on('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const [, port, token] = /:(\d+)\/\?token=([0-9a-f]+)/.exec(line)!.map((x, i) => (i === 1 ? Number(x) : x)) as [string, number, string];
    const body = fastaUploadBody(200 * 1024 * 1024);
    // The health calls come from a process of their own, so that receiving the 200 MB answer here
    // does not delay them: what they measure is the server.
    const pinger = spawn(process.execPath, ['-e', PINGER, String(port), token], { stdio: ['pipe', 'pipe', 'inherit'] });
    let pings = '';
    pinger.stdout!.on('data', (c: Buffer) => (pings += c));
    await new Promise((r) => pinger.stdout!.once('data', r)); // it has answered once: warm
    const t0 = performance.now();
    const res = await rawPost(port, 'fasta.parse', body, token, true);
    const seconds = (performance.now() - t0) / 1000;
    pinger.stdin!.end();
    expect(await new Promise((r) => pinger.once('exit', r)), 'every health call answered 200').toBe(0);
    const latencies = pings.trim().split('\n').slice(1).map(Number);
    expect(res.status).toBe(200);
    expect(res.head).toMatch(/^\{"ok":true,"result":\{"file":"<text>","records":\[\{"id":"seq0"/);
    const worst = Math.max(...latencies);
    console.log(`200 MB FASTA upload answered in ${seconds.toFixed(1)} s (${(res.bytes / 1e6).toFixed(0)} MB back); ${latencies.length} health calls meanwhile, slowest ${worst.toFixed(0)} ms, median ${latencies.sort((a, b) => a - b)[latencies.length >> 1].toFixed(0)} ms`);
    expect(latencies.length).toBeGreaterThanOrEqual(5);
    expect(worst).toBeLessThan(200);
  }, 300_000);
});

/** GET /api/health every 50 ms, one latency (ms) per line, until stdin closes. */
const PINGER = `
const http = require('node:http');
const [port, token] = process.argv.slice(1);
let stop = false;
process.stdin.on('data', () => {}).on('end', () => (stop = true));
(async function loop() {
  while (!stop) {
    const t0 = performance.now();
    await new Promise((resolve, reject) => http.get({ host: '127.0.0.1', port, path: '/api/health', headers: { host: '127.0.0.1:' + port, 'x-plmw-token': token } }, (r) => {
      if (r.statusCode !== 200) reject(new Error('health answered ' + r.statusCode));
      r.resume();
      r.on('end', resolve);
    }).on('error', reject));
    process.stdout.write((performance.now() - t0).toFixed(1) + '\\n');
    await new Promise((r) => setTimeout(r, 50));
  }
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
`;

/** A fasta.parse request of about `bytes` bytes: {"text": "<records, JSON-escaped>"}, unique ids. */
function fastaUploadBody(bytes: number): Buffer {
  const buf = Buffer.allocUnsafe(bytes + 4096);
  let at = buf.write('{"text":"');
  const residues = 'LAGVSERTIDPKQNFYMHWC';
  const line = Array.from({ length: 60 }, (_, k) => residues[(k * 7) % 20]).join('');
  const seq = `${line}\\n`.repeat(16);
  for (let i = 0; at < bytes; i++) at += buf.write(`>seq${i} protein ${i}\\n${seq}`, at);
  at += buf.write('"}', at);
  return buf.subarray(0, at);
}

/** POST raw bytes; keeps only the first KB of the answer (and its length) when `headOnly`. */
function rawPost(port: number, method: string, body: Buffer, token = server.token, headOnly = false): Promise<{ status: number; body: string; head: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: `/api/${method}`, headers: { host: `127.0.0.1:${port}`, 'x-plmw-token': token, 'content-type': 'application/json', 'content-length': body.length } },
      (res) => {
        const kept: Buffer[] = [];
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          if (!headOnly || bytes < 1024) kept.push(c);
          bytes += c.length;
        });
        res.on('end', () => {
          const text = Buffer.concat(kept).toString('utf8');
          resolve({ status: res.statusCode!, body: text, head: text.slice(0, 1024), bytes });
        });
      },
    );
    req.on('error', reject);
    // in pieces, as a browser sends an upload
    let at = 0;
    const pump = () => {
      while (at < body.length) {
        const ok = req.write(body.subarray(at, (at += 1 << 20)));
        if (!ok) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}
