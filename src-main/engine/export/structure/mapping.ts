// Which residue of the structure chain each position of a predicted sequence lands on.
// Identical sequences map one to one; different ones go through alignGlobal. The mapping is
// accepted only when it is clearly the same protein (MIN_IDENTITY over the aligned pairs, and
// enough aligned pairs); otherwise SequenceMismatchError carries the full report, so a wrong
// chain or a wrong sequence can never turn into silently shifted scores.
import { alignGlobal, type Column } from './align.js';
import { residueLabel, type Residue } from './model.js';

/** Identity (identical / aligned pairs) below which a sequence is rejected. */
export const MIN_IDENTITY = 0.5;

/** Aligned pairs needed: half the shorter sequence, and at least min(10, shorter). */
export function minAlignedPairs(seqLength: number, chainLength: number): number {
  const shorter = Math.min(seqLength, chainLength);
  return Math.max(Math.ceil(shorter / 2), Math.min(10, shorter));
}

export interface Mismatch {
  /** 1-based position in the predicted sequence */
  position: number;
  sequence: string;
  residue: string;
  chain: string;
}

export interface ChainRange {
  from: string;
  to: string;
  count: number;
}

export interface MappingReport {
  chain: string;
  chainLength: number;
  sequenceLength: number;
  /** 'chain': positions are chain residues (no sequence given); 'exact': same sequence; 'alignment' */
  method: 'chain' | 'exact' | 'alignment';
  alignedLength: number;
  identical: number;
  identity: number;
  mismatches: Mismatch[];
  /** gap runs strictly inside the alignment (terminal overhangs are listed as unmatched ranges) */
  internalGaps: number;
  /** 1-based ranges of the predicted sequence with no residue in the chain */
  unmatchedSequence: { from: number; to: number }[];
  /** runs of chain residues with no position in the predicted sequence */
  unmatchedChain: ChainRange[];
  /** three-line blocks showing the alignment (only for method 'alignment') */
  alignmentText: string[];
  accepted: boolean;
  /** why the mapping was rejected */
  reason?: string;
}

export interface ChainMapping {
  residues: Residue[];
  /** for residue k of the chain, the 0-based position of the predicted sequence, or -1 */
  positionOfResidue: number[];
  report: MappingReport;
}

export class SequenceMismatchError extends Error {
  override name = 'SequenceMismatchError';
  constructor(readonly report: MappingReport) {
    super(`${report.reason}\n${formatMappingReport(report)}`);
  }
}

export const chainSequence = (residues: Residue[]) => residues.map((r) => r.code).join('');

/**
 * Map `sequence` onto the chain residues. Without a sequence, position k is residue k.
 * Throws SequenceMismatchError when the sequence is not the chain's protein.
 */
export function mapSequence(chain: string, residues: Residue[], breakAfter: boolean[], sequence?: string, minIdentity = MIN_IDENTITY): ChainMapping {
  const b = chainSequence(residues);
  if (sequence === undefined || sequence === b) {
    const report = summarize(chain, residues, sequence ?? b, residues.map((_, k) => ({ a: k, b: k })), sequence === undefined ? 'chain' : 'exact');
    return { residues, positionOfResidue: residues.map((_, k) => k), report };
  }
  const { columns } = alignGlobal(sequence, b, breakAfter);
  const report = summarize(chain, residues, sequence, columns, 'alignment');
  const need = minAlignedPairs(sequence.length, residues.length);
  if (report.alignedLength < need) {
    report.accepted = false;
    report.reason = `sequence does not match chain ${chain}: only ${report.alignedLength} residues align (need at least ${need})`;
  } else if (report.identity < minIdentity) {
    report.accepted = false;
    report.reason = `sequence does not match chain ${chain}: identity ${report.identity.toFixed(3)} over ${report.alignedLength} aligned residues is below ${minIdentity}`;
  }
  if (!report.accepted) throw new SequenceMismatchError(report);
  const positionOfResidue = residues.map(() => -1);
  for (const c of columns) if (c.a >= 0 && c.b >= 0) positionOfResidue[c.b] = c.a;
  return { residues, positionOfResidue, report };
}

