// The annotation pipeline: read a structure, map a prediction onto one chain, write scores as
// B-factors (and optionally predicted helices/strands) changing nothing else.
//
// A prediction is { sequence?, scores, ss3? }: scores (and ss3) are per position of `sequence`,
// or per chain residue (in the order residues first appear in the first model) when no
// sequence is given. A training run's predictions fit the same shape, so a future `--run` flag
// only has to load them.
import { readFile } from 'node:fs/promises';
import { InputError } from '../../data/errors.js';
import { mapSequence, type MappingReport, MIN_IDENTITY } from './mapping.js';
import { parseMmcif } from './mmcif.js';
import { allChains, chainBreaks, chainResidues, polymerChains, residueLabel, type Residue, type Structure } from './model.js';
import { parsePdb } from './pdb.js';
import { scoreToHundredths, type AnnotationPlan } from './plan.js';
import { parseSs3, ssSegments } from './ss.js';
import { writeFileAtomic } from '../../atomic.js';
import { decodeBytes, encodeText } from './text.js';
import { writeMmcif } from './write-mmcif.js';
import { writePdb, type WriteStats } from './write-pdb.js';

export interface Prediction {
  /** the predicted protein; omit when positions are the chain's residues */
  sequence?: string;
  /** score in [0,1] per position; null or NaN = no score (written as 0.00) */
  scores: ReadonlyArray<number | null>;
  /** predicted 3-state secondary structure (H/E/C), one per position */
  ss3?: string;
}

export interface AnnotateOptions {
  chain: string;
  prediction: Prediction;
  scoreName?: string;
  runLabel?: string;
  modelLabel?: string;
  /** identity needed over the aligned residues (default MIN_IDENTITY = 0.5) */
  minIdentity?: number;
}

export interface AnnotationResult {
  format: Structure['format'];
  /** the annotated file, bytes */
  output: Buffer;
  chain: string;
  residues: Residue[];
  /** per chain residue (same order), the 0-based position of the prediction it took its score from, or -1 */
  positions: number[];
  mapping: MappingReport;
  /** chain residues left without a score (B-factor 0.00) */
  unscored: Residue[];
  stats: WriteStats;
}

/** mmCIF when the file starts (after comments) with data_, or is named .cif/.mmcif; PDB otherwise. */
export function detectFormat(text: string, file: string): Structure['format'] {
  for (const line of text.slice(0, 1 << 16).split(/\r\n|\n|\r/)) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    if (t.slice(0, 5).toLowerCase() === 'data_') return 'mmcif';
    break;
  }
  return /\.(cif|mmcif)$/i.test(file) ? 'mmcif' : 'pdb';
}

export function parseStructure(bytes: Uint8Array, file: string) {
  const text = decodeBytes(bytes);
  return detectFormat(text, file) === 'mmcif' ? parseMmcif(text, file) : parsePdb(text, file);
}

/** The chain's residues; a mmCIF label_asym_id is accepted when no author chain has that name. */
export function resolveChain(s: Structure, chain: string): { chain: string; residues: Residue[]; note?: string } {
  let residues = chainResidues(s, chain);
  if (residues.length) return { chain, residues };
  if (s.format === 'mmcif') {
    const viaLabel = s.atoms.find((a) => a.polymer && a.model === s.firstModel && a.labelChain === chain);
    if (viaLabel) {
      residues = chainResidues(s, viaLabel.chain);
      return { chain: viaLabel.chain, residues, note: `chain '${chain}' is a label_asym_id; annotating author chain '${viaLabel.chain}'` };
    }
  }
  const poly = polymerChains(s);
  const other = allChains(s).filter((c) => !poly.includes(c));
  const name = (c: string) => (c.trim() ? c : `'${c}' (blank)`);
  throw new InputError(
    `chain '${chain}' has no polymer residues in the first model; chains with polymer residues: ${poly.map(name).join(', ') || 'none'}` +
      (other.length ? `; other chains: ${other.map(name).join(', ')}` : ''),
    { file: s.file },
  );
}

