import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../src-main/api/contract.js';
import { ApiError } from '../../src-main/api/errors.js';
import { JobQueue, type JobEvent, workerEntry } from '../../src-main/engine/jobs/queue.js';
import { fixtureModel } from '../helpers/paths.js';
import { randomFasta } from './helpers.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'plmw-jobs-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const queues: JobQueue[] = [];
function queue(o: ConstructorParameters<typeof JobQueue>[0] = {}): { q: JobQueue; events: JobEvent[] } {
  const q = new JobQueue({ diagnostics: true, ...o });
  queues.push(q);
  const events: JobEvent[] = [];
  q.on((e) => events.push(e));
  return { q, events };
}
afterEach(async () => {
  await Promise.all(queues.splice(0).map((q) => q.close()));
});

const of = (events: ApiEvent[], jobId: string, type?: string) =>
  events.filter((e) => ('jobId' in e ? e.jobId : 'job' in e ? e.job.id : '') === jobId && (!type || e.type === type));

describe('worker entry', () => {
  it('runs worker.ts through the tsx bootstrap when the engine runs from TypeScript source', () => {
    const e = workerEntry();
    expect(e.url.pathname).toMatch(/src-main\/engine\/jobs\/worker\.ts$/);
    expect(e.typescript).toBe(true);
    expect(e.execArgv.some((a) => /tsx/.test(a))).toBe(false);
    expect(workerEntry({ workerPath: '/app/out/main/chunks/worker-1234.js' })).toMatchObject({ typescript: false });
  });
});

describe('job queue', () => {
  it('runs a job in the worker with throttled progress, then reports done with its result and memory', async () => {
    const { q, events } = queue({ progressIntervalMs: 100 });
    const job = q.submit('selftest', { ms: 600, steps: 60 });
    expect(job.state).toBe('queued');
    const done = await q.wait(job.id);
    expect(done.state).toBe('done');
    expect(done.result).toEqual({ ms: 600, steps: 60 });
    expect(done.memory!.rssPeakBytes).toBeGreaterThan(0);
    const progress = of(events, job.id, 'job.progress') as Extract<ApiEvent, { type: 'job.progress' }>[];
    // 60 reports in ~600 ms, at most one per 100 ms reaches the main thread (+ the final one).
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.length).toBeLessThanOrEqual(10);
    expect(progress.at(-1)).toMatchObject({ phase: 'busy', done: 60, total: 60, rateUnit: 'steps/s', etaSeconds: 0 });
    expect(progress[1].rate).toBeGreaterThan(0);
    expect(of(events, job.id).map((e) => e.type)).toEqual(['job.queued', 'job.started', ...progress.map(() => 'job.progress'), 'job.done']);
  });

  it('reports a failure with the engine message and carries on with the next job', async () => {
    const { q, events } = queue();
    const bad = q.submit('selftest', { ms: 10, fail: 'the engine said no' });
    const missing = q.submit('infer', { model: path.join(tmp, 'no-such-model'), sequences: [{ id: 'a', sequence: 'MKV' }], out: path.join(tmp, 'x.safetensors') });
    const invalid = q.submit('infer', { model: fixtureModel('tiny'), sequences: [{ id: 'a', sequence: 'MK1V' }], out: path.join(tmp, 'x.safetensors') });
    const ok = q.submit('selftest', { ms: 10 });
    expect((await q.wait(bad.id)).error).toBe('the engine said no');
    expect(of(events, bad.id, 'job.failed')).toEqual([{ type: 'job.failed', jobId: bad.id, kind: 'selftest', message: 'the engine said no' }]);
    expect((await q.wait(missing.id)).error).toMatch(/model folder '.*no-such-model' does not exist/);
    expect((await q.wait(invalid.id)).error).toMatch(/1 record\(s\) rejected in <request> \(first: <request>:2:3 \(record 'a'\): rejected: .*'1'/);
    expect((await q.wait(ok.id)).state).toBe('done');
  });

  it('refuses a bad request before queuing it, naming the field', () => {
    const { q } = queue();
    expect(() => q.submit('selftest', { ms: -1 })).toThrow(/ms: must be at least 0/);
    expect(() => q.submit('infer', { model: 'm', fasta: 'f.fa', out: 'o', emit: ['logits', 'logits'] })).toThrow(/emit\[1\]: repeats 'logits'/);
    try {
      q.submit('infer', { model: 'm', out: 'o' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).field).toBe('sequences');
    }
    expect(() => q.submit('nope', {})).toThrow(/unknown job kind 'nope'/);
    expect(q.list()).toEqual([]);
  });

  it('cancels a queued job at once and a running one between steps', async () => {
    const { q, events } = queue();
    const running = q.submit('selftest', { ms: 20_000, steps: 2000 });
    const queued = q.submit('selftest', { ms: 10 });
    expect(q.cancel(queued.id).state).toBe('cancelled');
    await new Promise<void>((r) => q.on((e) => e.type === 'job.progress' && r()));
    const t0 = performance.now();
    q.cancel(running.id);
    expect((await q.wait(running.id)).state).toBe('cancelled');
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(of(events, queued.id).map((e) => e.type)).toEqual(['job.queued', 'job.cancelled']);
    expect(of(events, running.id, 'job.cancelled')).toHaveLength(1);
    expect((await q.wait(q.submit('selftest', { ms: 10 }).id)).state).toBe('done');
  });

  it('terminates a worker stuck in one call when cancel is not honoured, and starts a fresh one', async () => {
    const { q } = queue({ cancelGraceMs: 300 });
    const stuck = q.submit('selftest', { ms: 30_000, steps: 1, block: true });
    await new Promise((r) => setTimeout(r, 300));
    q.cancel(stuck.id);
    const t0 = performance.now();
    expect((await q.wait(stuck.id)).state).toBe('cancelled');
    expect(performance.now() - t0).toBeLessThan(3000);
    expect((await q.wait(q.submit('selftest', { ms: 10 }).id)).state).toBe('done');
  });
});

describe('the main thread stays responsive', () => {
  it('keeps event-loop delay p99 under 50 ms while the worker runs ESM-2 (t6 shape)', async () => {
    const { monitorEventLoopDelay } = await import('node:perf_hooks');
    const { q } = queue();
    const input = randomFasta(path.join(tmp, 'loop.fasta'), 200, 40, 120, 7);
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    const t0 = performance.now();
    const job = q.submit('infer', { model: fixtureModel('t6-shape'), fasta: input, out: path.join(tmp, 'loop.safetensors'), providers: ['cpu'], emit: ['logits'] });
    const done = await q.wait(job.id);
    const seconds = (performance.now() - t0) / 1000;
    h.disable();
    expect(done.state, done.error).toBe('done');
    const p99 = h.percentile(99) / 1e6;
    console.log(`event loop while a ${seconds.toFixed(1)} s infer job ran (200 seqs, ${(done.result as { residues: number }).residues} residues, t6 shape): p50 ${(h.percentile(50) / 1e6).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${(h.max / 1e6).toFixed(1)} ms`);
    expect(seconds).toBeGreaterThan(1);
    expect(p99).toBeLessThan(50);
  });
});
