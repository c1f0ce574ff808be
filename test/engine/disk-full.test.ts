// A full disk, for real: each test mounts a small tmpfs (CI runs as root; a test that cannot
// mount fails, it does not skip) and runs real `plmw` processes on it. Every command that runs
// out of space exits 1 with one line naming the file and the bytes it needed, the files it would
// have replaced are intact, no temporary is left, and a run that hit the full disk resumes to
// exactly the end of an uninterrupted run once there is room again.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isTemporaryName } from '../../src-main/engine/atomic.js';
import { readSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { parseMetrics } from '../../src-main/engine/runs/store.js';
import { randomFasta } from '../jobs/helpers.js';
import { REPO, fixtureModel } from '../helpers/paths.js';
import { ssSubset } from '../helpers/ss-data.js';
import { withoutTiming, writeSsFile } from '../helpers/train-files.js';

const MODEL = fixtureModel('tiny');
const DISK_TRIALS = Number(process.env.PLMW_DISK_TRIALS ?? 1);
const mounts: string[] = [];

/** A tmpfs of `bytes` mounted on a fresh folder (unmounted after the test). */
function tmpfs(bytes: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'plmw-full-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot mount a tmpfs on ${dir} (these tests need root): ${r.stderr || r.error}`);
  mounts.push(dir);
  return dir;
}
const resize = (dir: string, bytes: number) => expect(spawnSync('mount', ['-o', `remount,size=${bytes}`, dir]).status).toBe(0);
afterEach(() => {
  for (const d of mounts.splice(0)) {
    spawnSync('umount', [d]);
    rmSync(d, { recursive: true, force: true });
  }
});

/** Fills the file system of `dir` until `leave` bytes are free. */
function fill(dir: string, leave: number): void {
  const st = statfsSync(dir);
  writeFileSync(path.join(dir, 'filler'), Buffer.alloc(Math.max(0, Number(st.bavail) * Number(st.bsize) - leave)));
}

/** Every temporary left anywhere below `dir`. */
function temporaries(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (isTemporaryName(e.name)) out.push(path.join(e.parentPath, e.name));
  return out;
}

function plmw(args: string[]): { kill: (s: NodeJS.Signals) => void; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', ...args], { cwd: REPO });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return { kill: (s) => child.kill(s), done: new Promise((r) => child.on('exit', (code) => r({ code, stderr }))) };
}

/** The one error line a command printed (progress lines and notes aside). */
const errorLine = (stderr: string) => stderr.split('\n').filter((l) => /no space left/.test(l));


let work: string;
let files: { train: string; val: string };
beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'plmw-full-work-'));
  const data = { train: await ssSubset('CB433.txt', 24), val: await ssSubset('CASP12.txt', 6, 200) };
  files = { train: writeSsFile(path.join(work, 'train.txt'), data.train), val: writeSsFile(path.join(work, 'val.txt'), data.val) };
  return () => rmSync(work, { recursive: true, force: true });
});

/** The same run without interruptions (made once). */
let straight: Promise<string> | undefined;
const straightRun = () =>
  (straight ??= plmw(trainArgs(path.join(work, 'straight'))).done.then((r) => {
    expect(r.code, r.stderr).toBe(0);
    return path.join(work, 'straight');
  }));

const trainArgs = (out: string) => ['train', '--model', MODEL, '--task', 'ss', '--train', files.train, '--val', files.val, '--method', 'lora', '--r', '4',
  '--epochs', '4', '--batch', '4', '--lr', '0.005', '--checkpoint-every', '1', '--log-every', '1', '--threads', '1', '--provider', 'cpu', '--out', out];

