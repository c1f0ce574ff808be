// Importing an adapter from a Hub repository id, against a local stand-in for the Hugging Face
// Hub (test/helpers/hub-server.ts) serving a PEFT fixture: the model downloader's resume,
// checksum check, cancel and progress, then the same run as from the folder; and an export's
// base_model_name_or_path is the Hub id of a model that came from the Hub.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadModel } from '../../src-main/engine/models/download.js';
import { importLocalModel } from '../../src-main/engine/models/store.js';
import { importPeftRun } from '../../src-main/engine/runs/import-peft.js';
import { listRuns } from '../../src-main/engine/runs/store.js';
import { readSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { ssTask } from '../../src-main/engine/tasks/secondary-structure/task.js';
import { TRAINER_DEFAULTS, train } from '../../src-main/engine/train/trainer.js';
import { type Hub, type HubOptions, expectDownloadError, startHub } from '../helpers/hub-server.js';
import { REPO, fixtureModel } from '../helpers/paths.js';
import { ssSubset } from '../helpers/ss-data.js';
import { peftFixture } from './helpers.js';

const ADAPTER_REPO = 'someone/esm2-tiny-lora-qv';
const COMMIT = 'fedcba9876543210fedcba9876543210fedcba98';
const FIXTURE = peftFixture('lora-qv-tokencls');
const FILES = Object.fromEntries(['adapter_config.json', 'adapter_model.safetensors', 'README.md'].map((f) => [f, readFileSync(path.join(FIXTURE, f))]));

let home: string;
let root: string;
let hub: Hub | undefined;
const serve = async (o: Partial<HubOptions> = {}) => (hub = await startHub({ repo: ADAPTER_REPO, commit: COMMIT, files: FILES, lfs: new Set(['adapter_model.safetensors']), ...o }));
beforeEach(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'plmw-peft-hub-'));
  root = path.join(home, 'runs');
  await importLocalModel(fixtureModel('tiny'), { home, name: 'esm2-tiny-random', mode: 'copy' });
});
afterEach(async () => {
  await hub?.close();
  hub = undefined;
  rmSync(home, { recursive: true, force: true });
});

const downloaded = () => path.join(home, 'adapters', 'someone', 'esm2-tiny-lora-qv');
const sameTensors = (runDir: string) => {
  const mine = readSafetensors(path.join(runDir, 'checkpoints', 'best.safetensors'));
  const theirs = readSafetensors(path.join(FIXTURE, 'adapter_model.safetensors'));
  expect(mine.tensors.get('lora.1.value.B')!.toFloat32()).toEqual(theirs.tensors.get('base_model.model.esm.encoder.layer.1.attention.self.value.lora_B.weight')!.toFloat32());
  expect(mine.tensors.get('head.weight')!.toFloat32()).toEqual(theirs.tensors.get('base_model.model.classifier.weight')!.toFloat32());
};

