// Plain FASTA parser for protein sequences fed to ESM-2.
//
// Policy (every change or rejection becomes a Note with file/record/line/column; nothing is
// skipped silently):
//   - Files are strict UTF-8 (an invalid byte is an InputError with line, column and byte offset).
//   - LF, CRLF and a lone CR all end a line; a UTF-8 byte-order mark is removed (noted). A
//     Unicode line separator (U+2028, U+2029, U+0085) in a header becomes a space (noted); in a
//     sequence it is a character outside the alphabet like any other.
//   - Blank lines anywhere are ignored. Non-blank text before the first `>` is an error: the
//     file is probably not FASTA, so it is thrown as InputError even in lenient mode.
//   - Header: id = text after `>` up to the first whitespace, description = the rest (trimmed).
//     A header without an id rejects its record.
//   - Whitespace inside sequence lines (spaces, tabs) is ignored, so column-formatted sequences
//     parse. Lowercase residues are folded to uppercase (one `changed` note per record).
//   - A single `*` (stop codon) at the very end of a sequence is stripped (noted); a `*`
//     anywhere else rejects the record.
//   - Residues must be in the ESM alphabet (20 standard + X B U Z O, which ESM-2 has tokens
//     for and which are kept as they are). Anything else (digits, `;`, `J`, ...) rejects the
//     record, located at the first offending character; the message lists every one (up to 20,
//     then a count). The ESM gap symbols `.` and `-` are rejected
//     too unless `allowGaps` is set: an unaligned language model given an alignment row would
//     silently compute the wrong thing.
//   - A record with no residues is rejected.
//   - A duplicate id rejects the later record; the note names both lines.
//   - A sequence that looks like nucleotides (>= 90 % A/C/G/T/U/N) is kept with a warning.
// Lenient mode (default) returns accepted records plus notes; `strict: true` throws the first
// rejection as InputError. `parseFasta` works on a string, `readFastaFile` streams a file,
// `FastaParser` accepts chunks and can hand each record and note to a callback instead of keeping
// them, and `streamFastaFile` yields a file's records a chunk at a time (reading pauses while the
// consumer works), so a file of any size is read in bounded memory.
import { ESM_GAPS, ESM_RESIDUES } from '../esm2/tokenizer.js';
import { InputError, type Location, type Note } from './errors.js';
import { BadChars, MAX_LISTED, badCharsMessage, describeChar, headerText, nucleotideWarning } from './lines.js';
import { streamTextFile } from './utf8.js';

export interface FastaRecord {
  id: string;
  description: string;
  /** uppercase residues, whitespace and a trailing `*` removed */
  sequence: string;
  /** 1-based line of the header */
  line: number;
}

export interface FastaResult {
  records: FastaRecord[];
  notes: Note[];
}

export interface FastaOptions {
  /** name used in locations (the path for files); default '<input>' */
  file?: string;
  /** throw the first rejection as InputError instead of reporting it */
  strict?: boolean;
  /** keep the gap symbols `.` and `-` (they are ESM tokens); default false = reject */
  allowGaps?: boolean;
  /** receive each accepted record as it completes; then `records` in the result stays empty */
  onRecord?: (r: FastaRecord, index: number) => void;
  /**
   * receive each note as it is made, with the 1-based number of the record it is about (none for
   * notes about the whole file); then `notes` in the result stays empty
   */
  onNote?: (n: Note, index?: number) => void;
}

// Character classes by ASCII code.
const RESIDUE = 1;
const LOWER = 2;
const SPACE = 3;
const STAR = 4;
const GAP = 5;
const CLASS = new Uint8Array(128);
for (const c of ESM_RESIDUES) {
  CLASS[c.charCodeAt(0)] = RESIDUE;
  CLASS[c.toLowerCase().charCodeAt(0)] = LOWER;
}
for (const c of ' \t\v\f') CLASS[c.charCodeAt(0)] = SPACE;
CLASS['*'.charCodeAt(0)] = STAR;
for (const c of ESM_GAPS) CLASS[c.charCodeAt(0)] = GAP;

