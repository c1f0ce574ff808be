// Shared plumbing of the labelled-data parsers (LIFT_SS, FLIP, SignalP 3-line, NetSurfP CSV):
// line splitting that keeps 1-based line numbers, header/body grouping, and the residue policy
// for sequence lines. The plain-FASTA parser (fasta.ts) has its own streaming reader; the
// residue policy here is the same one (ESM alphabet, lowercase folded with a note) so that a
// sequence accepted by one parser is accepted by the others.
import { readFile } from 'node:fs/promises';
import { ESM_RESIDUES } from '../esm2/tokenizer.js';
import { InputError, type Location, type Note } from './errors.js';

export interface Line {
  /** the line without its end-of-line (LF or CRLF); trailing whitespace NOT removed */
  raw: string;
  /** `raw` with trailing whitespace removed (what most callers want) */
  text: string;
  /** 1-based line number */
  line: number;
}

export interface SplitText {
  lines: Line[];
  /** a UTF-8 byte-order mark was removed from the start */
  bom: boolean;
}

/** Split text into lines. LF and CRLF both end a line; a BOM at the start is removed. */
export function splitLines(text: string): SplitText {
  let bom = false;
  if (text.charCodeAt(0) === 0xfeff) {
    text = text.slice(1);
    bom = true;
  }
  const lines: Line[] = [];
  let start = 0;
  let n = 0;
  while (start <= text.length) {
    let nl = text.indexOf('\n', start);
    const last = nl < 0;
    if (last) nl = text.length;
    let end = nl;
    if (end > start && text.charCodeAt(end - 1) === 13) end--;
    n++;
    // A final empty piece after the last newline is not a line.
    if (!(last && start === text.length)) {
      const raw = text.slice(start, end);
      lines.push({ raw, text: raw.trimEnd(), line: n });
    }
    if (last) break;
    start = nl + 1;
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
export function groupByHeader(lines: Line[], file: string): HeaderGroup[] {
  const groups: HeaderGroup[] = [];
  let cur: HeaderGroup | undefined;
  for (const l of lines) {
    if (l.text.trim() === '') continue;
    if (l.raw.startsWith('>')) {
      cur = { index: groups.length + 1, header: l.text.slice(1).trim(), headerLine: l.line, body: [] };
      groups.push(cur);
      continue;
    }
    if (!cur) {
      const col = l.raw.length - l.raw.trimStart().length + 1;
      throw new InputError("text before the first '>' header", { file, line: l.line, column: col });
    }
    cur.body.push(l);
  }
  return groups;
}

const IS_RESIDUE = new Uint8Array(128);
for (const c of ESM_RESIDUES) IS_RESIDUE[c.charCodeAt(0)] = 1;

export type SequenceCheck =
  | { ok: true; sequence: string; lowercase: number }
  | { ok: false; reason: string; offset: number };

/**
 * The residue policy: residues must be in the ESM alphabet (20 standard + X B U Z O);
 * lowercase is folded to uppercase (counted, so the caller can note it); anything else,
 * including `*`, gaps and inner whitespace, is a rejection at `offset` (0-based in `s`).
 * A `*` is rejected rather than stripped because in a labelled record it would shift the
 * sequence against its one-label-per-residue line.
 */
export function checkSequence(s: string): SequenceCheck {
  let lowercase = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128 && IS_RESIDUE[c]) continue;
    if (c >= 97 && c <= 122 && IS_RESIDUE[c - 32]) {
      lowercase++;
      continue;
    }
    return { ok: false, reason: `character ${describeChar(s, i)} is not a residue of the ESM alphabet`, offset: i };
  }
  return { ok: true, sequence: lowercase ? s.toUpperCase() : s, lowercase };
}

/** `'x'` for printable ASCII, `U+XXXX` otherwise (tabs, control characters, non-ASCII). */
export function describeChar(s: string, i: number): string {
  const c = s.charCodeAt(i);
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

/** Read a whole text file (the labelled data sets are a few MB at most). */
export async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8');
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
