// What a writer is asked to do, independent of the file format: the B-factor for every residue
// of one chain, optional helix/strand segments, and the text that describes the annotation.
import type { MappingReport } from './mapping.js';
import { residueLabel, type Residue } from './model.js';
import type { SsSegment } from './ss.js';

export interface AnnotationPlan {
  chain: string;
  residues: Residue[];
  /** per chain residue: B-factor in hundredths (0..10000), or null when the residue has no score */
  hundredths: (number | null)[];
  /** helix/strand segments; undefined leaves the file's secondary structure records alone */
  segments?: SsSegment[];
  scoreName: string;
  runLabel?: string;
  modelLabel?: string;
  mapping: MappingReport;
}

/**
 * Score in [0,1] -> B-factor 100*score rounded to 2 decimals, as an integer number of
 * hundredths. Rounding goes through 12 significant digits first so that binary noise does not
 * decide halves (0.12345 -> 12.35, as written in decimal, not 12.34).
 */
export function scoreToHundredths(score: number): number {
  return Math.round(Number((score * 10000).toPrecision(12)));
}

/** 1235 -> "12.35" (exact decimal digits, no floating point formatting involved). */
export function formatHundredths(k: number): string {
  return `${Math.floor(k / 100)}.${String(k % 100).padStart(2, '0')}`;
}

/** Runs of consecutive unscored residues: "MET A 1 - GLN A 2", "LYS A 6". */
export function unscoredRanges(plan: AnnotationPlan): string[] {
  const out: string[] = [];
  let runStart = -1;
  const flush = (end: number) => {
    if (runStart < 0) return;
    const a = plan.residues[runStart]!, b = plan.residues[end]!;
    out.push(runStart === end ? residueLabel(a) : `${residueLabel(a)} - ${residueLabel(b)}`);
    runStart = -1;
  };
  plan.hundredths.forEach((h, k) => {
    if (h === null) {
      if (runStart < 0) runStart = k;
    } else flush(k - 1);
  });
  flush(plan.hundredths.length - 1);
  return out;
}

/** Printable ASCII only: structure files are ASCII, and a label must not break a record. */
export const asciiLabel = (s: string) => s.replace(/[^\x20-\x7e]/g, '?').trim();

/** The free-text description both writers put in the file (PDB REMARK, mmCIF category). */
export function describe(plan: AnnotationPlan): { heading: string; fields: [string, string][]; unscored: string[] } {
  const scored = plan.hundredths.filter((h) => h !== null).length;
  const m = plan.mapping;
  const mapping =
    m.method === 'alignment'
      ? `global alignment, identity ${m.identity.toFixed(3)} over ${m.alignedLength} residues`
      : m.method === 'exact'
        ? 'sequence identical to the chain'
        : 'positions are chain residues in coordinate order';
  const fields: [string, string][] = [
    ['run', asciiLabel(plan.runLabel ?? '') || '?'],
    ['model', asciiLabel(plan.modelLabel ?? '') || '?'],
    ['score', `${asciiLabel(plan.scoreName) || 'score'} (B-factor = 100 * score; 0.00 = no score)`],
    ['chain', `${plan.chain}, ${plan.residues.length} residues, ${scored} scored, ${plan.residues.length - scored} unscored`],
    ['sequence mapping', mapping],
  ];
  if (plan.segments) {
    const h = plan.segments.filter((s) => s.kind === 'H').length;
    const e = plan.segments.length - h;
    fields.push(['secondary structure', `predicted 3-state string: ${h} helices, ${e} strands (each strand its own one-strand sheet)`]);
  }
  return { heading: 'PLMW ANNOTATION: PER-RESIDUE SCORES IN THE B-FACTOR COLUMN', fields, unscored: unscoredRanges(plan) };
}
