// One writer per run and checkpoints that are checked: a second trainer on a live run is
// refused by name, a stale lock is taken over with a note, a damaged newest checkpoint is passed
// over for the previous one (its later metrics rows trimmed, the end identical to a straight
// run), and a run with no intact checkpoint refuses to resume instead of starting again.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LockHeldError } from '../../src-main/engine/lock.js';
import { ssTask } from '../../src-main/engine/tasks/secondary-structure/task.js';
import { NoUsableCheckpointError } from '../../src-main/engine/train/checkpoint.js';
import { RunDir } from '../../src-main/engine/train/run-dir.js';
import { type LabelledSequence, RUN_LOCK, type TrainerConfig, train } from '../../src-main/engine/train/trainer.js';
import { REPO } from '../helpers/paths.js';
import { ssSubset } from '../helpers/ss-data.js';
import { TINY, tinyLora, withoutTiming, writeSsFile } from '../helpers/train-files.js';
import { testDir } from '../helpers/scratch.js';

const task = ssTask('ss8');
const tmp = (p: string) => testDir(`plmw-${p}`);

let data: { train: LabelledSequence[]; val: LabelledSequence[] };
beforeAll(async () => {
  data = { train: await ssSubset('CB433.txt', 24), val: await ssSubset('CASP12.txt', 6, 200) };
});

const config = (over: Partial<TrainerConfig> = {}): TrainerConfig => tinyLora({ batchSize: 4, checkpointEvery: 2, logEvery: 1, ...over });

/** Trains until `rows` metrics rows are written, then cancels (the run stays resumable). */
async function trainUntil(dir: string, rows: number): Promise<void> {
  const ctrl = new AbortController();
  let n = 0;
  await expect(train(dir, config(), task, data, { signal: ctrl.signal, onMetrics: () => ++n >= rows && ctrl.abort() })).rejects.toThrow(/cancelled/);
}

function flipByte(file: string, at: number): void {
  const b = readFileSync(file);
  const fd = openSync(file, 'r+');
  writeSync(fd, Uint8Array.of(b[at] ^ 0xff), 0, 1, at);
  closeSync(fd);
}

const record = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8'));

