// Downloads against a local stand-in for the Hugging Face Hub (test/helpers/hub-server.ts) that
// serves a copy of the tiny fixture in the Hub's URL layout: the revision API with sha256s,
// HEAD with X-Linked-Etag, LFS redirects to a "CDN" path, and Range requests.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadFile, downloadModel, type ModelProgress } from '../../src-main/engine/models/download.js';
import { fetchFailure, fetchRevisionInfo, headFileInfo, hubEndpoint, resolveUrl } from '../../src-main/engine/models/hub.js';
import { listInstalledModels, readProvenance } from '../../src-main/engine/models/store.js';
import { type Hub, type HubOptions, expectDownloadError, gitSha1, sha256, startHub as startHubServer } from '../helpers/hub-server.js';
import { fixtureModel } from '../helpers/paths.js';

const REPO = 'test/esm2-tiny';
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const LFS = new Set(['model.safetensors']);
const FILES = Object.fromEntries(['config.json', 'model.safetensors', 'vocab.txt'].map((f) => [f, readFileSync(path.join(fixtureModel('tiny'), f))]));

const startHub = (opts: Partial<HubOptions> = {}): Promise<Hub> => startHubServer({ repo: REPO, commit: COMMIT, files: FILES, lfs: LFS, ...opts });

let home: string;
let hub: Hub | undefined;
beforeEach(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'plmw-dl-'));
});
afterEach(async () => {
  await hub?.close();
  hub = undefined;
  rmSync(home, { recursive: true, force: true });
});

const SOURCE = { name: 'tiny', repo: REPO, revision: 'main' };
const dir = () => path.join(home, 'models', 'tiny');
const weights = () => path.join(dir(), 'model.safetensors');

describe('Hub helpers', () => {
  it('builds resolve URLs and picks the endpoint from option, HF_ENDPOINT or the default', () => {
    expect(resolveUrl('https://huggingface.co', 'facebook/esm2_t6_8M_UR50D', 'main', 'model.safetensors')).toBe(
      'https://huggingface.co/facebook/esm2_t6_8M_UR50D/resolve/main/model.safetensors',
    );
    expect(resolveUrl('http://h', 'a/b', 'refs/pr/1', 'x y.json')).toBe('http://h/a/b/resolve/refs%2Fpr%2F1/x%20y.json');
    expect(hubEndpoint(undefined, {})).toBe('https://huggingface.co');
    expect(hubEndpoint(undefined, { HF_ENDPOINT: 'https://hf-mirror.example/' })).toBe('https://hf-mirror.example');
    expect(hubEndpoint('http://127.0.0.1:1/', { HF_ENDPOINT: 'https://other' })).toBe('http://127.0.0.1:1');
  });

  it('classifies fetch failures: DNS/refused -> offline, reset -> interrupted, abort -> cancelled', () => {
    const failed = (code: string) => new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });
    const url = 'https://huggingface.co/api/models/x';
    expect(fetchFailure(failed('ENOTFOUND'), url).code).toBe('offline');
    expect(fetchFailure(failed('EAI_AGAIN'), url).message).toMatch(/^cannot reach https:\/\/huggingface\.co \(EAI_AGAIN\): this machine seems to be offline/);
    const happyEyeballs = new TypeError('fetch failed', { cause: Object.assign(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]), {}) });
    expect(fetchFailure(happyEyeballs, url).code).toBe('offline');
    expect(fetchFailure(failed('UND_ERR_SOCKET'), url).code).toBe('interrupted');
    const ac = new AbortController();
    ac.abort();
    expect(fetchFailure(new DOMException('aborted', 'AbortError'), url, ac.signal).code).toBe('cancelled');
  });

  it('reads sha256 from the revision API and from HEAD X-Linked-Etag', async () => {
    hub = await startHub();
    const info = await fetchRevisionInfo(hub.endpoint, REPO, 'main');
    expect(info.commit).toBe(COMMIT);
    expect(info.files.get('model.safetensors')).toEqual({ name: 'model.safetensors', size: 430832, sha256: sha256(FILES['model.safetensors']) });
    expect(info.files.get('config.json')).toEqual({ name: 'config.json', size: FILES['config.json'].length, gitSha1: gitSha1(FILES['config.json']) });
    expect(await headFileInfo(hub.endpoint, REPO, 'main', 'model.safetensors')).toEqual({
      name: 'model.safetensors',
      size: 430832,
      sha256: sha256(FILES['model.safetensors']),
    });
    expect(await headFileInfo(hub.endpoint, REPO, 'main', 'vocab.txt')).toEqual({ name: 'vocab.txt', size: 94, gitSha1: gitSha1(FILES['vocab.txt']) });
    expect(await headFileInfo(hub.endpoint, REPO, 'main', 'missing.json')).toBeUndefined();
  });
});

