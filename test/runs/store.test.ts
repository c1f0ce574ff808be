import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runsCommand } from '../../src-main/cli/commands/runs.js';
import {
  compareRuns,
  deleteRun,
  effectiveStatus,
  HEARTBEAT_STALE_MS,
  listRuns,
  openRun,
  parseMetrics,
  renameRun,
  RunStoreError,
  TRASH_DIR,
} from '../../src-main/engine/runs/store.js';
import { writeRun } from './helpers.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'plmw-runs-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('effective status', () => {
  const base = { status: 'running' as const, updatedAt: new Date().toISOString() };
  it('a running run whose process is alive on this host is running', () => {
    expect(effectiveStatus({ ...base, pid: process.pid, hostname: os.hostname() }).status).toBe('running');
  });
  it('a running run whose process is gone is interrupted', () => {
    const s = effectiveStatus({ ...base, pid: deadPid(), hostname: os.hostname() });
    expect(s.status).toBe('interrupted');
    expect(s.reason).toMatch(/no longer running/);
  });
  it('on another host: interrupted only when the heartbeat is older than 2 minutes', () => {
    const now = Date.now();
    const fresh = { status: 'running' as const, pid: process.pid, hostname: 'elsewhere', updatedAt: new Date(now - 60_000).toISOString() };
    expect(effectiveStatus(fresh, { now }).status).toBe('running');
    const stale = { ...fresh, updatedAt: new Date(now - HEARTBEAT_STALE_MS - 1000).toISOString() };
    const s = effectiveStatus(stale, { now });
    expect(s.status).toBe('interrupted');
    expect(s.reason).toMatch(/elsewhere/);
  });
  it('other statuses are taken as written', () => {
    for (const status of ['completed', 'failed', 'cancelled', 'interrupted'] as const) expect(effectiveStatus({ ...base, status }).status).toBe(status);
  });
});

describe('list', () => {
  it('lists every run with its effective status, newest first; unreadable ones as invalid', async () => {
    writeRun(root, 'a-completed', { createdAt: '2026-11-01T00:00:00Z' });
    writeRun(root, 'b-running', { status: 'running', pid: process.pid, createdAt: '2026-11-02T00:00:00Z' });
    writeRun(root, 'c-dead', { status: 'running', pid: deadPid(), createdAt: '2026-11-03T00:00:00Z' });
    writeRun(root, 'd-failed', { status: 'failed', error: 'NaN loss at step 12', createdAt: '2026-11-04T00:00:00Z' });
    mkdirSync(path.join(root, 'e-broken'));
    writeFileSync(path.join(root, 'e-broken', 'run.json'), '{"format": 1, "status": "running"');
    mkdirSync(path.join(root, TRASH_DIR));
    const runs = await listRuns(root);
    expect(runs.map((r) => [r.id, r.status])).toEqual([
      ['d-failed', 'failed'],
      ['c-dead', 'interrupted'],
      ['b-running', 'running'],
      ['a-completed', 'completed'],
      ['e-broken', 'invalid'],
    ]);
    expect(runs[1].recordedStatus).toBe('running');
    expect(runs[4].reason).toMatch(/e-broken.*run\.json: not valid JSON/);
    expect(runs[0].error).toBe('NaN loss at step 12');
    expect(await listRuns(path.join(root, 'missing'))).toEqual([]);
  });

  it('a run whose process is killed mid-job is listed as interrupted after a restart', async () => {
    // A stand-in trainer: writes run.json (running, its pid) with a heartbeat, until killed.
    const dir = path.join(root, 'killed');
    mkdirSync(dir);
    const script = `
      const fs = require('fs'), os = require('os');
      const file = ${JSON.stringify(path.join(dir, 'run.json'))};
      // rewritten as the trainer does (temporary, then rename), so a reader never sees half a file
      const beat = () => { fs.writeFileSync(file + '.tmp', JSON.stringify({
        format: 1, id: 'killed', name: 'killed', createdAt: new Date().toISOString(), updatedAt: new Date().toISOString(),
        status: 'running', pid: process.pid, hostname: os.hostname() })); fs.renameSync(file + '.tmp', file); };
      beat(); setInterval(beat, 50); console.log('ready');`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((r) => child.stdout!.once('data', () => r()));
    expect((await listRuns(root))[0].status).toBe('running');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const [run] = await listRuns(root);
    expect(run.status).toBe('interrupted');
    expect(run.recordedStatus).toBe('running');
    expect(run.reason).toContain(String(child.pid));
  });
});