interface Open {
  id: string;
  description: string;
  line: number;
  index: number;
  parts: string[];
  residues: number;
  lowercase: number;
  /** location of a `*` not (yet) followed by residues */
  star?: Location;
  /** first problem other than bad characters that rejects this record */
  rejection?: { reason: string; loc: Location };
  /** characters outside the alphabet: where they are, and the first one's location */
  bad?: { chars: BadChars; at: { line: number; column: number; code: number; gap: boolean }[]; first: Location };
}

/** A Unicode line separator in a header becomes a space (see headerText in lines.ts). */
const LINE_SEPARATOR = /[\u2028\u2029\u0085]/;

export class FastaParser {
  private readonly file: string;
  private readonly notes: Note[] = [];
  private readonly records: FastaRecord[] = [];
  private readonly seen = new Map<string, number>();
  private lineNo = 0;
  private recordCount = 0;
  private started = false;
  private open: Open | undefined;
  private ended = false;
  private wroteAny = false;
  /** inside a line whose end has not been seen yet */
  private inLine = false;
  private lineIsHeader = false;
  /** characters of the current line already handled (pieces of a long line come one by one) */
  private lineCol = 0;
  private headerParts: string[] = [];
  /** the last piece ended with CR: an LF starting the next piece belongs to it */
  private afterCR = false;

  constructor(private readonly opts: FastaOptions = {}) {
    this.file = opts.file ?? '<input>';
  }

  /**
   * Feed the next piece of text (any split, even inside a line or a CRLF pair). LF, CRLF and a
   * lone CR end a line. Work is linear in the input however long a line is: an unfinished line
   * is handled as far as it goes, never re-read.
   */
  write(chunk: string): void {
    if (this.ended) throw new Error('FastaParser: write after end');
    let i = 0;
    if (!this.wroteAny && chunk.length > 0) {
      this.wroteAny = true;
      if (chunk.charCodeAt(0) === 0xfeff) {
        i = 1;
        this.note('changed', 'UTF-8 byte-order mark removed', { file: this.file, line: 1 });
      }
    }
    if (this.afterCR && i < chunk.length) {
      if (chunk.charCodeAt(i) === 10) i++;
      this.afterCR = false;
    }
    const n = chunk.length;
    const eol = /[\r\n]/g;
    while (i < n) {
      eol.lastIndex = i;
      const m = eol.exec(chunk);
      const end = m ? m.index : n;
      if (end > i) this.piece(chunk, i, end);
      if (!m) break;
      this.endLine();
      let next = end + 1;
      if (chunk.charCodeAt(end) === 13) {
        if (next < n) {
          if (chunk.charCodeAt(next) === 10) next++;
        } else this.afterCR = true;
      }
      i = next;
    }
  }

  end(): FastaResult {
    if (!this.ended) {
      if (this.inLine) this.endLine();
      this.close();
      this.ended = true;
      if (this.recordCount === 0) this.note('warning', 'no FASTA records found', { file: this.file });
    }
    return { records: this.records, notes: this.notes };
  }

  /** Characters [start, end) of the current line (no line break among them). */
  private piece(text: string, start: number, end: number): void {
    if (!this.inLine) {
      this.inLine = true;
      this.lineNo++;
      this.lineCol = 0;
      this.lineIsHeader = text.charCodeAt(start) === 62; /* '>' */
      if (this.lineIsHeader) {
        this.headerParts = [];
        start++;
        this.lineCol = 1;
      }
    }
    const col0 = this.lineCol - start; // column of text[i] is i + col0 + 1
    this.lineCol += end - start;
    if (this.lineIsHeader) {
      this.headerParts.push(text.slice(start, end));
      return;
    }
    if (!this.started) {
      for (let i = start; i < end; i++) {
        const c = text.charCodeAt(i);
        if (c < 128 && CLASS[c] === SPACE) continue;
        throw new InputError("text before the first '>' header: not a FASTA file?", {
          file: this.file,
          line: this.lineNo,
          column: i + col0 + 1,
        });
      }
      return;
    }
    this.sequenceLine(text, start, end, col0, this.open!);
  }