describe('a full disk', () => {
  it('plmw train runs out of space mid-run: exit 1 naming the file, nothing torn, and resumes to the same end', async () => {
    const straight = await straightRun();
    // One disk size in the suite; PLMW_DISK_TRIALS=N tries N sizes from 48 to 120 kB (the README's figures).
    const sizes = DISK_TRIALS === 1 ? [96 * 1024] : Array.from({ length: DISK_TRIALS }, (_, i) => (48 + Math.round((i * 72) / (DISK_TRIALS - 1))) * 1024);
    for (const size of sizes) {
      const disk = tmpfs(size);
      const run = path.join(disk, 'run');
      const r = await plmw(trainArgs(run)).done;
      expect(r.code, `disk of ${size} bytes`).toBe(1);
      const [line, ...more] = errorLine(r.stderr);
      expect(more).toEqual([]);
      expect(line).toMatch(new RegExp(`^plmw train: ${run}/[^ ]+: cannot write: no space left on device \\(\\d+ bytes needed[^)]*\\) \\[ENOSPC\\]$`));
      expect(r.stderr).not.toMatch(/\n\s+at /);
      // what is on the disk is whole: run.json parses, metrics.jsonl has no torn or bad line
      JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8'));
      const m = parseMetrics(readFileSync(path.join(run, 'metrics.jsonl'), 'utf8'));
      expect(m.problems).toEqual([]);
      expect(m.tornTail).toBe(false);
      expect(temporaries(disk)).toEqual([]);
      expect(existsSync(path.join(run, '.lock'))).toBe(false);

      resize(disk, 8 << 20);
      const again = await plmw(trainArgs(run)).done;
      expect(again.code, again.stderr).toBe(0);
      expect(withoutTiming(path.join(run, 'metrics.jsonl')), `disk of ${size} bytes`).toEqual(withoutTiming(path.join(straight, 'metrics.jsonl')));
      expect(temporaries(disk)).toEqual([]);
    }
  }, Math.max(120_000, 30_000 * DISK_TRIALS));

  it('a resume on a full disk changes nothing; on a nearly full one it stops whole; with room it ends as a straight run', async () => {
    const disk = tmpfs(4 << 20);
    const run = path.join(disk, 'run');
    const p = plmw(trainArgs(run));
    const metrics = path.join(run, 'metrics.jsonl');
    for (const end = Date.now() + 60_000; !(existsSync(metrics) && readFileSync(metrics, 'utf8').split('\n').length > 14); await new Promise((res) => setTimeout(res, 5))) {
      if (Date.now() > end) throw new Error('the trainer wrote too little');
    }
    p.kill('SIGKILL');
    await p.done;
    const before = readFileSync(metrics);
    const runJson = readFileSync(path.join(run, 'run.json'));

    fill(disk, 0);
    const full = await plmw(trainArgs(run)).done;
    expect(full.code).toBe(1);
    expect(errorLine(full.stderr)[0]).toMatch(new RegExp(`^plmw train: ${run}/[^ ]+: cannot write: no space left on device \\(\\d+ bytes needed`));
    expect(readFileSync(metrics).equals(before)).toBe(true);
    expect(readFileSync(path.join(run, 'run.json')).equals(runJson)).toBe(true);
    expect(temporaries(disk)).toEqual([]);

    rmSync(path.join(disk, 'filler'));
    fill(disk, 8192);
    const nearly = await plmw(trainArgs(run)).done;
    expect(nearly.code).toBe(1);
    expect(errorLine(nearly.stderr)[0]).toMatch(new RegExp(`^plmw train: ${run}/[^ ]+: cannot write: no space left on device \\(\\d+ bytes needed`));
    const m = parseMetrics(readFileSync(metrics, 'utf8'));
    expect(m.problems).toEqual([]);
    expect(m.tornTail).toBe(false);
    expect(temporaries(disk)).toEqual([]);

    rmSync(path.join(disk, 'filler'));
    const done = await plmw(trainArgs(run)).done;
    expect(done.code, done.stderr).toBe(0);
    expect(withoutTiming(metrics)).toEqual(withoutTiming(path.join(await straightRun(), 'metrics.jsonl')));
  });

  it('plmw predict on a nearly full disk: exit 1 naming the file and its size, the old predictions intact', async () => {
    // predict streams its outputs, so the free space is named only when the size was known up front
    const runDir = path.join(work, 'run-for-predict');
    const t = await plmw(trainArgs(runDir).map((a) => (a === '4' ? '1' : a))).done;
    expect(t.code, t.stderr).toBe(0);
    const disk = tmpfs(1 << 20);
    const out = path.join(disk, 'pred', 'p');
    const small = path.join(work, 'small.fasta');
    writeFileSync(small, '>a\nMKTAYIAKQR\n');
    expect((await plmw(['predict', '--run', runDir, '--fasta', small, '--out', out, '--provider', 'cpu']).done).code).toBe(0);
    const old = Object.fromEntries(readdirSync(path.dirname(out)).map((f) => [f, readFileSync(path.join(path.dirname(out), f))]));
    expect(Object.keys(old).sort()).toEqual(['p.counts.json', 'p.json', 'p.residues.csv']);
    fill(disk, 8192);
    const big = randomFasta(path.join(work, 'big.fasta'), 30, 100, 200, 3);
    const r = await plmw(['predict', '--run', runDir, '--fasta', big, '--out', out, '--provider', 'cpu']).done;
    expect(r.code).toBe(1);
    const [line] = errorLine(r.stderr);
    expect(line).toMatch(new RegExp(`^plmw predict: ${out}\\.(residues\\.csv|json): cannot write: no space left on device \\(\\d+ bytes needed(, \\d+ (bytes|kB) free)?\\) \\[ENOSPC\\]$`));
    for (const [f, bytes] of Object.entries(old)) expect(readFileSync(path.join(path.dirname(out), f)).equals(bytes), f).toBe(true);
    expect(temporaries(disk)).toEqual([]);
  });

  it('plmw infer runs out of space while spooling: exit 1 naming the file, the old output intact, no spool left', async () => {
    const disk = tmpfs(2 << 20);
    const out = path.join(disk, 'out.safetensors');
    const small = randomFasta(path.join(work, 'infer-small.fasta'), 2, 30, 30, 5);
    expect((await plmw(['infer', '--model', MODEL, '--fasta', small, '--out', out, '--provider', 'cpu']).done).code).toBe(0);
    const old = readFileSync(out);
    // representations of 40 x 400 residues: about 8 MB, far more than the disk holds
    const big = randomFasta(path.join(work, 'infer-big.fasta'), 40, 400, 400, 6);
    const r = await plmw(['infer', '--model', MODEL, '--fasta', big, '--out', out, '--emit', 'logits,representations', '--provider', 'cpu']).done;
    expect(r.code).toBe(1);
    const [line, ...more] = errorLine(r.stderr);
    expect(more).toEqual([]);
    expect(line).toMatch(new RegExp(`^plmw infer: ${out}(\\.spool)?: cannot write: no space left on device \\(\\d+ bytes needed\\) \\[ENOSPC\\]$`));
    expect(readFileSync(out).equals(old)).toBe(true);
    expect(readSafetensors(out).tensors.size).toBeGreaterThan(0);
    expect(temporaries(disk)).toEqual([]);
  });
});