export function cleanSequence(seq: string): string {
  const s = seq.replace(/\s+/g, '').replace(/\*$/, '').toUpperCase();
  const bad = s.search(/[^A-Z]/);
  if (bad >= 0) throw new RangeError(`sequence: '${s[bad]}' at position ${bad + 1} is not an amino-acid letter`);
  if (!s) throw new RangeError('sequence is empty');
  return s;
}

/** Annotate a structure given as bytes; returns the new bytes and what was done. */
export function annotateStructure(bytes: Uint8Array, file: string, opts: AnnotateOptions): AnnotationResult {
  return annotateParsed(parseStructure(bytes, file), opts);
}

/** Annotate an already parsed structure (see parseStructure). */
export function annotateParsed(s: ReturnType<typeof parseStructure>, opts: AnnotateOptions): AnnotationResult {
  const { chain, residues, note } = resolveChain(s, opts.chain);
  const breaks = chainBreaks(s, residues);
  const p = opts.prediction;
  const sequence = p.sequence === undefined ? undefined : cleanSequence(p.sequence);
  const length = sequence?.length ?? residues.length;
  const unit = sequence === undefined ? `residues in chain ${chain}` : 'sequence positions';
  if (p.scores.length !== length) throw new RangeError(`${p.scores.length} scores for ${length} ${unit}`);
  p.scores.forEach((v, k) => {
    if (v === null || Number.isNaN(v)) return;
    if (!Number.isFinite(v) || v < 0 || v > 1) throw new RangeError(`score ${v} at position ${k + 1} is outside [0,1]`);
  });
  const ss3 = p.ss3 === undefined ? undefined : parseSs3(p.ss3, length);

  const mapping = mapSequence(chain, residues, breaks, sequence, opts.minIdentity ?? MIN_IDENTITY);
  const hundredths = mapping.positionOfResidue.map((pos) => {
    const v = pos >= 0 ? p.scores[pos] : null;
    return v === null || v === undefined || Number.isNaN(v) ? null : scoreToHundredths(v);
  });
  const plan: AnnotationPlan = { chain, residues, hundredths, scoreName: opts.scoreName ?? 'score', mapping: mapping.report };
  if (opts.runLabel !== undefined) plan.runLabel = opts.runLabel;
  if (opts.modelLabel !== undefined) plan.modelLabel = opts.modelLabel;
  if (ss3 !== undefined) plan.segments = ssSegments(ss3, mapping, breaks);

  const { text, stats } = s.format === 'pdb' ? writePdb(s, plan) : writeMmcif(s, plan);
  if (note) stats.notes.unshift(note);
  if (stats.atomsOutsideFirstModel) stats.notes.push(`${stats.atomsOutsideFirstModel} atoms of chain ${chain} belong to residues absent from the first model; their B-factor was set to 0.00`);
  return { format: s.format, output: encodeText(text), chain, residues, positions: [...mapping.positionOfResidue], mapping: mapping.report, unscored: residues.filter((_, k) => hundredths[k] === null), stats };
}

/** Read IN, annotate, write OUT through the atomic writer. */
export async function annotateFile(input: string, output: string, opts: AnnotateOptions): Promise<AnnotationResult> {
  const bytes = await readFile(input);
  const result = annotateStructure(bytes, input, opts);
  writeFileAtomic(output, result.output);
  return result;
}

/** A one-paragraph summary for the terminal. */
export function formatSummary(r: AnnotationResult, output?: string): string {
  const s = r.stats;
  const lines = [
    `${r.stats.atomsUpdated} atoms of chain ${r.chain} updated (${r.residues.length - r.unscored.length} residues scored, ${r.unscored.length} without a score set to 0.00)`,
  ];
  if (r.unscored.length) lines.push(`  unscored: ${r.unscored.slice(0, 12).map(residueLabel).join(', ')}${r.unscored.length > 12 ? `, ... (${r.unscored.length - 12} more)` : ''}`);
  if (s.helices || s.strands || s.removedRecords) lines.push(`secondary structure: ${s.helices} helices and ${s.strands} strands written, ${s.removedRecords} old records of chain ${r.chain} replaced`);
  for (const n of s.notes) lines.push(`note: ${n}`);
  lines.push(`annotation described in ${s.remark}${output ? `; written ${output}` : ''}`);
  return lines.join('\n');
}