describe('checkpoints that are checked', () => {
  it('keeps the last two with their sha256 in run.json, and passes over a damaged newest one with a warning', async () => {
    const straight = tmp('straight');
    await train(straight, config(), task, data);

    const dir = tmp('damaged');
    await trainUntil(dir, 11);
    const rec = record(dir);
    expect(rec.checkpoints).toHaveLength(2);
    for (const c of rec.checkpoints) expect(c).toMatchObject({ file: expect.stringMatching(/^checkpoints\/step-\d{8}\.safetensors$/), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(rec.checkpoints[0].step).toBeGreaterThan(rec.checkpoints[1].step);
    // only the two recorded step files (and best) are on disk
    expect(readdirSync(path.join(dir, 'checkpoints')).sort()).toEqual(['best.safetensors', ...rec.checkpoints.map((c: { file: string }) => path.basename(c.file))].sort());
    expect(rec.bestCheckpoint.sha256).toMatch(/^[0-9a-f]{64}$/);

    const newest = path.join(dir, rec.checkpoints[0].file);
    flipByte(newest, readFileSync(newest).length - 3);
    const rowsBefore = new RunDir(dir).readMetrics().length;
    const notes: string[] = [];
    const done = await train(dir, config(), task, data, { onNote: (m) => notes.push(m) });
    expect(done.status).toBe('completed');
    const warning = notes.find((n) => n.startsWith('warning:'))!;
    expect(warning).toContain(newest);
    expect(warning).toMatch(/is damaged \(sha256 [0-9a-f]{12}…, run\.json recorded [0-9a-f]{12}…\); resuming from the previous checkpoint/);
    expect(warning).toContain(path.join(dir, rec.checkpoints[1].file));
    const dropped = rowsBefore - rec.checkpoints[1].metricsLines;
    expect(dropped).toBeGreaterThan(0);
    expect(notes).toContain(`resuming from ${path.join(dir, rec.checkpoints[1].file)} (epoch ${rec.checkpoints[1].epoch + 1}, step ${rec.checkpoints[1].step}); ${dropped} metrics row(s) written after it removed from ${path.join(dir, 'metrics.jsonl')}`);
    // the replay from the older checkpoint ends exactly where a straight run ends
    expect(withoutTiming(path.join(dir, 'metrics.jsonl'))).toEqual(withoutTiming(path.join(straight, 'metrics.jsonl')));
    expect(record(dir).final).toEqual(record(straight).final);
  });

  it('refuses to resume when no recorded checkpoint is intact, and changes nothing', async () => {
    const dir = tmp('none-good');
    await trainUntil(dir, 11);
    const rec = record(dir);
    for (const c of rec.checkpoints) flipByte(path.join(dir, c.file), 100);
    const metrics = readFileSync(path.join(dir, 'metrics.jsonl'));
    let err: unknown;
    try {
      await train(dir, config(), task, data);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NoUsableCheckpointError);
    expect((err as Error).message).toMatch(/no intact checkpoint to resume from/);
    for (const c of rec.checkpoints) expect((err as Error).message).toContain(path.join(dir, c.file));
    expect(readFileSync(path.join(dir, 'metrics.jsonl')).equals(metrics)).toBe(true);
    expect(record(dir)).toEqual(rec);
    expect(existsSync(path.join(dir, RUN_LOCK))).toBe(false);
  });

  it('says so when a run stopped before its first checkpoint starts again from the beginning', async () => {
    const dir = tmp('early');
    const ctrl = new AbortController();
    await expect(train(dir, config({ checkpointEvery: 0 }), task, data, { signal: ctrl.signal, onMetrics: () => ctrl.abort() })).rejects.toThrow(/cancelled/);
    expect(new RunDir(dir).readMetrics()).toHaveLength(1);
    const notes: string[] = [];
    await train(dir, config({ checkpointEvery: 0 }), task, data, { onNote: (m) => notes.push(m) });
    expect(notes).toContain(`no checkpoint was written before the run stopped: starting it from the beginning; 1 metrics row(s) removed from ${path.join(dir, 'metrics.jsonl')}`);
  });
});

describe('one writer per run', () => {
  const lockFile = (dir: string) => path.join(dir, RUN_LOCK);
  const writeLock = (dir: string, holder: Record<string, unknown>) =>
    writeFileSync(lockFile(dir), JSON.stringify({ startedAt: new Date().toISOString(), heartbeatAt: new Date().toISOString(), purpose: 'a trainer', token: 'x', ...holder }));

  it('takes over the lock of a dead process on this host, with a note', async () => {
    const dir = tmp('stale');
    writeLock(dir, { pid: 999_999_999, host: os.hostname() });
    const notes: string[] = [];
    const r = await train(dir, config({ epochs: 1 }), task, data, { onNote: (m) => notes.push(m) });
    expect(r.status).toBe('completed');
    expect(notes[0]).toMatch(new RegExp(`^took over the lock of .* from a trainer \\(process 999999999 on ${os.hostname()}, since .*\\): process 999999999 is no longer running$`));
    expect(existsSync(lockFile(dir))).toBe(false);
  });

  it('refuses a lock held from another host with a fresh heartbeat, takes one whose heartbeat is stale', async () => {
    const dir = tmp('foreign');
    writeLock(dir, { pid: 1, host: 'node-17.cluster' });
    await expect(train(dir, config({ epochs: 1 }), task, data)).rejects.toThrow(LockHeldError);
    await expect(train(dir, config({ epochs: 1 }), task, data)).rejects.toThrow(/is in use by a trainer \(process 1 on node-17\.cluster, since /);
    writeLock(dir, { pid: 1, host: 'node-17.cluster', heartbeatAt: new Date(Date.now() - 3 * 60_000).toISOString() });
    const notes: string[] = [];
    expect((await train(dir, config({ epochs: 1 }), task, data, { onNote: (m) => notes.push(m) })).status).toBe('completed');
    expect(notes[0]).toMatch(/held on node-17\.cluster and its last heartbeat is 1[89]\d s old$/);
  });

  it('refuses a second plmw train on a live run, naming the holder; the first run ends with exactly its own rows', async () => {
    const dir = tmp('two');
    const files = { train: path.join(dir, 'train.txt'), val: path.join(dir, 'val.txt') };
    writeSsFile(files.train, data.train);
    writeSsFile(files.val, data.val);
    const out = path.join(dir, 'run');
    const plmw = () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', 'train', '--model', TINY, '--task', 'ss', '--train', files.train, '--val', files.val,
        '--method', 'lora', '--r', '4', '--epochs', '1000', '--patience', '0', '--batch', '4', '--lr', '0.005', '--log-every', '1', '--threads', '1', '--provider', 'cpu', '--out', out], { cwd: REPO });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      return { child, done: new Promise<{ code: number | null; stderr: string }>((r) => child.on('exit', (code) => r({ code, stderr }))) };
    };
    const first = plmw();
    const metrics = path.join(out, 'metrics.jsonl');
    for (const end = Date.now() + 60_000; !(existsSync(metrics) && readFileSync(metrics, 'utf8').length > 0); ) {
      if (Date.now() > end) throw new Error('the first trainer wrote nothing');
      await new Promise((r) => setTimeout(r, 20));
    }
    const second = await plmw().done;
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`plmw train: run ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by a trainer \\(process ${first.child.pid} on ${os.hostname()}, since `));
    expect(second.stderr).not.toMatch(/\n\s+at /);
    // Ctrl-C: the first trainer stops at its next step and records the run as cancelled
    first.child.kill('SIGINT');
    const r = await first.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/the run is recorded as cancelled; run the same command to resume/);
    expect(record(out).status).toBe('cancelled');
    // one writer: the per-step rows (those with a learning rate) count 1, 2, 3, ... without a repeat
    const steps = new RunDir(out).readMetrics().filter((x) => 'lr' in x).map((x) => x.step);
    expect(steps.length).toBeGreaterThan(0);
    expect(steps).toEqual(steps.map((_, i) => i + 1));
    expect(existsSync(path.join(out, RUN_LOCK))).toBe(false);
  });
});
