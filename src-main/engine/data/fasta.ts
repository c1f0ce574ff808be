// Plain FASTA parser for protein sequences fed to ESM-2.
//
// Policy (every change or rejection becomes a Note with file/record/line/column; nothing is
// skipped silently):
//   - CRLF and LF line endings both accepted; a UTF-8 byte-order mark is removed (noted).
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
//     record, located at the offending character. The ESM gap symbols `.` and `-` are rejected
//     too unless `allowGaps` is set: an unaligned language model given an alignment row would
//     silently compute the wrong thing.
//   - A record with no residues is rejected.
//   - A duplicate id rejects the later record; the note names both lines.
// Lenient mode (default) returns accepted records plus notes; `strict: true` throws the first
// rejection as InputError. `parseFasta` works on a string, `readFastaFile` streams a file,
// `FastaParser` accepts chunks and can hand each record and note to a callback instead of keeping
// them, and `streamFastaFile` yields a file's records one by one (reading pauses while the
// consumer works), so a file of any size is read in bounded memory.
import { createReadStream } from 'node:fs';
import { InputError, type Location, type Note } from './errors.js';
import { ESM_GAPS, ESM_RESIDUES } from '../esm2/tokenizer.js';

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
  /**
   * receive each accepted record as it completes, with its 1-based number among all the file's
   * records (rejected ones count too); then `records` in the result stays empty
   */
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
  /** first problem that rejects this record */
  rejection?: { reason: string; loc: Location };
}

export class FastaParser {
  private readonly file: string;
  private readonly notes: Note[] = [];
  private readonly records: FastaRecord[] = [];
  private readonly seen = new Map<string, number>();
  private rest = '';
  private lineNo = 0;
  private recordCount = 0;
  private started = false;
  private open: Open | undefined;
  private ended = false;

  constructor(private readonly opts: FastaOptions = {}) {
    this.file = opts.file ?? '<input>';
  }