describe('runs import-peft from a Hub repository', () => {
  it('downloads the verified files, pins the commit, reports progress and makes the run', async () => {
    await serve();
    const progress: { phase: string; done: number; total: number }[] = [];
    const r = await importPeftRun(ADAPTER_REPO, { root, home, endpoint: hub!.endpoint, onProgress: (p) => progress.push(p) });
    expect(r.record.imported).toMatchObject({ source: ADAPTER_REPO, hub: { repo: ADAPTER_REPO, revision: 'main', commit: COMMIT, endpoint: hub!.endpoint }, peftType: 'LORA' });
    expect(r.record.model.name).toBe('esm2-tiny-random');
    sameTensors(r.dir);
    const total = FILES['adapter_config.json'].length + FILES['adapter_model.safetensors'].length + FILES['README.md'].length;
    expect(progress.filter((p) => p.phase === 'downloading').at(-1)).toMatchObject({ done: total, total });
    expect(progress.map((p) => p.phase)).toContain('writing');
    // every file was asked for at the pinned commit
    expect(hub!.log.filter((l) => l.path.includes('/resolve/')).every((l) => l.path.includes(`/resolve/${COMMIT}/`))).toBe(true);
    expect(readdirSync(path.join(r.dir, 'adapter')).sort()).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors']);
  });

  it('resumes a dropped transfer where it stopped; nothing is listed until the import is complete', async () => {
    await serve({ dropOnce: 'adapter_model.safetensors' });
    await expectDownloadError(importPeftRun(ADAPTER_REPO, { root, home, endpoint: hub!.endpoint, retries: 0 }), 'interrupted');
    // what arrived before the connection dropped (at most the half the server sent)
    const kept = statSync(path.join(downloaded(), 'adapter_model.safetensors.partial')).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(FILES['adapter_model.safetensors'].length >> 1);
    expect(await listRuns(root)).toEqual([]);
    const r = await importPeftRun(ADAPTER_REPO, { root, home, endpoint: hub!.endpoint });
    const ranges = hub!.log.filter((l) => l.range && l.path.startsWith('/cdn/')).map((l) => l.range);
    expect(ranges).toEqual([`bytes=${kept}-`]);
    sameTensors(r.dir);
  });

  it('is cancelled by its signal mid-transfer, keeps the partial file, and resumes next time', async () => {
    await serve({ stall: true, stallAt: 4096 });
    const ctrl = new AbortController();
    const p = importPeftRun(ADAPTER_REPO, { root, home, endpoint: hub!.endpoint, signal: ctrl.signal, onProgress: (x) => x.file === 'adapter_model.safetensors' && x.done > 0 && ctrl.abort() });
    await expectDownloadError(p, 'cancelled');
    expect(await listRuns(root)).toEqual([]);
    const kept = statSync(path.join(downloaded(), 'adapter_model.safetensors.partial')).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(4096);
    await hub!.close();
    await serve();
    const r = await importPeftRun(ADAPTER_REPO, { root, home, endpoint: hub!.endpoint });
    expect(hub!.log.filter((l) => l.path.startsWith('/cdn/')).map((l) => l.range)).toEqual([`bytes=${kept}-`]);
    sameTensors(r.dir);
  });

  it('refuses a file that does not match the published checksum and deletes it', async () => {
    await serve({ corrupt: 'adapter_model.safetensors' });
    const e = await expectDownloadError(importPeftRun(ADAPTER_REPO, { root, home, endpoint: hub!.endpoint }), 'checksum');
    expect(e.message).toMatch(/adapter_model\.safetensors failed verification \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\); the file was deleted/);
    expect(existsSync(path.join(downloaded(), 'adapter_model.safetensors'))).toBe(false);
    expect(existsSync(path.join(downloaded(), 'adapter_model.safetensors.partial'))).toBe(false);
    expect(await listRuns(root)).toEqual([]);
  });

  it('works from the CLI: plmw runs import-peft OWNER/NAME --endpoint URL', async () => {
    await serve();
    const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const c = spawn(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', 'runs', 'import-peft', ADAPTER_REPO, '--endpoint', hub!.endpoint, '--task', 'ss3', '--name', 'from the hub'], { cwd: REPO, env: { ...process.env, PLMW_HOME: home } });
      let out = '';
      let err = '';
      c.stdout.on('data', (d) => (out += d));
      c.stderr.on('data', (d) => (err += d));
      c.on('close', (code) => resolve({ code, out, err }));
    });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/imported someone\/esm2-tiny-lora-qv as run peft-from-the-hub \(task ss-ss3, method lora\)/);
    sameTensors(path.join(root, 'peft-from-the-hub'));
  });

  it('an export names the model by its Hub id when it was downloaded from the Hub', async () => {
    const modelRepo = 'test/esm2-tiny';
    const modelFiles = Object.fromEntries(['config.json', 'model.safetensors', 'vocab.txt'].map((f) => [f, readFileSync(path.join(fixtureModel('tiny'), f))]));
    hub = await startHub({ repo: modelRepo, commit: COMMIT, files: modelFiles, lfs: new Set(['model.safetensors']) });
    const m = await downloadModel({ name: 'tiny-from-hub', repo: modelRepo }, { endpoint: hub.endpoint, home });
    const data = { train: await ssSubset('CB433.txt', 4), val: await ssSubset('CASP12.txt', 2, 100) };
    const runDir = path.join(home, 'trained');
    await train(runDir, { ...TRAINER_DEFAULTS, model: m.dir, task: 'ss-ss8', method: 'lora', methodOptions: { r: 2, targets: ['query'] }, epochs: 1, batchSize: 4, providers: ['cpu'], threads: 1 }, ssTask('ss8'), data);
    const cfg = JSON.parse(readFileSync(path.join(runDir, 'adapter', 'adapter_config.json'), 'utf8')) as { base_model_name_or_path: string };
    expect(cfg.base_model_name_or_path).toBe(modelRepo);
  });
});
