// Strict UTF-8 for every text file the product reads. Node's own decoding turns invalid bytes
// into U+FFFD without a word, after which two distinct ids can collide and a label line can grow
// a character nobody wrote. Here invalid bytes are an InputError naming the file, line, column
// and byte offset of the first bad byte. The happy path is the runtime's native decoder; the
// hand-written validator below only runs to locate a failure, and follows the WHATWG decoder's
// rules exactly (no overlongs, no surrogates, nothing above U+10FFFF), so both agree on where a
// file stops being UTF-8. A byte-order mark is kept in the text: the parsers remove it with a note.
import { createReadStream, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { InputError } from './errors.js';

/**
 * 0-based index of the first byte of `b[from..]` that makes it invalid UTF-8, or -1. With
 * `partialEndOk`, a sequence cut by the end of `b` is not an error (streaming: more bytes follow).
 */
export function firstInvalidUtf8(b: Uint8Array, from = 0, partialEndOk = false): number {
  const n = b.length;
  let i = from;
  while (i < n) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return partialEndOk ? -1 : i;
      const d = b[i + k];
      if (d < lo || d > hi) return i;
      lo = 0x80;
      hi = 0xbf;
    }
    i += need + 1;
  }
  return -1;
}

/** Bytes at the end of `b` that start a sequence the chunk does not finish (0 to 3). */
function incompleteTail(b: Uint8Array): number {
  for (let k = 1; k <= Math.min(3, b.length); k++) {
    const c = b[b.length - k];
    if (c < 0x80) return 0;
    if (c >= 0xc0) {
      const len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return len > k ? k : 0;
    }
  }
  return 0;
}

/** Counts lines as the parsers do (CR, LF and CRLF each end one line) over text given in pieces. */
export class LineCounter {
  /** 1-based line of the next character */
  line = 1;
  /** characters (UTF-16 units) already seen on that line */
  column = 0;
  private lastCR = false;

  feed(s: string): void {
    if (s.length === 0) return;
    let from = 0;
    if (this.lastCR && s.charCodeAt(0) === 10) from = 1; // the LF of a CRLF split between pieces
    const eol = /\r\n|\n|\r/g;
    eol.lastIndex = from;
    let after = -1;
    for (let m = eol.exec(s); m; m = eol.exec(s)) {
      this.line++;
      after = eol.lastIndex;
    }
    if (after < 0) this.column += s.length - from;
    else this.column = s.length - after;
    this.lastCR = s.charCodeAt(s.length - 1) === 13;
  }
}

const fatal = () => new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder('utf-8', { ignoreBOM: true });

function hint(b: Uint8Array, offset: number): string {
  if (offset === 0 && b.length >= 2 && ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff))) {
    return ' (the file starts with a UTF-16 byte-order mark: save it as UTF-8)';
  }
  return '';
}

function invalidAt(file: string, bytes: Uint8Array, at: number, base: number, counter: LineCounter): InputError {
  const what = at < bytes.length ? `byte 0x${bytes[at].toString(16).toUpperCase().padStart(2, '0')}` : 'a character cut by the end of the file';
  return new InputError(`not valid UTF-8: ${what} at byte offset ${base + at}${hint(bytes, base + at)}`, {
    file,
    line: counter.line,
    column: counter.column + 1,
    offset: base + at,
  });
}

/** Decode a whole file's bytes; invalid UTF-8 throws an InputError at the first bad byte. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return fatal().decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const counter = new LineCounter();
    counter.feed(lenient.decode(bytes.subarray(0, Math.max(0, at))));
    throw invalidAt(file, bytes, at < 0 ? bytes.length : at, 0, counter);
  }
}

/** Decodes a byte stream chunk by chunk with the same strictness and located errors. */
export class Utf8Stream {
  private readonly decoder = fatal();
  private readonly counter = new LineCounter();
  /** bytes of the file before the current chunk */
  private consumed = 0;
  /** bytes at the end of the previous chunk that began an unfinished sequence */
  private tail = new Uint8Array(0);

  constructor(private readonly file: string) {}

  write(chunk: Uint8Array): string {
    let text: string;
    try {
      text = this.decoder.decode(chunk, { stream: true });
    } catch {
      this.fail(chunk, false);
    }
    this.counter.feed(text!);
    // A sequence may span several tiny chunks: look at the pending bytes together with this one.
    const recent = this.tail.length > 0 && chunk.length < 4 ? concat(this.tail, chunk) : chunk;
    this.tail = recent.slice(recent.length - incompleteTail(recent));
    this.consumed += chunk.length;
    return text!;
  }

  end(): string {
    try {
      return this.decoder.decode();
    } catch {
      this.fail(new Uint8Array(0), true);
    }
  }

  private fail(chunk: Uint8Array, atEnd: boolean): never {
    const joined = concat(this.tail, chunk);
    let at = firstInvalidUtf8(joined, 0, false);
    if (at < 0) at = atEnd ? 0 : joined.length;
    // Characters of this chunk before the bad byte still count for the line and column.
    const before = lenient.decode(joined.subarray(0, at));
    this.counter.feed(before);
    throw invalidAt(this.file, joined, at, this.consumed - this.tail.length, this.counter);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Read a whole text file as strict UTF-8. */
export async function readTextFile(file: string): Promise<string> {
  return decodeUtf8(await readFile(file), file);
}

/** Synchronous readTextFile, for small files read during setup (config.json, vocab.txt). */
export function readTextFileSync(file: string): string {
  return decodeUtf8(readFileSync(file), file);
}

/** Stream a text file as strict UTF-8 pieces (chunks of about `chunkBytes`). */
export async function* streamTextFile(file: string, chunkBytes = 1 << 20): AsyncGenerator<string> {
  const dec = new Utf8Stream(file);
  const stream = createReadStream(file, { highWaterMark: chunkBytes });
  try {
    for await (const chunk of stream) {
      const s = dec.write(chunk as Buffer);
      if (s) yield s;
    }
    const last = dec.end();
    if (last) yield last;
  } finally {
    stream.destroy();
  }
}
