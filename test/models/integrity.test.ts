// A model store that cannot lie: one download of a model at a time (a second one is told who
// holds it, in this process and from another process), the recorded sha256 is that of the file
// on disk, `verify` finds a flipped bit even when the file's time is put back, the listing marks
// the model as changed, and `download --force` repairs it.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { atomicIo } from '../../src-main/engine/atomic.js';
import { downloadModel } from '../../src-main/engine/models/download.js';
import { DownloadError } from '../../src-main/engine/models/hub.js';
import { inspectModel, listInstalledModels, readProvenance, verifyModel } from '../../src-main/engine/models/store.js';
import { REPO as ROOT, fixtureModel } from '../helpers/paths.js';
import { type Hub, type HubOptions, sha256, startHub } from '../helpers/hub-server.js';

const REPO = 'test/esm2-tiny';
const FILES = Object.fromEntries(['config.json', 'model.safetensors', 'vocab.txt'].map((f) => [f, readFileSync(path.join(fixtureModel('tiny'), f))]));

let home: string;
beforeEach(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'plmw-integrity-'));
  onTestFinished(() => rmSync(home, { recursive: true, force: true }));
});

/** The Hub stand-in serving the tiny fixture for one test, closed when the test ends. */
async function serve(o: Partial<HubOptions> = {}): Promise<Hub> {
  const h = await startHub({ repo: REPO, commit: '0123456789abcdef0123456789abcdef01234567', files: FILES, lfs: new Set(['model.safetensors']), ...o });
  onTestFinished(() => h.close());
  return h;
}

const SOURCE = { name: 'tiny', repo: REPO, revision: 'main' };
const realWrite = atomicIo.writeSync;
const dir = () => path.join(home, 'models', 'tiny');
const weights = () => path.join(dir(), 'model.safetensors');

/** Flips one bit of a file in place and puts its modification time back as it was. */
function flipBit(file: string, at: number): void {
  const st = statSync(file);
  const fd = openSync(file, 'r+');
  const b = readFileSync(file)[at] ^ 0x10;
  writeSync(fd, Uint8Array.of(b), 0, 1, at);
  closeSync(fd);
  utimesSync(file, st.atime, st.mtime);
}

/** `plmw` as a child process (async: the Hub stand-in runs in this process). */
function plmw(args: string[]): { done: Promise<{ code: number | null; stderr: string; stdout: string }>; kill: (s: NodeJS.Signals) => void; pid: number } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', ...args], { cwd: ROOT, env: { ...process.env, PLMW_HOME: home } });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => (stdout += d));
  return { done: new Promise((r) => child.on('exit', (code) => r({ code, stderr, stdout }))), kill: (s) => child.kill(s), pid: child.pid! };
}

