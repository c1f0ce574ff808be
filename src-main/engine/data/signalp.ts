// SignalP 6.0 3-line format (fteufel/signalp-6.0 data/train_set.fasta, PEFT-SP data/):
//   >ACCESSION|KINGDOM|TYPE|PARTITION
//   SEQUENCE        (the first 70 residues of the protein; shorter proteins are shorter)
//   LABELS          (one letter per residue: S L T P I M O)
// Prediction inputs (PEFT-SP prediction_testcase.fasta) use the same header with no label
// line; such records are accepted with `labels: null`.
//
// Validation (each failure rejects the record with file, accession, line and column):
//   - header: exactly 4 '|'-separated fields; non-empty accession; kingdom in EUKARYA ARCHAEA
//     NEGATIVE POSITIVE; type in NO_SP SP LIPO TAT TATLIPO PILIN; partition a non-negative
//     integer.
//   - sequence: ESM alphabet (lowercase folded, noted); not empty.
//   - labels: letters S L T P I M O only, as many as residues.
//   - labels agree with the type: the signal-peptide letter of the type (SP:S LIPO:L TAT:T
//     TATLIPO:T PILIN:P — SignalP 6.0 writes Tat lipoproteins with T) forms a leading run
//     starting at residue 1, and no other signal-peptide letter occurs anywhere; NO_SP has no
//     S/L/T/P at all.
//   - duplicate accession: the later record is rejected (both lines named).
// Warnings (record kept): a sequence longer than 70 residues (the SignalP/PEFT-SP models only
// see the first 70; nothing is cut here), a file mixing labelled and unlabelled records.
// Cleavage site = 1-based index of the last residue of the leading S/L/T/P run (science.md);
// null for NO_SP and for unlabelled records.
// Lenient (default) returns rejections as notes; strict throws the first as InputError.
import {
  DuplicateIds,
  NoteSink,
  type ParseOptions,
  type ParseResult,
  badCharsMessage,
  checkSequence,
  findBadChars,
  groupByHeader,
  nucleotideWarning,
  readText,
  splitLines,
} from './lines.js';

export const KINGDOMS = ['EUKARYA', 'ARCHAEA', 'NEGATIVE', 'POSITIVE'] as const;
export type Kingdom = (typeof KINGDOMS)[number];

/** SignalP 6.0 global types, in SignalP 6.0's index order (SIGNALP6_GLOBAL_LABEL_DICT). */
export const SP_TYPES = ['NO_SP', 'SP', 'LIPO', 'TAT', 'TATLIPO', 'PILIN'] as const;
export type SpType = (typeof SP_TYPES)[number];

/** Per-residue letters: S Sec/SPI, L Sec/SPII, T Tat, P pilin-like, I inside, M membrane, O outside. */
export const SIGNALP_LETTERS = 'SLTPIMO';
export const SIGNAL_PEPTIDE_LETTERS = 'SLTP';
const IS_SIGNALP_LETTER = new Uint8Array(65536);
for (const c of SIGNALP_LETTERS) IS_SIGNALP_LETTER[c.charCodeAt(0)] = 1;

/** The letter a type's signal peptide is written with (null for NO_SP). */
export const TYPE_LETTER: Readonly<Record<SpType, string | null>> = Object.freeze({
  NO_SP: null,
  SP: 'S',
  LIPO: 'L',
  TAT: 'T',
  TATLIPO: 'T',
  PILIN: 'P',
});

/** Models read at most this many residues (SignalP 6.0 / PEFT-SP). */
export const SIGNALP_MAX_LENGTH = 70;

export interface SignalPRecord {
  /** UniProt accession (first header field) */
  id: string;
  kingdom: Kingdom;
  type: SpType;
  partition: number;
  sequence: string;
  /** one of S L T P I M O per residue; null for an unlabelled (prediction) record */
  labels: string | null;
  /** 1-based last residue of the signal peptide; null for NO_SP or unlabelled */
  cleavageSite: number | null;
  loc: { file: string; record: string; line: number };
}

export interface SignalPResult extends ParseResult<SignalPRecord> {
  /** 'all' / 'none' records carry a label line, or 'mixed' */
  labelled: 'all' | 'none' | 'mixed';
}

/** Cleavage site from a label string: end of the leading S/L/T/P run (1-based), null if none. */
export function cleavageSiteOf(labels: string): number | null {
  let k = 0;
  while (k < labels.length && SIGNAL_PEPTIDE_LETTERS.includes(labels[k])) k++;
  return k === 0 ? null : k;
}

/**
 * Checks that labels agree with the type. Returns null if they do, else the 0-based offset of
 * the first offending letter and why.
 */
export function checkLabelsAgainstType(labels: string, type: SpType): { offset: number; reason: string } | null {
  const own = TYPE_LETTER[type];
  let k = 0;
  if (own !== null) {
    while (k < labels.length && labels[k] === own) k++;
    if (k === 0) return { offset: 0, reason: `type ${type} but the labels do not start with its signal-peptide letter '${own}'` };
  }
  for (let i = k; i < labels.length; i++) {
    if (SIGNAL_PEPTIDE_LETTERS.includes(labels[i])) {
      const why =
        own === null
          ? `type NO_SP but label '${labels[i]}' marks a signal peptide`
          : labels[i] === own
            ? `signal-peptide letter '${own}' after the mature part began (the signal peptide must be one leading run)`
            : `label '${labels[i]}' is not the signal-peptide letter of type ${type} ('${own}')`;
      return { offset: i, reason: why };
    }
  }
  return null;
}

