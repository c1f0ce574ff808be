// Shared plumbing of the labelled-data parsers (LIFT_SS, FLIP, SignalP 3-line, NetSurfP CSV):
// line splitting that keeps 1-based line numbers (LF, CRLF and CR all end a line), header/body
// grouping, the residue policy for sequence lines, one message for all bad characters of a
// record, and the nucleotide warning. The plain-FASTA parser (fasta.ts) has its own streaming reader; the
// residue policy here is the same one (ESM alphabet, lowercase folded with a note) so that a
// sequence accepted by one parser is accepted by the others.
import { ESM_RESIDUES } from '../esm2/tokenizer.js';
import { InputError, type Location, type Note } from './errors.js';
import { readTextFile } from './utf8.js';

export interface Line {
  /** the line without its end-of-line (LF, CRLF or CR); trailing whitespace NOT removed */
  raw: string;
  /** `raw` with trailing spaces and tabs removed (what most callers want) */
  text: string;
  /** 1-based line number */
  line: number;
}

export interface SplitText {
  lines: Line[];
  /** a UTF-8 byte-order mark was removed from the start */
  bom: boolean;
}

/** Spaces and tabs (and VT, FF): the only characters trimmed from lines and headers. */
const isSpaceCode = (c: number) => c === 32 || c === 9 || c === 11 || c === 12;
// Loops, not /[ \t]+$/: that regex is quadratic on a long run of spaces followed by anything else.
export function trimEndSpace(s: string): string {
  let e = s.length;
  while (e > 0 && isSpaceCode(s.charCodeAt(e - 1))) e--;
  return e === s.length ? s : s.slice(0, e);
}
export function trimSpace(s: string): string {
  let b = 0;
  while (b < s.length && isSpaceCode(s.charCodeAt(b))) b++;
  return trimEndSpace(b === 0 ? s : s.slice(b));
}
export const isBlank = (s: string): boolean => trimEndSpace(s).length === 0;

/**
 * Split text into lines. LF, CRLF and a lone CR (old Mac files) each end a line; a BOM at the
 * start is removed. Unicode line separators (U+2028, U+2029) do not end a line: they are
 * characters like any other, which each parser accepts or reports where it finds them.
 */
export function splitLines(text: string): SplitText {
  let bom = false;
  if (text.charCodeAt(0) === 0xfeff) {
    text = text.slice(1);
    bom = true;
  }
  const lines: Line[] = [];
  const eol = /\r\n|\n|\r/g;
  let start = 0;
  let n = 0;
  for (let m = eol.exec(text); m; m = eol.exec(text)) {
    const raw = text.slice(start, m.index);
    lines.push({ raw, text: trimEndSpace(raw), line: ++n });
    start = m.index + m[0].length;
  }
  // A final empty piece after the last line break is not a line.
  if (start < text.length) {
    const raw = text.slice(start);
    lines.push({ raw, text: trimEndSpace(raw), line: ++n });
  }
  return { lines, bom };
}

/** A `>` header with the non-blank lines that follow it up to the next header. */
export interface HeaderGroup {
  /** 1-based number of the record in the file */
  index: number;
  /** header text after `>`, trimmed */
  header: string;
  headerLine: number;
  body: Line[];
}

/**
 * Group lines into `>` records. Blank lines are dropped (they carry no data in any of the
 * supported formats). Non-blank text before the first header means the file is not in a
 * `>`-record format at all, so it is thrown (even in lenient mode).
 */
export function groupByHeader(lines: Line[], file: string, sink?: NoteSink): HeaderGroup[] {
  const groups: HeaderGroup[] = [];
  let cur: HeaderGroup | undefined;
  for (const l of lines) {
    if (isBlank(l.text)) continue;
    if (l.raw.startsWith('>')) {
      cur = { index: groups.length + 1, header: trimSpace(headerText(l.text.slice(1), { file, line: l.line }, sink)), headerLine: l.line, body: [] };
      groups.push(cur);
      continue;
    }
    if (!cur) {
      const col = l.raw.length - trimSpace(l.raw).length + 1;
      throw new InputError("text before the first '>' header", { file, line: l.line, column: col });
    }
    cur.body.push(l);
  }
  return groups;
}

