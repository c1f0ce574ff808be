// Small labelled files written by the tests themselves (never read back from ../shared): a
// synthetic LIFT_SS file with known labels, SignalP 3-line files built from shared records, and
// a runner for the `plmw` CLI.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { type SignalPRecord, readSignalPFile } from '../../../src-main/engine/data/signalp.js';
import { rng } from '../../helpers/gradcheck.js';
import { REPO, shared } from '../../helpers/paths.js';

export const MODEL_TINY = shared('fixtures', 'esm2', 'esm2-tiny-random');

/** Runs `plmw` in a child process (tsx, no build step). */
export function plmw(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', ...args], { cwd: REPO, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface SsSynthetic {
  id: string;
  sequence: string;
  /** LIFT_SS label letters: L B E G I H S T P X */
  labels: string;
}

const AA = 'ACDEFGHIKLMNPQRSTVWY';

/** Random proteins with run-structured DSSP labels, some X (masked) and P (-> coil) residues. */
export function syntheticSs(n: number, seed: number, prefix = 'ss'): SsSynthetic[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const len = 15 + Math.floor(r() * 40);
    const sequence = Array.from({ length: len }, () => AA[Math.floor(r() * AA.length)]).join('');
    let labels = '';
    while (labels.length < len) {
      const c = 'LLHHHEEGTSBIPX'[Math.floor(r() * 14)];
      labels += c.repeat(1 + Math.floor(r() * (c === 'X' || c === 'P' ? 2 : 7)));
    }
    return { id: `${prefix}${i + 1}`, sequence, labels: labels.slice(0, len) };
  });
}

export function writeLiftSs(file: string, recs: readonly SsSynthetic[]): void {
  writeFileSync(file, recs.map((x) => `>${x.id}\n${x.sequence}\n${x.labels}\n`).join(''));
}

export function writeSignalP(file: string, recs: readonly SignalPRecord[], withLabels = true): void {
  writeFileSync(file, recs.map((x) => `>${x.id}|${x.kingdom}|${x.type}|${x.partition}\n${x.sequence}\n${withLabels ? `${x.labels}\n` : ''}`).join(''));
}

/** Disjoint training and test records of every kingdom and type, from the shared small set. */
export async function signalpSplit(): Promise<{ train: SignalPRecord[]; test: SignalPRecord[] }> {
  const all = (await readSignalPFile(shared('data', 'signalp6', 'small_dataset_20.partitions-0-1.fasta'), { strict: true })).records;
  return { train: all.filter((_, i) => i % 4 === 0), test: all.filter((_, i) => i % 8 === 1) };
}
