// GFF3 output in SignalP 6.0's `output.gff3` layout (what tools that read SignalP output expect):
//   ## gff-version 3
//   <id>\t<source>\t<type>\t<start>\t<end>\t<score>\t.\t.\t<attributes>
// one line per predicted signal peptide (sequences without one have no line), start 1, end =
// the cleavage site (last signal-peptide residue), score = the probability of the predicted SP
// type. SignalP 6.0 writes only two feature types and puts the rest in a Note: SP ->
// signal_peptide; LIPO -> lipoprotein_signal_peptide; TAT -> signal_peptide, Note=TAT; TATLIPO
// -> lipoprotein_signal_peptide, Note=TAT; PILIN -> signal_peptide, Note=Pilin. Column 9 is '.'
// when there is no attribute. Source defaults to SignalP 6.0's 'SignalP-6.0' so that readers
// filtering on it keep working; pass another one to label the producer honestly.
// Written atomically (temporary name, then rename).
import type { SpType } from '../data/signalp.js';
import { writeFileAtomic } from '../atomic.js';

export const GFF3_HEADER = '## gff-version 3';
export const SIGNALP6_SOURCE = 'SignalP-6.0';

export interface Gff3Feature {
  seqid: string;
  source: string;
  type: string;
  start: number;
  end: number;
  /** null -> '.' */
  score: number | null;
  strand?: '+' | '-' | '.';
  phase?: '0' | '1' | '2' | '.';
  attributes?: Record<string, string>;
}

/** GFF3 column-9 / seqid escaping of reserved characters (percent-encoding). */
export function gff3Escape(s: string, attribute = false): string {
  const reserved = attribute ? /[\t\n\r%;=&,\x00-\x1f\x7f]/g : /[\t\n\r%\x00-\x1f\x7f]/g;
  return s.replace(reserved, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** A probability as SignalP writes it: up to 7 decimals, no trailing zeros. */
export function formatScore(p: number): string {
  return String(Number(p.toFixed(7)));
}

export function formatGff3Line(f: Gff3Feature): string {
  if (!Number.isInteger(f.start) || !Number.isInteger(f.end) || f.start < 1 || f.end < f.start) throw new Error(`GFF3: bad interval ${f.start}-${f.end} for '${f.seqid}'`);
  const attrs = f.attributes && Object.keys(f.attributes).length ? Object.entries(f.attributes).map(([k, v]) => `${gff3Escape(k, true)}=${gff3Escape(v, true)}`).join(';') : '.';
  return [gff3Escape(f.seqid), gff3Escape(f.source), gff3Escape(f.type), f.start, f.end, f.score === null ? '.' : formatScore(f.score), f.strand ?? '.', f.phase ?? '.', attrs].join('\t');
}

export function formatGff3(features: Iterable<Gff3Feature>): string {
  let out = `${GFF3_HEADER}\n`;
  for (const f of features) out += `${formatGff3Line(f)}\n`;
  return out;
}

export function writeGff3(file: string, features: Iterable<Gff3Feature>): void {
  writeFileAtomic(file, formatGff3(features));
}

/** SignalP 6.0's feature type and Note for an SP type (null for NO_SP). */
export function signalPeptideFeature(type: SpType): { type: string; note?: string } | null {
  switch (type) {
    case 'NO_SP': return null;
    case 'SP': return { type: 'signal_peptide' };
    case 'LIPO': return { type: 'lipoprotein_signal_peptide' };
    case 'TAT': return { type: 'signal_peptide', note: 'TAT' };
    case 'TATLIPO': return { type: 'lipoprotein_signal_peptide', note: 'TAT' };
    case 'PILIN': return { type: 'signal_peptide', note: 'Pilin' };
  }
}

/** The SignalP-style line of one prediction, or null when it has no signal peptide. */
export function signalPeptideGff3(seqid: string, type: SpType, cleavageSite: number | null, probability: number, source = SIGNALP6_SOURCE): Gff3Feature | null {
  const f = signalPeptideFeature(type);
  if (!f || cleavageSite === null) return null;
  return { seqid, source, type: f.type, start: 1, end: cleavageSite, score: probability, attributes: f.note ? { Note: f.note } : undefined };
}