  private endLine(): void {
    if (!this.inLine) {
      this.lineNo++; // an empty line
      return;
    }
    this.inLine = false;
    if (this.lineIsHeader) {
      this.header(this.headerParts.join(''));
      this.headerParts = [];
    }
  }

  private header(h: string): void {
    this.close();
    this.started = true;
    this.recordCount++;
    if (LINE_SEPARATOR.test(h)) {
      h = headerText(h, { file: this.file, line: this.lineNo }, { changed: (message, loc) => this.note('changed', message, loc, this.recordCount) });
    }
    // id: up to the first whitespace (as the API's id rule reads it); description: the rest.
    const trimmed = h.replace(/^\s+/, '');
    const sp = trimmed.search(/\s/);
    const rec: Open = {
      id: sp < 0 ? trimmed : trimmed.slice(0, sp),
      description: sp < 0 ? '' : trimmed.slice(sp).trim(),
      line: this.lineNo,
      index: this.recordCount,
      parts: [],
      residues: 0,
      lowercase: 0,
    };
    if (rec.id === '') rec.rejection = { reason: 'header has no id', loc: this.loc(rec, this.lineNo, 2) };
    this.open = rec;
  }

  private sequenceLine(text: string, start: number, end: number, col0: number, rec: Open): void {
    // Fast path: a line of uppercase residues only (the common case) is taken whole.
    let i = start;
    let clean = true;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c >= 128 || CLASS[c] !== RESIDUE) {
        clean = false;
        break;
      }
    }
    if (clean && rec.star === undefined) {
      if (end > start) {
        rec.parts.push(text.slice(start, end));
        rec.residues += end - start;
      }
      return;
    }
    // Runs of kept characters are cut out whole (uppercased when lowercase): building the
    // sequence character by character is slow on a line of millions of characters.
    let run = -1;
    let upper = false;
    const flush = (to: number) => {
      if (run >= 0) rec.parts.push(upper ? text.slice(run, to).toUpperCase() : text.slice(run, to));
      run = -1;
    };
    for (i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      const cls = c < 128 ? CLASS[c] : 0;
      if (cls === SPACE) {
        flush(i);
        continue;
      }
      const col = i + col0 + 1;
      if (rec.star !== undefined && !rec.rejection) {
        rec.rejection = { reason: "'*' inside the sequence (only one '*' at the very end is accepted)", loc: rec.star };
      }
      if (cls === RESIDUE || cls === LOWER || (cls === GAP && this.opts.allowGaps)) {
        const up = cls === LOWER;
        if (run >= 0 && up !== upper) flush(i);
        if (run < 0) [run, upper] = [i, up];
        if (up) rec.lowercase++;
      } else {
        flush(i);
        if (cls === STAR) {
          rec.star = this.loc(rec, this.lineNo, col);
          continue;
        }
        if (c >= 0xdc00 && c <= 0xdfff && i > start && (text.charCodeAt(i - 1) & 0xfc00) === 0xd800) continue; // second half of a character already reported
        rec.bad ??= { chars: new BadChars(), at: [], first: this.loc(rec, this.lineNo, col) };
        rec.bad.chars.add(rec.bad.at.length);
        if (rec.bad.at.length < MAX_LISTED) rec.bad.at.push({ line: this.lineNo, column: col, code: text.codePointAt(i)!, gap: cls === GAP });
      }
      rec.residues++;
    }
    flush(end);
  }

  /** The reason a record is rejected: its first problem, and every character outside the alphabet. */
  private rejectionOf(rec: Open): { reason: string; loc: Location } | undefined {
    if (!rec.bad) return rec.rejection;
    const { chars, at } = rec.bad;
    const show = (k: number) => describeChar(String.fromCodePoint(at[k].code), 0);
    const gaps = at.some((a) => a.gap) ? ' (gap symbols: aligned input? pass allowGaps to keep gaps)' : '';
    const oneLine = at.every((a) => a.line === at[0].line);
    const where = (k: number) => (oneLine ? `column ${at[k].column}` : `line ${at[k].line}, column ${at[k].column}`);
    const reason = badCharsMessage('', chars, { what: 'in the ESM alphabet', show, where }) + gaps;
    if (!rec.rejection) return { reason, loc: rec.bad.first };
    return { reason: `${rec.rejection.reason}; ${reason}`, loc: rec.rejection.loc };
  }

  private close(): void {
    const rec = this.open;
    if (!rec) return;
    this.open = undefined;
    let rejection = this.rejectionOf(rec);
    if (!rejection && rec.residues === 0) {
      rejection = {
        reason: rec.star ? "sequence is only '*'" : 'empty record: header with no residues',
        loc: this.loc(rec, rec.line),
      };
    }
    if (!rejection && rec.id !== '') {
      const first = this.seen.get(rec.id);
      if (first !== undefined) {
        rejection = {
          reason: `duplicate id '${rec.id}' (first at line ${first}, again at line ${rec.line}); the later record is rejected`,
          loc: this.loc(rec, rec.line),
        };
      }
    }
    if (rejection) {
      if (this.opts.strict) throw new InputError(rejection.reason, rejection.loc);
      this.note('rejected', rejection.reason, rejection.loc, rec.index);
      return;
    }
    this.seen.set(rec.id, rec.line);
    if (rec.lowercase > 0) {
      this.note('changed', `${rec.lowercase} lowercase residue(s) folded to uppercase`, this.loc(rec, rec.line), rec.index);
    }
    if (rec.star) this.note('changed', "terminal '*' stripped", rec.star, rec.index);
    const record: FastaRecord = { id: rec.id, description: rec.description, sequence: rec.parts.join(''), line: rec.line };
    const dna = nucleotideWarning(record.sequence);
    if (dna) this.note('warning', dna, this.loc(rec, rec.line), rec.index);
    if (this.opts.onRecord) this.opts.onRecord(record, rec.index);
    else this.records.push(record);
  }

  private loc(rec: Open, line: number, column?: number): Location {
    const l: Location = { file: this.file, record: rec.id !== '' ? rec.id : rec.index, line };
    if (column !== undefined) l.column = column;
    return l;
  }

  private note(kind: Note['kind'], message: string, loc: Location, index?: number): void {
    if (this.opts.onNote) this.opts.onNote({ kind, message, loc }, index);
    else this.notes.push({ kind, message, loc });
  }
}