function summarize(chain: string, residues: Residue[], a: string, columns: Column[], method: MappingReport['method']): MappingReport {
  let aligned = 0, identical = 0, internalGaps = 0;
  const mismatches: Mismatch[] = [];
  const firstPair = columns.findIndex((c) => c.a >= 0 && c.b >= 0);
  let lastPair = -1;
  columns.forEach((c, k) => {
    if (c.a >= 0 && c.b >= 0) lastPair = k;
  });
  columns.forEach((c, k) => {
    if (c.a >= 0 && c.b >= 0) {
      aligned++;
      const r = residues[c.b]!;
      if (a[c.a] === r.code && r.code !== 'X') identical++;
      else mismatches.push({ position: c.a + 1, sequence: a[c.a]!, residue: residueLabel(r), chain: r.code });
    } else if (k > firstPair && k < lastPair) {
      const prev = columns[k - 1]!;
      const sameRun = (c.a < 0 && prev.a < 0 && prev.b >= 0) || (c.b < 0 && prev.b < 0 && prev.a >= 0);
      if (!sameRun) internalGaps++;
    }
  });
  const unmatchedSequence: { from: number; to: number }[] = [];
  const unmatchedChain: ChainRange[] = [];
  for (const c of columns) {
    if (c.b < 0) {
      const last = unmatchedSequence[unmatchedSequence.length - 1];
      if (last && last.to === c.a) last.to = c.a + 1;
      else unmatchedSequence.push({ from: c.a + 1, to: c.a + 1 });
    }
  }
  let prevB = -2;
  for (const c of columns) {
    if (c.a >= 0) continue;
    const label = residueLabel(residues[c.b]!);
    const last = unmatchedChain[unmatchedChain.length - 1];
    if (last && prevB === c.b - 1) (last.to = label), last.count++;
    else unmatchedChain.push({ from: label, to: label, count: 1 });
    prevB = c.b;
  }
  return {
    chain,
    chainLength: residues.length,
    sequenceLength: a.length,
    method,
    alignedLength: aligned,
    identical,
    identity: aligned ? identical / aligned : 0,
    mismatches,
    internalGaps,
    unmatchedSequence,
    unmatchedChain,
    alignmentText: method === 'alignment' ? alignmentText(a, residues, columns) : [],
    accepted: true,
  };
}

/** "seq    1 MQIF-VKT" / "         |||  ||" / "A      1 MQIFAVKT", 60 columns per block. */
function alignmentText(a: string, residues: Residue[], columns: Column[]): string[] {
  const out: string[] = [];
  for (let k = 0; k < columns.length; k += 60) {
    const block = columns.slice(k, k + 60);
    const firstA = block.find((c) => c.a >= 0);
    const firstB = block.find((c) => c.b >= 0);
    const top = block.map((c) => (c.a >= 0 ? a[c.a] : '-')).join('');
    const bottom = block.map((c) => (c.b >= 0 ? residues[c.b]!.code : '-')).join('');
    const mid = block.map((c) => (c.a >= 0 && c.b >= 0 ? (a[c.a] === residues[c.b]!.code ? '|' : '.') : ' ')).join('');
    const bLabel = firstB ? `${residues[firstB.b]!.resSeq}${residues[firstB.b]!.iCode}` : '';
    out.push(`  sequence ${String(firstA ? firstA.a + 1 : '').padStart(6)} ${top}`, `  ${''.padStart(15)} ${mid}`, `  chain    ${bLabel.padStart(6)} ${bottom}`, '');
  }
  return out;
}

/** The report as text for the terminal. */
export function formatMappingReport(r: MappingReport): string {
  const lines: string[] = [];
  const how = { chain: 'positions are chain residues in coordinate order', exact: 'sequence identical to the chain', alignment: 'global alignment (BLOSUM62, gaps 10/0.5, end gaps free)' }[r.method];
  lines.push(`mapping onto chain ${r.chain}: ${how}`);
  lines.push(`  chain residues ${r.chainLength}, sequence length ${r.sequenceLength}`);
  lines.push(`  aligned ${r.alignedLength}, identical ${r.identical}, identity ${r.identity.toFixed(3)}, mismatches ${r.mismatches.length}, internal gaps ${r.internalGaps}`);
  if (r.unmatchedSequence.length) lines.push(`  sequence positions without a residue: ${r.unmatchedSequence.map((u) => (u.from === u.to ? `${u.from}` : `${u.from}-${u.to}`)).join(', ')}`);
  if (r.unmatchedChain.length) lines.push(`  chain residues without a sequence position: ${r.unmatchedChain.map((u) => (u.count === 1 ? u.from : `${u.from} .. ${u.to} (${u.count})`)).join(', ')}`);
  const shown = r.mismatches.slice(0, 20);
  if (shown.length) lines.push(`  mismatches: ${shown.map((m) => `${m.sequence}${m.position}/${m.residue}`).join(', ')}${r.mismatches.length > shown.length ? `, ... (${r.mismatches.length - shown.length} more)` : ''}`);
  if (r.alignmentText.length) lines.push('', ...r.alignmentText);
  return lines.join('\n');
}
