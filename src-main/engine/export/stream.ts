// Output files written piece by piece, for results that do not fit in memory (plmw predict on a
// proteome, plmw merge). Each goes through the project's one writer (atomic.ts AtomicFile: a
// hidden temporary, published by commit(), removed by abort()), with a buffer in front so that a
// file of many small pieces is not one system call per piece.
//
// JSON: `JsonStreamWriter` writes exactly the bytes formatJson (json.ts) writes for the whole
// object (JSON.stringify with 2-space indentation, a trailing newline): some members first, then
// arrays whose elements arrive one at a time. Because every element sits on lines indented by at
// least four spaces, a top-level array's end is the only line `  ]` in the file; plmw merge
// (shards/merge.ts) relies on that layout to join files without parsing their elements.
import path from 'node:path';
import { AtomicFile, createScratchFile } from '../atomic.js';
import { jsonReplacer } from './json.js';

const FLUSH_AT = 1 << 20;

/** A text file written in pieces, buffered, atomic. */
export class TextFileWriter {
  private readonly file: AtomicFile;
  private parts: string[] = [];
  private pending = 0;

  private constructor(
    readonly target: string,
    file: AtomicFile,
  ) {
    this.file = file;
  }

  /** A file published at `target` by commit(). */
  static create(target: string): TextFileWriter {
    return new TextFileWriter(target, AtomicFile.create(target));
  }

  /** A scratch file in `dir`, never published (abort() removes it). */
  static scratch(dir: string, name: string): TextFileWriter {
    const f = createScratchFile(dir, name);
    return new TextFileWriter(f.temporary, f);
  }

  write(data: string | Uint8Array): void {
    if (typeof data !== 'string') {
      this.flush();
      if (data.length) this.file.write(data);
      return;
    }
    if (data.length === 0) return;
    this.parts.push(data);
    this.pending += data.length;
    if (this.pending >= FLUSH_AT) this.flush();
  }

  /** Bytes written so far (after a flush). */
  get size(): number {
    this.flush();
    return this.file.size;
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.pending = 0;
    this.file.write(text);
  }

  /** Reads back written bytes (scratch spools). */
  readAt(dst: Uint8Array, position: number): void {
    this.flush();
    this.file.readAt(dst, position);
  }

  commit(): void {
    this.flush();
    this.file.commit();
  }

  abort(): void {
    this.parts = [];
    this.file.abort();
  }
}

/** `value` as JSON.stringify(value, replacer, 2) writes it nested `depth` levels deep. */
export function jsonAt(value: unknown, depth: number): string {
  const text = JSON.stringify(value, jsonReplacer, 2);
  if (text === undefined) throw new Error('JSON: value cannot be written');
  return depth === 0 ? text : text.replace(/\n/g, `\n${'  '.repeat(depth)}`);
}

/** The first lines of a top-level object whose members `head` are followed by more members. */
export function jsonHead(head: Record<string, unknown>): string {
  let out = '{\n';
  for (const [k, v] of Object.entries(head)) if (v !== undefined) out += `  ${JSON.stringify(k)}: ${jsonAt(v, 1)},\n`;
  return out;
}

/**
 * A top-level JSON object: `head` members, then the arrays named in `arrays`, in that order,
 * each filled by push() while it is the open one (arrays after it may be spooled meanwhile
 * with later()).
 */
export class JsonStreamWriter {
  private current = -1;
  private count = 0;
  private readonly spools = new Map<number, { file: TextFileWriter; count: number }>();

  constructor(
    private readonly out: TextFileWriter,
    head: Record<string, unknown>,
    private readonly arrays: readonly string[],
    private readonly scratchDir = path.dirname(out.target),
  ) {
    out.write(jsonHead(head));
    this.next();
  }

  private next(): void {
    if (this.current >= 0) this.out.write(`${this.count ? '\n  ]' : ']'}${this.current < this.arrays.length - 1 ? ',' : ''}\n`);
    this.current++;
    this.count = 0;
    if (this.current < this.arrays.length) this.out.write(`  ${JSON.stringify(this.arrays[this.current])}: [`);
  }

  /** An element of the open array. */
  push(value: unknown): void {
    this.out.write(`${this.count++ ? ',' : ''}\n    ${jsonAt(value, 2)}`);
  }

  /** An element of a later array (kept in a scratch file until that array's turn). */
  later(array: string, value: unknown): void {
    const k = this.arrays.indexOf(array);
    if (k <= this.current) throw new Error(`JSON: '${array}' is not a later array`);
    let s = this.spools.get(k);
    if (!s) this.spools.set(k, (s = { file: TextFileWriter.scratch(this.scratchDir, `${path.basename(this.out.target)}.${array}.spool`), count: 0 }));
    s.file.write(`${s.count++ ? ',' : ''}\n    ${jsonAt(value, 2)}`);
  }

  /** Closes every array (copying spooled elements in) and the object. */
  finish(): void {
    while (this.current < this.arrays.length) {
      const s = this.spools.get(this.current);
      if (s) {
        const buf = new Uint8Array(1 << 20);
        const size = s.file.size;
        for (let at = 0; at < size; ) {
          const n = Math.min(buf.length, size - at);
          s.file.readAt(buf.subarray(0, n), at);
          this.out.write(buf.subarray(0, n));
          at += n;
        }
        this.count += s.count;
        s.file.abort();
        this.spools.delete(this.current);
      }
      this.next();
    }
    this.out.write('}\n');
  }

  abort(): void {
    for (const s of this.spools.values()) s.file.abort();
    this.spools.clear();
  }
}