async function until(f: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('one download of a model at a time', () => {
  it('refuses a second download in the same process, naming the holder, and leaves the first one correct', async () => {
    const hub = await serve({ trickleMs: 5 });
    const first = downloadModel(SOURCE, { endpoint: hub.endpoint, home });
    await until(() => existsSync(`${weights()}.partial`));
    let second: unknown;
    try {
      await downloadModel(SOURCE, { endpoint: hub.endpoint, home });
    } catch (e) {
      second = e;
    }
    expect(second).toBeInstanceOf(DownloadError);
    expect((second as DownloadError).code).toBe('busy');
    expect((second as Error).message).toContain(`process ${process.pid} on ${os.hostname()}`);
    const m = await first;
    expect(m.status).toBe('ready');
    expect(readFileSync(weights()).equals(FILES['model.safetensors'])).toBe(true);
    // the lock is gone once the download ends; nothing else is left beside the model
    expect(readdirSync(path.join(home, 'models'))).toEqual(['tiny']);
    expect(readdirSync(dir()).sort()).toEqual(['config.json', 'model.safetensors', 'plmw-model.json', 'vocab.txt']);
  });

  it('refuses a second plmw process while one downloads; after SIGTERM ends the first, the next download resumes and verifies', async () => {
    // The CLI downloads registry names: the stand-in serves the tiny fixture under esm2_t6_8M_UR50D's repository.
    let hub = await serve({ stall: true, repo: 'facebook/esm2_t6_8M_UR50D' }); // the first download holds on
    const modelDir = path.join(home, 'models', 'esm2_t6_8M_UR50D');
    const first = plmw(['models', 'download', 'esm2_t6_8M_UR50D', '--endpoint', hub.endpoint]);
    const partial = path.join(modelDir, 'model.safetensors.partial');
    await until(() => existsSync(partial) && statSync(partial).size === 131072); // all the stand-in sends before it stalls
    const second = await plmw(['models', 'download', 'esm2_t6_8M_UR50D', '--endpoint', hub.endpoint]).done;
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`model 'esm2_t6_8M_UR50D' is being downloaded or imported by a download of 'esm2_t6_8M_UR50D' \\(process ${first.pid} on `));
    expect(second.stderr).not.toMatch(/\n\s+at /); // one line, no stack
    first.kill('SIGTERM');
    expect((await first.done).code).toBe(143);
    // SIGTERM released the lock (no stale-lock note needed) and kept the .partial for a resume
    expect(existsSync(path.join(home, 'models', '.esm2_t6_8M_UR50D.lock'))).toBe(false);
    expect(existsSync(path.join(modelDir, 'model.safetensors.partial'))).toBe(true);
    await hub.close();
    hub = await serve({ repo: 'facebook/esm2_t6_8M_UR50D' });
    const third = await plmw(['models', 'download', 'esm2_t6_8M_UR50D', '--endpoint', hub.endpoint]).done;
    expect(third.code, third.stderr).toBe(0);
    expect(readFileSync(path.join(modelDir, 'model.safetensors')).equals(FILES['model.safetensors'])).toBe(true);
    expect(hub.log.find((l) => l.path === '/cdn/model.safetensors')?.range).toBe('bytes=131072-');
  });
});

describe('checksums of what is on disk', () => {
  it('does not install a file that changed on disk while it was being downloaded, although every byte received was right', async () => {
    const hub = await serve({ trickleMs: 2 });
    let tampered = false;
    let err: unknown;
    try {
      await downloadModel(SOURCE, {
        endpoint: hub.endpoint, home, retries: 0,
        onProgress: (p) => {
          // another writer damages the part already written (what a shared .partial allowed)
          if (!tampered && p.file === 'model.safetensors' && p.bytesDone > 200_000) {
            flipBit(`${weights()}.partial`, 1000);
            tampered = true;
          }
        },
      });
    } catch (e) {
      err = e;
    }
    expect(tampered).toBe(true);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as DownloadError).code).toBe('checksum');
    expect(existsSync(weights())).toBe(false);
    expect(inspectModel(dir()).status).toBe('incomplete');
  });

  it('records the sha256, size and time of each installed file as it is on disk', async () => {
    const hub = await serve();
    await downloadModel(SOURCE, { endpoint: hub.endpoint, home });
    for (const f of readProvenance(dir())!.files) {
      const p = path.join(dir(), f.name);
      expect(f).toMatchObject({ size: statSync(p).size, sha256: sha256(readFileSync(p)), mtimeMs: statSync(p).mtimeMs });
    }
  });
});