/** Parse FASTA text held in memory. */
export function parseFasta(text: string, opts: FastaOptions = {}): FastaResult {
  const p = new FastaParser(opts);
  p.write(text);
  return p.end();
}

/**
 * Parse a FASTA file by streaming it (constant memory apart from the records kept). The bytes
 * must be UTF-8: an invalid byte is an InputError naming its line, column and byte offset.
 */
export async function readFastaFile(file: string, opts: Omit<FastaOptions, 'file'> = {}): Promise<FastaResult> {
  const p = new FastaParser({ ...opts, file });
  for await (const text of streamTextFile(file)) p.write(text);
  return p.end();
}

/** An accepted record and its 1-based number among all the file's records. */
export interface NumberedFastaRecord {
  record: FastaRecord;
  index: number;
}

/**
 * The accepted records of FASTA text arriving in pieces, a piece's worth at a time (in file
 * order), parsed as readFastaFile parses them; reading pauses while the consumer works, so memory
 * holds one piece's records. Notes go to `onNote` as they are made (before the records they are
 * about).
 */
export async function* streamFasta(pieces: AsyncIterable<string>, opts: Omit<FastaOptions, 'onRecord'> = {}): AsyncGenerator<NumberedFastaRecord[], FastaResult> {
  let ready: NumberedFastaRecord[] = [];
  const p = new FastaParser({ ...opts, onRecord: (record, index) => ready.push({ record, index }) });
  for await (const text of pieces) {
    p.write(text);
    if (ready.length) {
      const out = ready;
      ready = [];
      yield out;
    }
  }
  const result = p.end();
  if (ready.length) yield ready;
  return result;
}

/** streamFasta over a file, read as readFastaFile reads it (strict UTF-8). */
export function streamFastaFile(file: string, opts: Omit<FastaOptions, 'file' | 'onRecord'> = {}): AsyncGenerator<NumberedFastaRecord[], FastaResult> {
  return streamFasta(streamTextFile(file), { ...opts, file });
}