describe('downloading a model', () => {
  it('downloads, verifies every file, pins the commit and installs the model', async () => {
    hub = await startHub();
    const progress: ModelProgress[] = [];
    const m = await downloadModel(SOURCE, { endpoint: hub.endpoint, home, onProgress: (p) => progress.push(p) });
    expect(m.status).toBe('ready');
    expect(m.config?.hiddenSize).toBe(64);
    for (const [f, b] of Object.entries(FILES)) expect(readFileSync(path.join(dir(), f)).equals(b)).toBe(true);
    const prov = readProvenance(dir())!;
    expect(prov).toMatchObject({ source: 'huggingface', repo: REPO, revision: 'main', commit: COMMIT, endpoint: hub.endpoint });
    expect(Object.fromEntries(prov.files.map((f) => [f.name, f.verified]))).toEqual({
      'config.json': 'git-sha1',
      'model.safetensors': 'sha256',
      'vocab.txt': 'git-sha1',
    });
    // every file came from the commit the revision resolved to
    const gets = hub.log.filter((l) => l.method === 'GET' && l.path.includes('/resolve/'));
    expect(gets.map((l) => l.path.split('/resolve/')[1].split('/')[0])).toEqual([COMMIT, COMMIT, COMMIT]);
    // progress: per file, monotonic, ends at the total
    const w = progress.filter((p) => p.file === 'model.safetensors');
    expect(w.length).toBeGreaterThan(0);
    expect(w.at(-1)).toMatchObject({ bytesDone: 430832, bytesTotal: 430832, fileIndex: 1, fileCount: 3 });
    for (let i = 1; i < w.length; i++) expect(w[i].bytesDone).toBeGreaterThanOrEqual(w[i - 1].bytesDone);
    const total = Object.values(FILES).reduce((a, b) => a + b.length, 0);
    expect(progress.at(-1)).toMatchObject({ overallDone: total, overallTotal: total });
    expect(progress.every((p) => p.bytesPerSecond >= 0 && Number.isFinite(p.bytesPerSecond))).toBe(true);
    expect(existsSync(`${weights()}.partial`)).toBe(false);
    expect((await listInstalledModels({ home })).map((x) => [x.name, x.status])).toEqual([['tiny', 'ready']]);

    // already installed: no network at all
    hub.log.length = 0;
    expect((await downloadModel(SOURCE, { endpoint: hub.endpoint, home })).status).toBe('ready');
    expect(hub.log).toEqual([]);

    // force: re-checks against the Hub, fetches only what no longer verifies
    writeFileSync(path.join(dir(), 'vocab.txt'), 'damaged');
    expect((await downloadModel(SOURCE, { endpoint: hub.endpoint, home, force: true })).status).toBe('ready');
    expect(hub.log.filter((l) => l.method === 'GET' && !l.path.startsWith('/api/')).map((l) => l.path)).toEqual([`/${REPO}/resolve/${COMMIT}/vocab.txt`]);
    expect(readFileSync(path.join(dir(), 'vocab.txt')).equals(FILES['vocab.txt'])).toBe(true);
  });

  it('resumes an interrupted transfer with a Range request on the next call', async () => {
    hub = await startHub({ dropOnce: 'model.safetensors' });
    const e = await expectDownloadError(downloadModel(SOURCE, { endpoint: hub.endpoint, home, retries: 0 }), 'interrupted');
    expect(e.message).toMatch(/model\.safetensors/);
    expect(existsSync(weights())).toBe(false);
    const kept = statSync(`${weights()}.partial`).size;
    expect(kept).toBe(430832 >> 1);
    expect((await listInstalledModels({ home }))[0].status).toBe('incomplete');

    const m = await downloadModel(SOURCE, { endpoint: hub.endpoint, home, retries: 0 });
    expect(m.status).toBe('ready');
    expect(readFileSync(weights()).equals(FILES['model.safetensors'])).toBe(true);
    expect(hub.log.filter((l) => l.path === '/cdn/model.safetensors').map((l) => l.range)).toEqual([undefined, `bytes=${kept}-`]);
    expect(readProvenance(dir())!.files.find((f) => f.name === 'model.safetensors')?.verified).toBe('sha256');
  });

  it('resumes automatically within one call', async () => {
    hub = await startHub({ dropOnce: 'model.safetensors' });
    const m = await downloadModel(SOURCE, { endpoint: hub.endpoint, home });
    expect(m.status).toBe('ready');
    expect(readFileSync(weights()).equals(FILES['model.safetensors'])).toBe(true);
    expect(hub.log.filter((l) => l.path === '/cdn/model.safetensors').map((l) => l.range)).toEqual([undefined, `bytes=${430832 >> 1}-`]);
  });

  it('starts over when the server ignores the Range request', async () => {
    hub = await startHub({ dropOnce: 'model.safetensors', ignoreRange: true });
    const m = await downloadModel(SOURCE, { endpoint: hub.endpoint, home });
    expect(m.status).toBe('ready');
    expect(readFileSync(weights()).equals(FILES['model.safetensors'])).toBe(true);
  });

  it('cancels on AbortSignal, keeps the .partial, and resumes later', async () => {
    hub = await startHub({ stall: true });
    const ac = new AbortController();
    const p = downloadModel(SOURCE, {
      endpoint: hub.endpoint,
      home,
      signal: ac.signal,
      onProgress: (pr) => {
        if (pr.file === 'model.safetensors' && pr.bytesDone > 0) ac.abort();
      },
    });
    const e = await expectDownloadError(p, 'cancelled');
    expect(e.message).toMatch(/cancelled/);
    expect(existsSync(weights())).toBe(false);
    const kept = statSync(`${weights()}.partial`).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(131072);

    await hub.close();
    hub = await startHub();
    const m = await downloadModel(SOURCE, { endpoint: hub.endpoint, home });
    expect(m.status).toBe('ready');
    expect(readFileSync(weights()).equals(FILES['model.safetensors'])).toBe(true);
    expect(hub.log.find((l) => l.path === '/cdn/model.safetensors')?.range).toBe(`bytes=${kept}-`);
  });

  it('gives up on a stalled transfer after idleTimeoutMs and resumes from where it stopped', async () => {
    hub = await startHub({ stall: true });
    const e = await expectDownloadError(downloadModel(SOURCE, { endpoint: hub.endpoint, home, idleTimeoutMs: 150, retries: 0 }), 'interrupted');
    expect(e.message).toMatch(/stalled for 150 ms at byte 131072/);
    // each attempt gets 128 KiB more, then stalls again: four attempts finish the file
    const m = await downloadModel(SOURCE, { endpoint: hub.endpoint, home, idleTimeoutMs: 150, retries: 3 });
    expect(m.status).toBe('ready');
    expect(readFileSync(weights()).equals(FILES['model.safetensors'])).toBe(true);
    expect(hub.log.filter((l) => l.path === '/cdn/model.safetensors').map((l) => l.range)).toEqual([
      undefined,
      'bytes=131072-',
      'bytes=262144-',
      'bytes=393216-',
    ]);
  });

  it('deletes a file that fails its checksum and installs nothing', async () => {
    hub = await startHub({ corrupt: 'model.safetensors' });
    const e = await expectDownloadError(downloadModel(SOURCE, { endpoint: hub.endpoint, home }), 'checksum');
    expect(e.message).toMatch(/model\.safetensors failed verification \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\); the file was deleted/);
    expect(existsSync(weights())).toBe(false);
    expect(existsSync(`${weights()}.partial`)).toBe(false);
    expect(existsSync(path.join(dir(), 'plmw-model.json'))).toBe(false);
  });

  it('verifies small files by their git blob id', async () => {
    hub = await startHub({ corrupt: 'vocab.txt' });
    const e = await expectDownloadError(downloadModel(SOURCE, { endpoint: hub.endpoint, home }), 'checksum');
    expect(e.message).toMatch(/vocab\.txt failed verification \(git blob sha1/);
    expect(existsSync(path.join(dir(), 'vocab.txt'))).toBe(false);
  });

  it('falls back to HEAD X-Linked-Etag when the revision API is missing', async () => {
    hub = await startHub({ noApi: true });
    const m = await downloadModel(SOURCE, { endpoint: hub.endpoint, home });
    expect(m.status).toBe('ready');
    const prov = readProvenance(dir())!;
    expect(prov.commit).toBeUndefined();
    expect(prov.files.find((f) => f.name === 'model.safetensors')).toMatchObject({ verified: 'sha256', sha256: sha256(FILES['model.safetensors']) });
    expect(hub.log.some((l) => l.method === 'HEAD' && l.path.endsWith('/model.safetensors'))).toBe(true);
  });

  it('the fallback still catches a corrupted transfer', async () => {
    hub = await startHub({ noApi: true, corrupt: 'model.safetensors' });
    await expectDownloadError(downloadModel(SOURCE, { endpoint: hub.endpoint, home }), 'checksum');
    expect(existsSync(weights())).toBe(false);
  });

  it('reports a missing repository', async () => {
    hub = await startHub();
    const e = await expectDownloadError(downloadModel({ name: 'x', repo: 'test/none' }, { endpoint: hub.endpoint, home }), 'not-found');
    expect(e.message).toMatch(/test\/none/);
  });

  it('says the machine is offline when nothing answers, and suggests importing', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const e = await expectDownloadError(downloadModel(SOURCE, { endpoint: `http://127.0.0.1:${port}`, home }), 'offline');
    expect(e.message).toMatch(new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
    expect(e.message).toMatch(/offline, or the endpoint is unreachable/);
    expect(e.message).toMatch(/import a model directory/);
    expect(existsSync(path.join(dir(), 'plmw-model.json'))).toBe(false);
  });

  it('uses HF_ENDPOINT when no endpoint is given', async () => {
    hub = await startHub();
    const saved = process.env.HF_ENDPOINT;
    process.env.HF_ENDPOINT = hub.endpoint;
    try {
      expect((await downloadModel(SOURCE, { home })).status).toBe('ready');
    } finally {
      if (saved === undefined) delete process.env.HF_ENDPOINT;
      else process.env.HF_ENDPOINT = saved;
    }
    expect(hub.log.length).toBeGreaterThan(0);
  });
});