/**
 * A header's text with Unicode line and paragraph separators (U+2028, U+2029, U+0085) turned
 * into spaces, noted: inside an id or a description they would break the lines of every file
 * the header is later written to.
 */
export function headerText(h: string, loc: Location, sink?: { changed(message: string, loc: Location): void }): string {
  if (!/[\u2028\u2029\u0085]/.test(h)) return h;
  const col = h.search(/[\u2028\u2029\u0085]/) + 2;
  sink?.changed(`Unicode line separator ${describeChar(h, col - 2)} in the header replaced by a space`, { ...loc, column: col });
  return h.replace(/[\u2028\u2029\u0085]/g, ' ');
}

/** How many bad characters of one record a message lists before it only counts the rest. */
export const MAX_LISTED = 20;

/** Offsets of the bad characters of one string: the first MAX_LISTED, and how many in all. */
export class BadChars {
  readonly offsets: number[] = [];
  count = 0;
  add(offset: number): void {
    this.count++;
    if (this.offsets.length < MAX_LISTED) this.offsets.push(offset);
  }
}

export interface BadCharsWording {
  /** what one bad character is called: 'character' (default), 'label' */
  noun?: string;
  /** its plural (default noun + 's') */
  nouns?: string;
  /** what it should have been: 'a residue of the ESM alphabet' */
  what: string;
  /** where an offset is, for the list (default: `column N`) */
  where?: (offset: number) => string;
  /** how a bad character is shown (default describeChar) */
  show?: (offset: number) => string;
}

/**
 * One message for every bad character of a record: "character 'J' is not ..." for one (the
 * note's location gives its place), or "3 characters are not ...: 'J' (column 4), '1' (column
 * 9), U+2028 (column 12)", listing at most MAX_LISTED and counting the rest.
 */
export function badCharsMessage(s: string, bad: BadChars, w: BadCharsWording): string {
  const noun = w.noun ?? 'character';
  const show = w.show ?? ((i: number) => describeChar(s, i));
  if (bad.count === 1) return `${noun} ${show(bad.offsets[0])} is not ${w.what}`;
  const where = w.where ?? ((i: number) => `column ${i + 1}`);
  const items = bad.offsets.map((i) => `${show(i)} (${where(i)})`);
  const more = bad.count > bad.offsets.length ? `, and ${bad.count - bad.offsets.length} more` : '';
  return `${bad.count} ${w.nouns ?? `${noun}s`} are not ${w.what}: ${items.join(', ')}${more}`;
}

/** Share of a sequence's residues that are nucleotide letters (A C G T U N), case-insensitive. */
export function nucleotideShare(seq: string): number {
  if (seq.length === 0) return 0;
  let k = 0;
  for (let i = 0; i < seq.length; i++) {
    const c = seq.charCodeAt(i) | 32;
    if (c === 97 || c === 99 || c === 103 || c === 116 || c === 117 || c === 110) k++;
  }
  return k / seq.length;
}

/** At or above this share of A/C/G/T/U/N a sequence gets the nucleotide warning ... */
export const NUCLEOTIDE_SHARE = 0.9;
/** ... if it has at least this many residues (in a protein, A C G T N make about a quarter of the
 * residues, so 9 of 10 happens by chance about once in 10^5 ten-residue peptides; a 3-residue
 * "ACG" says nothing). */
export const NUCLEOTIDE_MIN_LENGTH = 10;

/** The warning for a sequence that looks like DNA or RNA, or null. */
export function nucleotideWarning(seq: string): string | null {
  if (seq.length < NUCLEOTIDE_MIN_LENGTH) return null;
  const share = nucleotideShare(seq);
  if (share < NUCLEOTIDE_SHARE) return null;
  return `sequence looks like nucleotides (${Math.floor(share * 100)} % of its ${seq.length} residues are A/C/G/T/U/N): ESM-2 reads protein sequences; is this a DNA or RNA file?`;
}

