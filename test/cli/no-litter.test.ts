// No litter: a real `plmw infer` process stopped by SIGTERM removes its spool and exits 143; one
// stopped by SIGKILL leaves it, and the next start in that folder sweeps it away; a job whose
// worker is terminated by a forced cancel leaves nothing either.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isTemporaryName } from '../../src-main/engine/atomic.js';
import { JobQueue } from '../../src-main/engine/jobs/queue.js';
import { randomFasta } from '../jobs/helpers.js';
import { REPO, fixtureModel } from '../helpers/paths.js';
import { testDir } from '../helpers/scratch.js';

const T6 = fixtureModel('t6-shape');
const temporaries = (dir: string) => readdirSync(dir).filter(isTemporaryName);

function plmw(args: string[]): { pid: number; kill: (s: NodeJS.Signals) => void; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', ...args], { cwd: REPO });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return { pid: child.pid!, kill: (s) => child.kill(s), done: new Promise((r) => child.on('exit', (code, signal) => r({ code, signal, stderr }))) };
}

async function until(f: () => boolean, what: string, ms = 60_000): Promise<void> {
  for (const end = Date.now() + ms; !f(); await new Promise((r) => setTimeout(r, 10))) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

/** A folder with a FASTA of long sequences: each runs alone for a while on the t6-shaped model. */
function workFolder(): { dir: string; fasta: string; out: string } {
  const dir = testDir('plmw-litter');
  return { dir, fasta: randomFasta(path.join(dir, 'in.fasta'), 40, 900, 900, 7), out: path.join(dir, 'out.safetensors') };
}
const inferArgs = (w: { fasta: string; out: string }) => ['infer', '--model', T6, '--fasta', w.fasta, '--out', w.out, '--emit', 'logits', '--token-budget', '1000', '--threads', '1', '--provider', 'cpu'];

describe('signals on a real plmw process', () => {
  it('SIGTERM: exit 143, the spool is removed, no output is left half written', async () => {
    const w = workFolder();
    const p = plmw(inferArgs(w));
    await until(() => temporaries(w.dir).length > 0, 'the spool');
    p.kill('SIGTERM');
    const r = await p.done;
    expect(r.code).toBe(143);
    expect(readdirSync(w.dir)).toEqual(['in.fasta']);
  });

  it('SIGINT: exit 130 and nothing left either', async () => {
    const w = workFolder();
    const p = plmw(inferArgs(w));
    await until(() => temporaries(w.dir).length > 0, 'the spool');
    p.kill('SIGINT');
    expect((await p.done).code).toBe(130);
    expect(readdirSync(w.dir)).toEqual(['in.fasta']);
  });

  it('SIGKILL leaves the spool; the next plmw start in that folder removes it (its owner is dead)', async () => {
    const w = workFolder();
    const p = plmw(inferArgs(w));
    await until(() => temporaries(w.dir).length > 0, 'the spool');
    p.kill('SIGKILL');
    expect((await p.done).signal).toBe('SIGKILL');
    const left = temporaries(w.dir);
    expect(left).toHaveLength(1);
    expect(left[0]).toContain(`-${p.pid}-`);
    const small = randomFasta(path.join(w.dir, 'small.fasta'), 2, 20, 30, 1);
    const next = await plmw(['infer', '--model', fixtureModel('tiny'), '--fasta', small, '--out', path.join(w.dir, 'small.safetensors'), '--provider', 'cpu']).done;
    expect(next.code, next.stderr).toBe(0);
    expect(temporaries(w.dir)).toEqual([]);
    expect(existsSync(w.out)).toBe(false);
  });
});

describe('forced cancel', () => {
  const queues: JobQueue[] = [];
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.close()));
  });

  it('removes the temporaries of a worker it had to terminate', async () => {
    const w = workFolder();
    const q = new JobQueue({ cancelGraceMs: 1 });
    queues.push(q);
    const job = q.submit('infer', { model: T6, fasta: w.fasta, out: w.out, emit: ['logits'], tokenBudget: 1000, threads: 1, providers: ['cpu'] });
    await until(() => temporaries(w.dir).length > 0, 'the spool');
    q.cancel(job.id);
    const j = await q.wait(job.id);
    expect(j.state).toBe('cancelled');
    // no memory figures: the worker never answered, it was terminated (the forced path)
    expect(j.memory).toBeUndefined();
    await until(() => temporaries(w.dir).length === 0, 'the removal of the spool', 30_000);
    expect(readdirSync(w.dir)).toEqual(['in.fasta']);
  });

  it('forced cancels at random moments of native work never take the process down, and leave nothing', async () => {
    // Terminating a thread inside onnxruntime's session.run can abort the whole process; a
    // retired worker ends itself between batches instead.
    const q = new JobQueue({ cancelGraceMs: 1 });
    queues.push(q);
    let seed = 11;
    const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    for (let round = 0; round < 8; round++) {
      const w = workFolder();
      const job = q.submit('infer', { model: T6, fasta: w.fasta, out: w.out, emit: ['logits'], tokenBudget: 1000, threads: 1, providers: ['cpu'] });
      await until(() => temporaries(w.dir).length > 0, 'the spool');
      await new Promise((r) => setTimeout(r, Math.floor(rnd() * 500)));
      q.cancel(job.id);
      expect((await q.wait(job.id)).state).toBe('cancelled');
      await until(() => temporaries(w.dir).length === 0, 'the removal of the spool', 30_000);
    }
    // still alive, and the queue still runs jobs
    const small = randomFasta(path.join(workFolder().dir, 's.fasta'), 2, 20, 30, 1);
    expect((await q.wait(q.submit('infer', { model: fixtureModel('tiny'), fasta: small, out: `${small}.safetensors`, providers: ['cpu'] }).id)).state).toBe('done');
  });

  it('a forced cancel of a training job frees the run: its lock goes with the worker, and train.resume continues it', async () => {
    const root = testDir('plmw-litter-runs');
    const lines = readFileSync(path.join(REPO, '..', 'shared', 'data', 'secondary-structure', 'lift_ss', 'CB433.txt'), 'utf8').split('\n');
    const text = lines.slice(0, 3 * 12).join('\n') + '\n';
    const q = new JobQueue({ cancelGraceMs: 1 });
    queues.push(q);
    const job = q.submit('train', {
      model: T6, task: 'ss', method: 'lora', options: { r: 2, targets: ['query'] }, train: { text }, val: { text: lines.slice(0, 3 * 4).join('\n') + '\n' },
      epochs: 1, batchSize: 4, id: 'forced', root, providers: ['cpu'], threads: 1,
    });
    const dir = path.join(root, 'forced');
    await until(() => existsSync(path.join(dir, 'metrics.jsonl')) && readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').length > 0, 'the first metrics row');
    expect(existsSync(path.join(dir, '.lock'))).toBe(true);
    q.cancel(job.id);
    const j = await q.wait(job.id);
    expect(j.state).toBe('cancelled');
    expect(j.memory).toBeUndefined(); // terminated, not stopped by itself
    await until(() => !existsSync(path.join(dir, '.lock')), 'the lock to go with the worker', 30_000);
    for (const d of [dir, path.join(dir, 'checkpoints')]) expect(readdirSync(d).filter(isTemporaryName)).toEqual([]);
    const resumed = await q.wait(q.submit('train.resume', { id: 'forced', root }).id);
    expect(resumed.state, resumed.error).toBe('done');
    expect(JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')).status).toBe('completed');
  });
});