describe('downloadFile', () => {
  it('re-downloads from scratch when a stale partial does not verify', async () => {
    hub = await startHub();
    const dest = path.join(home, 'model.safetensors');
    const good = FILES['model.safetensors'];
    const stale = Buffer.from(good.subarray(0, 1000));
    stale[10] ^= 0xff;
    writeFileSync(`${dest}.partial`, stale);
    const r = await downloadFile({
      url: resolveUrl(hub.endpoint, REPO, 'main', 'model.safetensors'),
      dest,
      expected: { name: 'model.safetensors', size: good.length, sha256: sha256(good) },
    });
    expect(r).toMatchObject({ size: good.length, sha256: sha256(good), verified: 'sha256', resumedFrom: 0 });
    expect(readFileSync(dest).equals(good)).toBe(true);
    expect(hub.log.filter((l) => l.path === '/cdn/model.safetensors').map((l) => l.range)).toEqual(['bytes=1000-', undefined]);
  });

  it('treats an already complete partial as done without a request', async () => {
    hub = await startHub();
    const dest = path.join(home, 'vocab.txt');
    writeFileSync(`${dest}.partial`, FILES['vocab.txt']);
    const r = await downloadFile({
      url: resolveUrl(hub.endpoint, REPO, 'main', 'vocab.txt'),
      dest,
      expected: { name: 'vocab.txt', size: 94, gitSha1: gitSha1(FILES['vocab.txt']) },
    });
    expect(r.verified).toBe('git-sha1');
    expect(hub.log).toEqual([]);
  });
});