export function parseSignalP(text: string, opts: ParseOptions = {}): SignalPResult {
  const file = opts.file ?? '<input>';
  const sink = new NoteSink(opts.strict ?? false);
  const { lines, bom } = splitLines(text);
  if (bom) sink.changed('UTF-8 byte-order mark removed', { file, line: 1 });
  const groups = groupByHeader(lines, file, sink);
  const ids = new DuplicateIds();
  const records: SignalPRecord[] = [];
  let withLabels = 0;
  let withoutLabels = 0;

  for (const g of groups) {
    const fields = g.header.split('|').map((f) => f.trim());
    const id = fields[0] ?? '';
    const rec = id || g.index;
    const at = (line: number, column?: number) =>
      column === undefined ? { file, record: rec, line } : { file, record: rec, line, column };
    // 1-based column of header field k (the '>' is column 1).
    const headerCol = (k: number) => {
      let c = 2;
      const raw = g.header.split('|');
      for (let j = 0; j < k; j++) c += raw[j].length + 1;
      return c;
    };
    if (fields.length !== 4) {
      sink.reject(`header has ${fields.length} '|'-separated field(s); expected ACCESSION|KINGDOM|TYPE|PARTITION`, at(g.headerLine, 2));
      continue;
    }
    if (id === '') {
      sink.reject('header has an empty accession', at(g.headerLine, 2));
      continue;
    }
    const [, kingdom, type, partitionText] = fields;
    if (!(KINGDOMS as readonly string[]).includes(kingdom)) {
      sink.reject(`kingdom '${kingdom}' is not one of ${KINGDOMS.join(' ')}`, at(g.headerLine, headerCol(1)));
      continue;
    }
    if (!(SP_TYPES as readonly string[]).includes(type)) {
      sink.reject(`type '${type}' is not one of ${SP_TYPES.join(' ')}`, at(g.headerLine, headerCol(2)));
      continue;
    }
    if (!/^\d+$/.test(partitionText)) {
      sink.reject(`partition '${partitionText}' is not a non-negative integer`, at(g.headerLine, headerCol(3)));
      continue;
    }
    if (g.body.length === 0 || g.body.length > 2) {
      sink.reject(
        g.body.length === 0
          ? 'record has no sequence line'
          : `record has ${g.body.length} lines after the header; expected a sequence line and a label line`,
        at(g.body.length > 2 ? g.body[2].line : g.headerLine),
      );
      continue;
    }
    const seqLine = g.body[0];
    const seq = checkSequence(seqLine.text);
    if (!seq.ok) {
      sink.reject(seq.reason, at(seqLine.line, seq.offset + 1));
      continue;
    }
    const n = seq.sequence.length;
    let labels: string | null = null;
    if (g.body.length === 2) {
      const labLine = g.body[1];
      labels = labLine.text;
      const bad = findBadChars(labels, (c) => IS_SIGNALP_LETTER[c] === 1);
      if (bad) {
        sink.reject(badCharsMessage(labels, bad, { noun: 'label', what: 'a SignalP letter (S L T P I M O)' }), at(labLine.line, bad.offsets[0] + 1));
        continue;
      }
      if (labels.length !== n) {
        sink.reject(`label line has ${labels.length} labels but the sequence has ${n} residues`, at(labLine.line, Math.min(labels.length, n) + 1));
        continue;
      }
      const disagree = checkLabelsAgainstType(labels, type as SpType);
      if (disagree) {
        sink.reject(disagree.reason, at(labLine.line, disagree.offset + 1));
        continue;
      }
    }
    const first = ids.check(id, g.headerLine);
    if (first !== undefined) {
      sink.reject(`duplicate accession '${id}' (first at line ${first}, again at line ${g.headerLine}); the later record is rejected`, at(g.headerLine));
      continue;
    }
    if (seq.lowercase) sink.changed(`${seq.lowercase} lowercase residue(s) folded to uppercase`, at(seqLine.line));
    const dna = nucleotideWarning(seq.sequence);
    if (dna) sink.warn(dna, at(seqLine.line));
    if (n > SIGNALP_MAX_LENGTH) {
      sink.warn(`sequence has ${n} residues; SignalP-style models read only the first ${SIGNALP_MAX_LENGTH}`, at(seqLine.line, SIGNALP_MAX_LENGTH + 1));
    }
    if (labels === null) withoutLabels++;
    else withLabels++;
    records.push({
      id,
      kingdom: kingdom as Kingdom,
      type: type as SpType,
      partition: Number(partitionText),
      sequence: seq.sequence,
      labels,
      cleavageSite: labels === null ? null : cleavageSiteOf(labels),
      loc: { file, record: id, line: g.headerLine },
    });
  }
  if (groups.length === 0) sink.warn('no records found', { file });
  const labelled = withoutLabels === 0 ? 'all' : withLabels === 0 ? 'none' : 'mixed';
  if (labelled === 'mixed') {
    sink.warn(`${withLabels} record(s) have a label line and ${withoutLabels} do not`, { file });
  }
  return { records, notes: sink.notes, labelled };
}

export async function readSignalPFile(path: string, opts: Omit<ParseOptions, 'file'> = {}): Promise<SignalPResult> {
  return parseSignalP(await readText(path), { ...opts, file: path });
}