describe('a full disk during a download', () => {
  afterEach(() => {
    atomicIo.writeSync = realWrite;
  });

  it('stops with the .partial named and its size, keeps it, and resumes from it once there is room', async () => {
    const hub = await serve();
    let left = 100_000;
    atomicIo.writeSync = (fd, buf, off, len, pos) => {
      if (left <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      const n = Math.min(len, left, 4096); // short writes on the way
      left -= n;
      return realWrite(fd, buf, off, n, pos);
    };
    const partial = `${weights()}.partial`;
    await expect(downloadModel(SOURCE, { endpoint: hub.endpoint, home })).rejects.toThrow(
      `${partial}: cannot write: no space left on device (${FILES['model.safetensors'].length} bytes needed) [ENOSPC]`,
    );
    expect(statSync(partial).size).toBeGreaterThan(0);
    expect(existsSync(`${partial}.lock`)).toBe(false);
    expect(existsSync(path.join(home, 'models', '.tiny.lock'))).toBe(false);
    atomicIo.writeSync = realWrite;
    const kept = statSync(partial).size;
    expect((await downloadModel(SOURCE, { endpoint: hub.endpoint, home })).status).toBe('ready');
    expect(readFileSync(weights()).equals(FILES['model.safetensors'])).toBe(true);
    expect(hub.log.filter((l) => l.path === '/cdn/model.safetensors').map((l) => l.range)).toEqual([undefined, `bytes=${kept}-`]);
  });
});

describe('verify and repair', () => {
  it('finds a flipped bit with the time put back, lists the model as changed until --force re-fetches it', async () => {
    const hub = await serve();
    await downloadModel(SOURCE, { endpoint: hub.endpoint, home });
    flipBit(weights(), 300_000);
    // size and time as recorded: only reading the bytes can tell
    expect(inspectModel(dir()).status).toBe('ready');
    const v = await verifyModel('tiny', { home });
    expect(v.files.find((f) => f.name === 'model.safetensors')).toMatchObject({ status: 'changed', expected: sha256(FILES['model.safetensors']) });
    expect(v.files.filter((f) => f.status === 'ok').map((f) => f.name).sort()).toEqual(['config.json', 'vocab.txt']);
    expect(v.model.status).toBe('changed');
    // the Models view lists what models.list returns: the mark stays
    const listed = (await listInstalledModels({ home }))[0];
    expect(listed.status).toBe('changed');
    expect(listed.problem).toMatch(/model\.safetensors has changed \(sha256 [0-9a-f]{12}…, installed [0-9a-f]{12}…\)/);

    hub.log.length = 0;
    const repaired = await downloadModel(SOURCE, { endpoint: hub.endpoint, home, force: true });
    expect(repaired.status).toBe('ready');
    expect(readFileSync(weights()).equals(FILES['model.safetensors'])).toBe(true);
    expect(hub.log.filter((l) => l.method === 'GET' && l.path.startsWith('/cdn/')).map((l) => l.path)).toEqual(['/cdn/model.safetensors']);
    expect((await verifyModel('tiny', { home })).model.status).toBe('ready');
  });

  it('marks a file whose time changed, and clears the mark when verify finds the same bytes', async () => {
    const hub = await serve();
    await downloadModel(SOURCE, { endpoint: hub.endpoint, home });
    const later = new Date(Date.now() + 60_000);
    utimesSync(weights(), later, later);
    const m = inspectModel(dir());
    expect(m.status).toBe('changed');
    expect(m.problem).toMatch(/model\.safetensors was modified after it was installed; check it with `plmw models verify tiny`/);
    expect((await verifyModel('tiny', { home })).model.status).toBe('ready');
    expect(inspectModel(dir()).status).toBe('ready');
  });

  it('plmw models verify: exit 1 and the changed file named, exit 0 after plmw models download --force', async () => {
    const hub = await serve({ repo: 'facebook/esm2_t6_8M_UR50D' });
    expect((await plmw(['models', 'download', 'esm2_t6_8M_UR50D', '--endpoint', hub.endpoint]).done).code).toBe(0);
    const file = path.join(home, 'models', 'esm2_t6_8M_UR50D', 'model.safetensors');
    flipBit(file, 4096);
    const bad = await plmw(['models', 'verify']).done;
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/esm2_t6_8M_UR50D\/model\.safetensors: changed/);
    expect(bad.stdout).toMatch(/esm2_t6_8M_UR50D\/config\.json: ok/);
    expect((await plmw(['models', 'list']).done).stdout).toMatch(/esm2_t6_8M_UR50D +changed: model\.safetensors has changed/);
    const forced = await plmw(['models', 'download', 'esm2_t6_8M_UR50D', '--force', '--endpoint', hub.endpoint]).done;
    expect(forced.code, forced.stderr).toBe(0);
    const good = await plmw(['models', 'verify', 'esm2_t6_8M_UR50D']).done;
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/esm2_t6_8M_UR50D: ready/);
  });
});