const IS_RESIDUE = new Uint8Array(128);
for (const c of ESM_RESIDUES) IS_RESIDUE[c.charCodeAt(0)] = 1;

export type SequenceCheck =
  | { ok: true; sequence: string; lowercase: number }
  | { ok: false; reason: string; offset: number };

/**
 * The residue policy: residues must be in the ESM alphabet (20 standard + X B U Z O);
 * lowercase is folded to uppercase (counted, so the caller can note it); anything else,
 * including `*`, gaps and inner whitespace, rejects the record. Every bad character is listed
 * (see badCharsMessage; `where` turns an offset into a position for the message); `offset` is
 * the first one's (0-based in `s`). A `*` is rejected rather than stripped because in a
 * labelled record it would shift the sequence against its one-label-per-residue line.
 */
export function checkSequence(s: string, where?: (offset: number) => string): SequenceCheck {
  let lowercase = 0;
  let bad: BadChars | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128 && IS_RESIDUE[c]) continue;
    if (c >= 97 && c <= 122 && IS_RESIDUE[c - 32]) {
      lowercase++;
      continue;
    }
    (bad ??= new BadChars()).add(i);
  }
  if (bad) return { ok: false, reason: badCharsMessage(s, bad, { what: 'a residue of the ESM alphabet', where }), offset: bad.offsets[0] };
  return { ok: true, sequence: lowercase ? s.toUpperCase() : s, lowercase };
}

/** Offsets of the characters of `s` that `ok` refuses (the first MAX_LISTED, and the count). */
export function findBadChars(s: string, ok: (code: number) => boolean): BadChars | null {
  let bad: BadChars | null = null;
  for (let i = 0; i < s.length; i++) if (!ok(s.charCodeAt(i))) (bad ??= new BadChars()).add(i);
  return bad;
}

/** `'x'` for printable ASCII, `U+XXXX` otherwise (tabs, control characters, non-ASCII). */
export function describeChar(s: string, i: number): string {
  const c = s.codePointAt(i) ?? 0;
  return c > 32 && c < 127 ? `'${s[i]}'` : `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Collects notes and implements the strict/lenient policy shared by the parsers. */
export class NoteSink {
  readonly notes: Note[] = [];
  constructor(private readonly strict: boolean) {}

  /** Reject a record: thrown in strict mode, otherwise kept as a `rejected` note. */
  reject(reason: string, loc: Location): void {
    if (this.strict) throw new InputError(reason, loc);
    this.notes.push({ kind: 'rejected', message: reason, loc });
  }

  changed(message: string, loc: Location): void {
    this.notes.push({ kind: 'changed', message, loc });
  }

  warn(message: string, loc: Location): void {
    this.notes.push({ kind: 'warning', message, loc });
  }
}

/** Common options of the labelled-data parsers. */
export interface ParseOptions {
  /** name used in locations (the path for files); default '<input>' */
  file?: string;
  /** throw the first rejection as InputError instead of returning it as a note */
  strict?: boolean;
}

export interface ParseResult<R> {
  records: R[];
  /** everything changed, rejected or worth a warning, in file order */
  notes: Note[];
}

/** Read a whole text file as strict UTF-8 (the labelled data sets are a few MB at most). */
export async function readText(path: string): Promise<string> {
  return readTextFile(path);
}

/** Tracks ids already seen so a later duplicate can be rejected with both lines named. */
export class DuplicateIds {
  private readonly seen = new Map<string, number>();
  /** Returns the line of the first occurrence if `id` was seen, else records it and returns undefined. */
  check(id: string, line: number): number | undefined {
    const first = this.seen.get(id);
    if (first !== undefined) return first;
    this.seen.set(id, line);
    return undefined;
  }
}