  /** Feed the next piece of text (any split, even inside a line or a CRLF pair). */
  write(chunk: string): void {
    if (this.ended) throw new Error('FastaParser: write after end');
    if (this.lineNo === 0 && this.rest === '' && chunk.charCodeAt(0) === 0xfeff) {
      chunk = chunk.slice(1);
      this.note('changed', 'UTF-8 byte-order mark removed', { file: this.file, line: 1 });
    }
    const text = this.rest + chunk;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.line(text, start, nl);
      start = nl + 1;
    }
    this.rest = text.slice(start);
  }

  end(): FastaResult {
    if (!this.ended) {
      if (this.rest.length > 0) this.line(this.rest, 0, this.rest.length);
      this.rest = '';
      this.close();
      this.ended = true;
      if (this.recordCount === 0) this.note('warning', 'no FASTA records found', { file: this.file });
    }
    return { records: this.records, notes: this.notes };
  }

  private line(text: string, start: number, end: number): void {
    this.lineNo++;
    if (end > start && text.charCodeAt(end - 1) === 13) end--; // CRLF
    if (text.charCodeAt(start) === 62 /* '>' */) {
      this.header(text.slice(start + 1, end));
      return;
    }
    if (!this.started) {
      for (let i = start; i < end; i++) {
        const c = text.charCodeAt(i);
        if (c < 128 && CLASS[c] === SPACE) continue;
        throw new InputError("text before the first '>' header: not a FASTA file?", {
          file: this.file,
          line: this.lineNo,
          column: i - start + 1,
        });
      }
      return;
    }
    this.sequenceLine(text, start, end, this.open!);
  }

  private header(h: string): void {
    this.close();
    this.started = true;
    this.recordCount++;
    const trimmed = h.replace(/^\s+/, '');
    const m = /^(\S*)\s*(.*)$/.exec(trimmed)!;
    const rec: Open = {
      id: m[1],
      description: m[2].trimEnd(),
      line: this.lineNo,
      index: this.recordCount,
      parts: [],
      residues: 0,
      lowercase: 0,
    };
    if (rec.id === '') rec.rejection = { reason: 'header has no id', loc: this.loc(rec, this.lineNo, 2) };
    this.open = rec;
  }

  private sequenceLine(text: string, start: number, end: number, rec: Open): void {
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
    let buf = '';
    for (i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      const cls = c < 128 ? CLASS[c] : 0;
      if (cls === SPACE) continue;
      const col = i - start + 1;
      if (rec.star !== undefined && !rec.rejection) {
        rec.rejection = { reason: "'*' inside the sequence (only one '*' at the very end is accepted)", loc: rec.star };
      }
      if (cls === RESIDUE || (cls === GAP && this.opts.allowGaps)) {
        buf += text[i];
      } else if (cls === LOWER) {
        buf += text[i].toUpperCase();
        rec.lowercase++;
      } else if (cls === STAR) {
        rec.star = this.loc(rec, this.lineNo, col);
        continue;
      } else if (!rec.rejection) {
        const ch = c >= 32 && c < 127 ? `'${text[i]}'` : `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
        const why = cls === GAP ? ' (gap symbol: aligned input? pass allowGaps to keep gaps)' : '';
        rec.rejection = { reason: `character ${ch} is not in the ESM alphabet${why}`, loc: this.loc(rec, this.lineNo, col) };
      }
      rec.residues++;
    }
    if (buf) rec.parts.push(buf);
  }

  private close(): void {
    const rec = this.open;
    if (!rec) return;
    this.open = undefined;
    if (!rec.rejection && rec.residues === 0) {
      rec.rejection = {
        reason: rec.star ? "sequence is only '*'" : 'empty record: header with no residues',
        loc: this.loc(rec, rec.line),
      };
    }
    if (!rec.rejection && rec.id !== '') {
      const first = this.seen.get(rec.id);
      if (first !== undefined) {
        rec.rejection = {
          reason: `duplicate id '${rec.id}' (first at line ${first}, again at line ${rec.line}); the later record is rejected`,
          loc: this.loc(rec, rec.line),
        };
      }
    }
    if (rec.rejection) {
      if (this.opts.strict) throw new InputError(rec.rejection.reason, rec.rejection.loc);
      this.note('rejected', rec.rejection.reason, rec.rejection.loc, rec.index);
      return;
    }
    this.seen.set(rec.id, rec.line);
    if (rec.lowercase > 0) {
      this.note('changed', `${rec.lowercase} lowercase residue(s) folded to uppercase`, this.loc(rec, rec.line), rec.index);
    }
    if (rec.star) this.note('changed', "terminal '*' stripped", rec.star, rec.index);
    const record: FastaRecord = { id: rec.id, description: rec.description, sequence: rec.parts.join(''), line: rec.line };
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

/** A file's text in chunks of about 1 MiB. */
async function* textChunks(file: string): AsyncGenerator<string> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) yield chunk as string;
  } finally {
    stream.destroy();
  }
}

/** Parse a FASTA file by streaming it (constant memory apart from the records kept). */
export async function readFastaFile(file: string, opts: Omit<FastaOptions, 'file'> = {}): Promise<FastaResult> {
  const p = new FastaParser({ ...opts, file });
  for await (const chunk of textChunks(file)) p.write(chunk);
  return p.end();
}

/** An accepted record and its 1-based number among all the file's records. */
export interface NumberedFastaRecord {
  record: FastaRecord;
  index: number;
}

/**
 * The accepted records of a FASTA file, a chunk's worth at a time (in file order), parsed by the
 * same parser as readFastaFile; reading pauses while the consumer works, so memory holds one
 * chunk's records. Notes go to `onNote` as they are made (before the records they are about).
 */
export async function* streamFastaFile(file: string, opts: Omit<FastaOptions, 'file' | 'onRecord'> = {}): AsyncGenerator<NumberedFastaRecord[], FastaResult> {
  let ready: NumberedFastaRecord[] = [];
  const p = new FastaParser({ ...opts, file, onRecord: (record, index) => ready.push({ record, index }) });
  for await (const chunk of textChunks(file)) {
    p.write(chunk);
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