describe('open', () => {
  it('parses run.json and metrics.jsonl, tolerating a torn last line', async () => {
    const lines = [
      { step: 10, epoch: 1, split: 'train', loss: 1.2, elapsed_s: 3, sequences_per_s: 11 },
      { step: 10, epoch: 1, split: 'val', loss: 1.1, q3: 0.6, elapsed_s: 4 },
    ].map((x) => JSON.stringify(x));
    const dir = writeRun(root, 'r1', {}, lines.join('\n') + '\n{"step": 20, "epoch": 2, "spl');
    mkdirSync(path.join(dir, 'checkpoints'));
    writeFileSync(path.join(dir, 'checkpoints', 'epoch-1.safetensors'), Buffer.alloc(1000));
    mkdirSync(path.join(dir, 'adapter'));
    writeFileSync(path.join(dir, 'adapter', 'adapter_config.json'), '{}');
    writeFileSync(path.join(dir, 'adapter', 'adapter_model.safetensors'), Buffer.alloc(4000));
    mkdirSync(path.join(dir, 'eval'));
    writeFileSync(path.join(dir, 'eval', 'test.json'), '{}');
    const d = await openRun(root, 'r1');
    expect(d.metrics).toHaveLength(2);
    expect(d.metrics[1]).toMatchObject({ split: 'val', q3: 0.6 });
    expect(d.tornTail).toBe(true);
    expect(d.metricsProblems).toEqual([]);
    expect(d.checkpoints).toEqual([{ file: 'epoch-1.safetensors', bytes: 1000 }]);
    expect(d.adapter).toEqual({ files: ['adapter_config.json', 'adapter_model.safetensors'], bytes: 4002 });
    expect(d.evalFiles).toEqual(['test.json']);
    expect(d.run.method).toEqual({ name: 'lora', r: 8, alpha: 16 });
  });

  it('reports a bad line in the middle with its number, and accepts a complete last line without newline', () => {
    const m = parseMetrics('{"step":1}\nnot json\r\n\n[1]\n{"step":4}');
    expect(m.metrics).toEqual([{ step: 1 }, { step: 4 }]);
    expect(m.tornTail).toBe(false);
    expect(m.problems.map((p) => p.line)).toEqual([2, 4]);
  });

  it('a missing run is not_found; a bad id is refused before touching the disk', async () => {
    await expect(openRun(root, 'nope')).rejects.toMatchObject({ code: 'not_found' });
    await expect(openRun(root, '../etc')).rejects.toBeInstanceOf(RunStoreError);
  });
});

describe('rename and delete', () => {
  it('rename rewrites only the name, atomically', async () => {
    const dir = writeRun(root, 'r1', { seed: 42 });
    const before = JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8'));
    const s = await renameRun(root, 'r1', '  LoRA r=8, all layers ');
    expect(s.name).toBe('LoRA r=8, all layers');
    const after = JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8'));
    expect(after).toEqual({ ...before, name: 'LoRA r=8, all layers' });
    expect(Object.keys(after)).toEqual(Object.keys(before));
    expect(readdirSync(dir)).toEqual(['run.json']); // no temporary file left
  });

  it('refuses to rename or delete a live run; an interrupted one is fine', async () => {
    writeRun(root, 'live', { status: 'running', pid: process.pid });
    await expect(renameRun(root, 'live', 'x')).rejects.toMatchObject({ code: 'conflict' });
    await expect(deleteRun(root, 'live')).rejects.toMatchObject({ code: 'conflict' });
    writeRun(root, 'dead', { status: 'running', pid: deadPid() });
    expect((await renameRun(root, 'dead', 'was killed')).status).toBe('interrupted');
  });

  it('delete moves the run into the trash folder, out of the listing', async () => {
    writeRun(root, 'r1');
    writeRun(root, 'r2');
    const { trashedTo } = await deleteRun(root, 'r1');
    expect(path.dirname(trashedTo)).toBe(path.join(root, TRASH_DIR));
    expect(existsSync(path.join(trashedTo, 'run.json'))).toBe(true);
    expect(existsSync(path.join(root, 'r1'))).toBe(false);
    expect((await listRuns(root)).map((r) => r.id)).toEqual(['r2']);
  });
});

