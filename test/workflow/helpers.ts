// Running the proteome workflow (workflows/proteome) with Snakemake from a test: its config,
// the `snakemake` command line, the cluster it needs for the slurm profile, and reading back
// its files. Snakemake and (for the slurm profile) a running SLURM are required: a test that
// lacks them fails with what to do, it never skips.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from '../helpers/paths.js';

export const WORKFLOW = path.join(REPO, 'workflows', 'proteome');
export const SNAKEFILE = path.join(WORKFLOW, 'Snakefile');
export const profile = (name: 'local' | 'slurm') => path.join(WORKFLOW, 'profiles', name);

/** Fails (never skips) when Snakemake is not installed. */
export function requireSnakemake(): string {
  const r = spawnSync('snakemake', ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('snakemake is not installed: apt-get install snakemake (Debian 12 has 7.21)');
  return r.stdout.trim();
}

/** SLURM_CONF of the cluster scripts/slurm-one-node.sh starts; fails when no cluster answers. */
export function requireSlurm(): string {
  const conf = process.env.SLURM_CONF ?? path.join(process.env.PLMW_SLURM_DIR ?? '/tmp/plmw-slurm', 'slurm.conf');
  const hint = 'start a one-node cluster first: sudo scripts/slurm-one-node.sh start (CI does this in .ci/run)';
  if (!existsSync(conf)) throw new Error(`no SLURM configuration at ${conf}: ${hint}`);
  const r = spawnSync('sinfo', ['-h', '-o', '%P %T'], { encoding: 'utf8', env: { ...process.env, SLURM_CONF: conf } });
  if (r.status !== 0 || !/\S/.test(r.stdout)) throw new Error(`sinfo does not answer (${r.stderr.trim()}): ${hint}`);
  if (!/\b(idle|mixed|allocated)/.test(r.stdout)) throw new Error(`the SLURM node is not up: ${r.stdout.trim()}`);
  return conf;
}

export interface WorkflowConfig {
  run: string;
  inputs: Record<string, { fasta: string; kingdom?: string }>;
  shards: number;
  batch?: number;
  provider?: string;
  resources?: Record<string, Record<string, number | string>>;
}

/** A working directory with config.yaml (JSON is YAML) for one workflow run. */
export function workdir(dir: string, config: WorkflowConfig): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.yaml'), JSON.stringify(config, null, 2));
  return dir;
}

export function snakemakeArgs(dir: string, prof: 'local' | 'slurm', extra: string[] = []): string[] {
  return ['-s', SNAKEFILE, '--profile', profile(prof), '--configfile', path.join(dir, 'config.yaml'), '-d', dir, ...extra];
}

export function workflowEnv(slurmConf?: string): NodeJS.ProcessEnv {
  // Snakemake's SLURM executor reads $USER (sacct/sacctmgr calls); a bare CI shell may lack it.
  return { ...process.env, USER: process.env.USER ?? os.userInfo().username, ...(slurmConf ? { SLURM_CONF: slurmConf } : {}) };
}

/** Runs snakemake to the end; returns its status and output. */
export function snakemake(dir: string, prof: 'local' | 'slurm', extra: string[] = [], o: { slurmConf?: string; timeoutMs?: number } = {}) {
  const r = spawnSync('snakemake', snakemakeArgs(dir, prof, extra), { encoding: 'utf8', env: workflowEnv(o.slurmConf), timeout: o.timeoutMs ?? 900_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}`, signal: r.signal };
}

/** Starts snakemake in its own process group (so that a test can kill the whole workflow). */
export function startSnakemake(dir: string, prof: 'local' | 'slurm', extra: string[] = []): ChildProcess {
  return spawn('snakemake', snakemakeArgs(dir, prof, extra), { env: workflowEnv(), detached: true, stdio: 'ignore' });
}

/** Counts of each rule in Snakemake's "Job stats" table of a run. */
export function jobStats(output: string): Record<string, number> {
  const at = output.lastIndexOf('Job stats:');
  if (at < 0) return {};
  const out: Record<string, number> = {};
  for (const line of output.slice(at).split('\n').slice(3)) {
    const m = /^(\w+)\s+(\d+)/.exec(line);
    if (!m) break;
    out[m[1]] = Number(m[2]);
  }
  return out;
}

/** Rows of a TSV file with a header line, as objects. */
export function readTsv(file: string): Record<string, string>[] {
  const [head, ...rows] = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => l.split('\t'));
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ''])));
}
