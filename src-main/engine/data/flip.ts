// FLIP secondary-structure split (J-SNACKKB/FLIP splits/secondary_structure), as rewritten in
// ../shared/data/secondary-structure/flip: 4-line records
//   >1es5-A SET=train VALIDATION=False
//   SEQUENCE
//   3-STATE LABELS     (H E C, one per residue)
//   RESOLVED MASK      (0/1 per residue; 0 = not resolved in the structure, never scored)
// The header's key=value attributes are kept (`set`, `validation`, plus any others in
// `attributes`). Labels at unresolved positions are parsed (they must still be valid letters)
// and then masked.
//
// Policy: CRLF, BOM, blank lines and trailing whitespace accepted; exactly three lines after
// each header; the three strings must have the same length (a mismatch is located at the
// offending line, column = first position past the shorter string); labels H E C (coil may be
// written L, '-' or space; X = masked); mask digits 0/1 only; lowercase residues folded (noted);
// duplicate ids reject the later record. A header token without '=' after the id, or a
// VALIDATION value other than True/False, is a warning (kept in `attributes`), not a rejection:
// it does not affect the labels.
// Lenient (default) returns rejections as notes; strict throws the first as InputError.
import { type SsRecord, type SsSummary, DEFAULT_SS_CONVENTION, applyMask, decodeSs3, isSs3Label, summariseSs } from './labels-ss.js';
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

export interface FlipRecord extends SsRecord {
  /** SET=... from the header (train/test), null if absent */
  set: string | null;
  /** VALIDATION=True/False from the header, null if absent or not a boolean */
  validation: boolean | null;
  /** every key=value of the header, verbatim */
  attributes: Record<string, string>;
  /** the resolved column as given (1 = resolved) */
  resolved: Uint8Array;
}

export interface FlipResult extends ParseResult<FlipRecord> {
  summary: SsSummary;
}

export function parseFlip(text: string, opts: ParseOptions = {}): FlipResult {
  const file = opts.file ?? '<input>';
  const sink = new NoteSink(opts.strict ?? false);
  const { lines, bom } = splitLines(text);
  if (bom) sink.changed('UTF-8 byte-order mark removed', { file, line: 1 });
  const groups = groupByHeader(lines, file, sink);
  const ids = new DuplicateIds();
  const records: FlipRecord[] = [];
  const counts = { countP: 0, countX: 0 };

  for (const g of groups) {
    const tokens = g.header.split(/\s+/).filter((t) => t !== '');
    const id = tokens[0] ?? '';
    const rec = id || g.index;
    const at = (line: number, column?: number) =>
      column === undefined ? { file, record: rec, line } : { file, record: rec, line, column };
    if (id === '') {
      sink.reject('header has no id', at(g.headerLine, 2));
      continue;
    }
    if (g.body.length !== 3) {
      sink.reject(
        `record has ${g.body.length} line(s) after the header; FLIP records are a sequence, a 3-state label and a 0/1 resolved line`,
        at(g.body.length > 3 ? g.body[3].line : g.headerLine),
      );
      continue;
    }
    const [seqLine, labLine, maskLine] = g.body;
    const seq = checkSequence(seqLine.text);
    if (!seq.ok) {
      sink.reject(seq.reason, at(seqLine.line, seq.offset + 1));
      continue;
    }
    const n = seq.sequence.length;
    const labels = labLine.text.length === n ? labLine.text : labLine.raw.length === n ? labLine.raw : labLine.text;
    if (labels.length !== n) {
      sink.reject(`label line has ${labels.length} labels but the sequence has ${n} residues`, at(labLine.line, Math.min(labels.length, n) + 1));
      continue;
    }
    const maskText = maskLine.text;
    if (maskText.length !== n) {
      sink.reject(`resolved line has ${maskText.length} digits but the sequence has ${n} residues`, at(maskLine.line, Math.min(maskText.length, n) + 1));
      continue;
    }
    const badMask = findBadChars(maskText, (c) => c === 48 || c === 49);
    if (badMask) {
      sink.reject(badCharsMessage(maskText, badMask, { noun: 'resolved mask', nouns: 'resolved-mask values', what: '0 or 1' }), at(maskLine.line, badMask.offsets[0] + 1));
      continue;
    }
    const resolved = new Uint8Array(n);
    for (let i = 0; i < n; i++) resolved[i] = maskText.charCodeAt(i) - 48;
    const dec = decodeSs3(labels);
    if (!dec.ok) {
      const bad = findBadChars(labels, isSs3Label)!;
      sink.reject(
        badCharsMessage(labels, bad, { noun: 'label', what: 'a 3-state label (expected H, E, C; coil may be L, - or space; X = masked)' }),
        at(labLine.line, dec.offset + 1),
      );
      continue;
    }
    const first = ids.check(id, g.headerLine);
    if (first !== undefined) {
      sink.reject(`duplicate id '${id}' (first at line ${first}, again at line ${g.headerLine}); the later record is rejected`, at(g.headerLine));
      continue;
    }
    const attributes: Record<string, string> = {};
    for (const t of tokens.slice(1)) {
      const eq = t.indexOf('=');
      if (eq <= 0) {
        sink.warn(`header token '${t}' is not key=value; ignored`, at(g.headerLine));
        continue;
      }
      attributes[t.slice(0, eq)] = t.slice(eq + 1);
    }
    let validation: boolean | null = null;
    if ('VALIDATION' in attributes) {
      const v = attributes.VALIDATION.toLowerCase();
      if (v === 'true') validation = true;
      else if (v === 'false') validation = false;
      else sink.warn(`VALIDATION='${attributes.VALIDATION}' is not True/False`, at(g.headerLine));
    }
    if (seq.lowercase) sink.changed(`${seq.lowercase} lowercase residue(s) folded to uppercase`, at(seqLine.line));
    const dna = nucleotideWarning(seq.sequence);
    if (dna) sink.warn(dna, at(seqLine.line));
    counts.countX += dec.labels.countX;
    const d = applyMask(dec.labels, resolved);
    records.push({
      id,
      sequence: seq.sequence,
      ss8: null,
      ss3: d.ss3,
      mask: d.mask,
      loc: { file, record: id, line: g.headerLine },
      set: attributes.SET ?? null,
      validation,
      attributes,
      resolved,
    });
  }
  if (groups.length === 0) sink.warn('no records found', { file });
  return { records, notes: sink.notes, summary: summariseSs(records, counts, DEFAULT_SS_CONVENTION) };
}

export async function readFlipFile(path: string, opts: Omit<ParseOptions, 'file'> = {}): Promise<FlipResult> {
  return parseFlip(await readText(path), { ...opts, file: path });
}