describe('compare', () => {
  it('tabulates method, parameters, adapter size, time, memory and metrics', async () => {
    const a = writeRun(root, 'lora', {});
    mkdirSync(path.join(a, 'adapter'));
    writeFileSync(path.join(a, 'adapter', 'adapter_model.safetensors'), Buffer.alloc(368_640));
    const b = writeRun(
      root,
      'ia3',
      { method: { name: 'ia3' }, params: { trainable: 1000, total: 2000 }, final: undefined, best: undefined, status: 'running', pid: deadPid() },
      '{"split":"val","epoch":1,"q3":0.5,"loss":0.9}\n{"split":"train","epoch":2,"loss":0.8}\n{"split":"val","epoch":2,"q3":0.55,"loss":0.85}\n',
    );
    mkdirSync(path.join(b, 'checkpoints'));
    writeFileSync(path.join(b, 'checkpoints', 'epoch-2.safetensors'), Buffer.alloc(4096));
    const t = await compareRuns(root, ['lora', 'ia3']);
    expect(t.metrics).toEqual(['loss', 'q3']);
    expect(t.rows[0]).toMatchObject({
      id: 'lora', method: 'lora', methodOptions: { r: 8, alpha: 16 }, trainableParams: 92_160, totalParams: 7_604_634,
      adapterBytes: 368_640, adapterSource: 'adapter', wallSeconds: 120.5, peakRssBytes: 800 * 1024 * 1024,
      best: { metric: 'q3', value: 0.71, epoch: 3 }, final: { q3: 0.7, loss: 0.61 },
    });
    expect(t.rows[0].trainableFraction).toBeCloseTo(92_160 / 7_604_634, 12);
    // An interrupted run has no final metrics in run.json: the last validation record stands in.
    expect(t.rows[1]).toMatchObject({ id: 'ia3', status: 'interrupted', adapterBytes: 4096, adapterSource: 'checkpoint', final: { q3: 0.55, loss: 0.85 }, trainableFraction: 0.5 });
  });
});

describe('plmw runs', () => {
  async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
    const logs: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void logs.push(a.join(' ')));
    try {
      const code = await runsCommand.run([...argv, '--root', root]);
      return { code, out: logs.join('\n') };
    } finally {
      spy.mockRestore();
    }
  }

  it('lists, shows, renames, compares and deletes', async () => {
    writeRun(root, 'r1', {}, '{"split":"val","q3":0.7}\n');
    writeRun(root, 'r2', { status: 'running', pid: deadPid(), createdAt: '2026-11-05T00:00:00Z' });
    let r = await cli('list');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ID\s+STATUS\s+NAME/);
    expect(r.out).toMatch(/r2\s+interrupted/);
    expect(r.out).toMatch(/r1\s+completed\s+run r1\s+ss\s+lora\s+q3=0\.7100 @3/);
    r = await cli('list', '--json');
    expect(JSON.parse(r.out).map((x: { id: string }) => x.id)).toEqual(['r2', 'r1']);
    r = await cli('show', 'r1');
    expect(r.out).toMatch(/run r1: run r1/);
    expect(r.out).toMatch(/metrics\s+1 records/);
    expect((await cli('rename', 'r1', 'baseline')).out).toBe("renamed r1 to 'baseline'");
    r = await cli('compare', 'r1', 'r2');
    expect(r.out).toMatch(/r1\s+baseline\s+completed\s+lora\s+92160 \(1\.21%\)/);
    expect((await cli('delete', 'r2')).out).toMatch(/moved r2 to .*\.trash/);
    await expect(cli('show', 'r2')).rejects.toThrow(/no run 'r2'/);
    await expect(cli('frobnicate')).rejects.toThrow(/unknown subcommand/);
  });
});
