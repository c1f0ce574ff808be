// Memory over many jobs, in a file of its own so the process starts clean (vitest runs each
// file in its own fork): the first job's peak is then a fair baseline.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { JobQueue } from '../../src-main/engine/jobs/queue.js';
import { fixtureModel } from '../helpers/paths.js';
import { randomFasta } from './helpers.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'plmw-mem-'));
const q = new JobQueue();
afterAll(async () => {
  await q.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('memory over many jobs', () => {
  it('20 queued infer jobs of 1,000 sequences stay within the first job\'s peak RSS + 15%, with no growth over the second half', async () => {
    const files = Array.from({ length: 20 }, (_, i) => randomFasta(path.join(tmp, `mem-${i}.fasta`), 1000, 5, 20, 100 + i));
    // The main thread samples the process RSS too (the worker is a thread of this process).
    let mainPeak = 0;
    const peaks: number[] = [];
    const sample = () => (mainPeak = Math.max(mainPeak, process.memoryUsage.rss()));
    const timer = setInterval(sample, 20);
    q.on((e) => {
      if (e.type === 'job.done' || e.type === 'job.failed') {
        sample();
        peaks.push(mainPeak);
        mainPeak = 0;
      }
    });
    const t0 = performance.now();
    const jobs = files.map((f) => q.submit('infer', { model: fixtureModel('tiny'), fasta: f, out: path.join(tmp, 'mem.safetensors'), providers: ['cpu'] }));
    const results = [];
    for (const j of jobs) results.push(await q.wait(j.id));
    clearInterval(timer);
    for (const r of results) expect(r.state, r.error).toBe('done');
    expect(readSafetensors(path.join(tmp, 'mem.safetensors')).tensors.size).toBe(1000 * 2); // logits + representations.2 (the last layer, the default)
    const worker = results.map((r) => r.memory!.rssPeakBytes);
    const mb = (b: number) => (b / 2 ** 20).toFixed(0);
    console.log(`20 infer jobs x 1000 seqs in ${((performance.now() - t0) / 1000).toFixed(1)} s; RSS peak per job (MiB), worker-reported: ${worker.map(mb).join(' ')}; main-sampled: ${peaks.map(mb).join(' ')}`);
    // Two bounds: no job far above the first (a job that keeps what an earlier one built), and no
    // slope (a leak of a fraction of a MiB per job shows in the second half of the jobs). The first
    // job's peak is the smallest: the allocator's arenas and the JIT settle over the next few.
    for (const series of [worker, peaks]) {
      expect(Math.max(...series.slice(1))).toBeLessThanOrEqual(series[0] * 1.15);
      expect(Math.max(...series.slice(10))).toBeLessThanOrEqual(Math.max(...series.slice(0, 10)) * 1.03);
    }
  });
});
