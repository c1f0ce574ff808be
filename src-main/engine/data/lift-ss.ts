// LIFT_SS text format (fengtuan/LIFT_SS data/*.txt): records of exactly three lines
//   >id
//   SEQUENCE            (one line, never wrapped in the published files)
//   LABELS              (one DSSP letter per residue: L B E G I H S T P X; L = coil)
// The published files have no blank lines, LF or CRLF endings, and ids like `2n64_C` / `5uj0B`.
//
// Policy (see lines.ts and labels-ss.ts):
//   - CRLF, a BOM, blank lines and trailing whitespace are accepted.
//   - A record needs exactly a sequence line and a label line. Wrapped records are rejected,
//     not guessed: the label alphabet overlaps the amino-acid alphabet (L E G I H S T P), so a
//     third line cannot be attributed safely.
//   - Label line: trailing whitespace is ignored unless it is needed to reach the sequence
//     length (a ' ' is a valid way to write coil); any other length difference rejects the
//     record, located at the label line (column = first position past the shorter string).
//   - Lowercase residues are folded (noted); non-ESM residues, unknown label letters, empty ids
//     and duplicate ids (the later record) are rejections located at line and column.
// Lenient (default): rejections come back as notes next to the accepted records.
// Strict: the first rejection is thrown as InputError.
import { type SsConvention, type SsRecord, type SsSummary, DEFAULT_SS_CONVENTION, decodeSs8, isSs8Label, summariseSs } from './labels-ss.js';
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

export interface LiftSsOptions extends ParseOptions {
  convention?: SsConvention;
}

export interface LiftSsResult extends ParseResult<SsRecord> {
  summary: SsSummary;
}

export function parseLiftSs(text: string, opts: LiftSsOptions = {}): LiftSsResult {
  const file = opts.file ?? '<input>';
  const conv = opts.convention ?? DEFAULT_SS_CONVENTION;
  const sink = new NoteSink(opts.strict ?? false);
  const { lines, bom } = splitLines(text);
  if (bom) sink.changed('UTF-8 byte-order mark removed', { file, line: 1 });
  const groups = groupByHeader(lines, file, sink);
  const ids = new DuplicateIds();
  const records: SsRecord[] = [];
  const counts = { countP: 0, countX: 0 };

  for (const g of groups) {
    const id = g.header.split(/\s+/)[0] ?? '';
    const rec = id || g.index;
    const at = (line: number, column?: number) =>
      column === undefined ? { file, record: rec, line } : { file, record: rec, line, column };
    if (id === '') {
      sink.reject('header has no id', at(g.headerLine, 2));
      continue;
    }
    if (g.body.length !== 2) {
      const why =
        g.body.length < 2
          ? g.body.length === 0
            ? 'record has no sequence and no label line'
            : 'record has a sequence but no label line'
          : `record has ${g.body.length} lines after the header; LIFT_SS records are exactly one sequence line and one label line (wrapped lines are not supported)`;
      sink.reject(why, at(g.body.length > 2 ? g.body[2].line : g.headerLine));
      continue;
    }
    const [seqLine, labLine] = g.body;
    const seq = checkSequence(seqLine.text);
    if (!seq.ok) {
      sink.reject(seq.reason, at(seqLine.line, seq.offset + 1));
      continue;
    }
    const n = seq.sequence.length;
    // Trailing spaces count only when they are needed to reach the sequence length (coil).
    const labels = labLine.text.length === n ? labLine.text : labLine.raw.length === n ? labLine.raw : labLine.text;
    if (labels.length !== n) {
      sink.reject(
        `label line has ${labels.length} labels but the sequence has ${n} residues`,
        at(labLine.line, Math.min(labels.length, n) + 1),
      );
      continue;
    }
    const dec = decodeSs8(labels, conv);
    if (!dec.ok) {
      const bad = findBadChars(labels, isSs8Label)!;
      sink.reject(badCharsMessage(labels, bad, { noun: 'label', what: 'a DSSP state (expected one of L B E G I H S T P X C - or space)' }), at(labLine.line, dec.offset + 1));
      continue;
    }
    const first = ids.check(id, g.headerLine);
    if (first !== undefined) {
      sink.reject(`duplicate id '${id}' (first at line ${first}, again at line ${g.headerLine}); the later record is rejected`, at(g.headerLine));
      continue;
    }
    if (seq.lowercase) sink.changed(`${seq.lowercase} lowercase residue(s) folded to uppercase`, at(seqLine.line));
    const dna = nucleotideWarning(seq.sequence);
    if (dna) sink.warn(dna, at(seqLine.line));
    counts.countP += dec.labels.countP;
    counts.countX += dec.labels.countX;
    records.push({
      id,
      sequence: seq.sequence,
      ss8: dec.labels.ss8,
      ss3: dec.labels.ss3,
      mask: dec.labels.mask,
      loc: { file, record: id, line: g.headerLine },
    });
  }
  if (groups.length === 0) sink.warn('no records found', { file });
  return { records, notes: sink.notes, summary: summariseSs(records, counts, conv) };
}

export async function readLiftSsFile(path: string, opts: Omit<LiftSsOptions, 'file'> = {}): Promise<LiftSsResult> {
  return parseLiftSs(await readText(path), { ...opts, file: path });
}
