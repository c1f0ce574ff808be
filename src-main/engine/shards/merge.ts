// `plmw merge`: the outputs of N shards (shard.ts) joined into the files one unsharded run writes,
// byte for byte, without holding a file in memory.
//
// Predictions (PREFIX.residues.csv, .summary.csv, .gff3, .mature.fasta, .json, .counts.json):
// the text files are concatenated in shard order with their header line (CSV columns, the GFF3
// version line) written once; counts.json is the sum; the JSON's first members (format, run,
// model, provider, versions, input) are written once and its `sequences` and `notes` arrays are
// joined without parsing their elements: the writer's layout (export/stream.ts) makes the end of
// a top-level array the only line `  ]`. The shards' `shard` member is what checks that every
// piece is there once, of one file, in one grouping (shard.ts checkShardSet); every other first
// member must be the same in all shards (same run, model, provider, versions and input), or the
// merge refuses and names the first difference.
//
// Safetensors (plmw infer): the union of the shards' tensors, laid out as the writer lays out any
// set of tensors (safetensorsLayout: sorted), with the metadata every shard shares written once,
// followed by the per-sequence entries (`<id>/...`) in shard order, as one run adds them.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { AtomicFile } from '../atomic.js';
import { type Dtype, type TensorLayout, SafetensorsError, safetensorsLayout } from '../esm2/safetensors.js';
import { formatJson } from '../export/json.js';
import { TextFileWriter, jsonHead } from '../export/stream.js';
import { type PredictionCounts, type PredictionTask, addCounts, predictionFiles } from '../tasks/predict.js';
import { type ShardInfo, ShardSpecError, checkShardSet } from './shard.js';

export class MergeError extends Error {
  override name = 'MergeError';
}

const CHUNK = 1 << 20;

/** Reads a file forward in chunks, finding byte patterns and handing on what lies before them. */
class Scanner {
  private buf = Buffer.alloc(0);
  private pos = 0;
  private fileAt: number;
  private readonly fd: number;
  private eof = false;

  constructor(
    readonly file: string,
    start = 0,
  ) {
    this.fd = openSync(file, 'r');
    this.fileAt = start;
  }

  /** File offset of the next unread byte. */
  get offset(): number {
    return this.fileAt - (this.buf.length - this.pos);
  }

  private fill(): boolean {
    if (this.eof) return false;
    const chunk = Buffer.alloc(CHUNK);
    const n = readSync(this.fd, chunk, 0, CHUNK, this.fileAt);
    if (n === 0) {
      this.eof = true;
      return false;
    }
    this.fileAt += n;
    this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk.subarray(0, n)]);
    this.pos = 0;
    return true;
  }

  /** Hands on bytes up to `marker` and consumes the marker; false when the file ends first. */
  until(marker: Buffer, sink?: (b: Buffer) => void): boolean {
    for (;;) {
      const at = this.buf.indexOf(marker, this.pos);
      if (at >= 0) {
        if (at > this.pos) sink?.(this.buf.subarray(this.pos, at));
        this.pos = at + marker.length;
        return true;
      }
      const keep = Math.max(this.pos, this.buf.length - (marker.length - 1));
      if (keep > this.pos) sink?.(Buffer.from(this.buf.subarray(this.pos, keep)));
      this.pos = keep;
      if (!this.fill()) {
        return false;
      }
    }
  }

  /** True (and consumed) when the next bytes are `expected`. */
  next(expected: Buffer): boolean {
    while (this.buf.length - this.pos < expected.length) if (!this.fill()) break;
    if (this.buf.length - this.pos < expected.length) return false;
    if (!this.buf.subarray(this.pos, this.pos + expected.length).equals(expected)) return false;
    this.pos += expected.length;
    return true;
  }

  /** Hands on everything left. */
  rest(sink: (b: Buffer) => void): void {
    for (;;) {
      if (this.pos < this.buf.length) sink(Buffer.from(this.buf.subarray(this.pos)));
      this.pos = this.buf.length;
      if (!this.fill()) return;
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

const B = (s: string) => Buffer.from(s, 'utf8');
const SEQUENCES = B('\n  "sequences": [');
const ARRAY_END = B('\n  ]');
const EMPTY = B(']');

interface ShardJson {
  prefix: string;
  head: Record<string, unknown>;
  /** file offset where the sequences array's content starts (after its `[`) */
  sequencesAt: number;
}

/** The first members of a prediction JSON (everything before `sequences`), parsed. */
function readJsonHead(file: string): ShardJson['head'] & { sequencesAt: number } {
  const s = new Scanner(file);
  try {
    const parts: Buffer[] = [];
    let size = 0;
    const found = s.until(SEQUENCES, (b) => {
      size += b.length;
      if (size > 64 << 20) throw new MergeError(`${file}: no "sequences" array in the first 64 MiB: not a prediction file of plmw predict`);
      parts.push(b);
    });
    if (!found) throw new MergeError(`${file}: no "sequences" array: not a prediction file of plmw predict (or cut short)`);
    const text = `${Buffer.concat(parts).toString('utf8')}\n`;
    let head: Record<string, unknown>;
    try {
      head = JSON.parse(text.replace(/,\n$/, '\n}')) as Record<string, unknown>;
    } catch (e) {
      throw new MergeError(`${file}: the members before "sequences" are not JSON (${(e as Error).message})`);
    }
    if (head.format !== 'plmw-predictions') throw new MergeError(`${file}: format '${String(head.format)}', not plmw-predictions`);
    return Object.assign(head, { sequencesAt: s.offset });
  } finally {
    s.close();
  }
}

/** The first member that differs between two heads (shard members aside), or null. */
function firstDifference(a: Record<string, unknown>, b: Record<string, unknown>): string | null {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => k !== 'shard');
  for (const k of keys) {
    const x = JSON.stringify(a[k]);
    const y = JSON.stringify(b[k]);
    if (x !== y) return `'${k}': ${x === undefined ? 'absent' : x.slice(0, 200)} vs ${y === undefined ? 'absent' : y.slice(0, 200)}`;
  }
  return Object.keys(a).filter((k) => k !== 'shard').join() === Object.keys(b).filter((k) => k !== 'shard').join() ? null : 'the order of the members';
}

const withoutShard = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'shard'));

/** Copies a whole file, checking (and skipping) a first line that every part has. */
function appendFile(out: TextFileWriter, file: string, header: Buffer | null, first: boolean): void {
  if (!existsSync(file)) throw new MergeError(`${file} is missing (a shard's files must all be there)`);
  const s = new Scanner(file);
  try {
    if (header) {
      if (!s.next(header)) throw new MergeError(`${file}: its first line differs from the first shard's (${header.toString('utf8').trim()})`);
      if (first) out.write(header);
    }
    s.rest((b) => out.write(b));
  } finally {
    s.close();
  }
}

/** The first line of a file (with its line end). */
function firstLine(file: string): Buffer {
  if (!existsSync(file)) throw new MergeError(`${file} is missing (a shard's files must all be there)`);
  const s = new Scanner(file);
  try {
    const parts: Buffer[] = [];
    if (!s.until(B('\n'), (b) => parts.push(b))) throw new MergeError(`${file}: no complete first line`);
    return Buffer.concat([...parts, B('\n')]);
  } finally {
    s.close();
  }
}

export interface MergeResult {
  files: string[];
  shards: number;
}

/** Joins the predictions at `prefixes` (all shards of one run, any order) into `out`.*. */
export function mergePredictions(prefixes: readonly string[], out: string): MergeResult {
  const shards: ShardJson[] = prefixes.map((prefix) => {
    const json = `${prefix}.json`;
    if (!existsSync(json)) throw new MergeError(`${json} is missing: not the prefix of a prediction`);
    const { sequencesAt, ...head } = readJsonHead(json);
    return { prefix, head, sequencesAt };
  });
  const infos = checkShardSet(shards.map((s) => s.head.shard as ShardInfo | undefined), shards.map((s) => `${s.prefix}.json`));
  const ordered = infos.map((info) => shards.find((s) => (s.head.shard as ShardInfo).index === info.index)!);
  const base = ordered[0];
  for (const s of ordered.slice(1)) {
    const d = firstDifference(base.head, s.head);
    if (d) throw new MergeError(`${s.prefix}.json and ${base.prefix}.json are not parts of one run: they differ in ${d}`);
  }
  const task = base.head.task as PredictionTask;
  const paths = ordered.map((s) => predictionFiles(s.prefix, task));
  const target = predictionFiles(out, task);
  const writers: TextFileWriter[] = [];
  const open = (file: string) => {
    const w = TextFileWriter.create(file);
    writers.push(w);
    return w;
  };
  try {
    // Text files with a first line that each part has (CSV columns, GFF3 version), or none.
    const textFiles: ['residues' | 'summary' | 'gff3' | 'mature', boolean][] = [['residues', true], ['summary', true], ['gff3', true], ['mature', false]];
    for (const [kind, hasHeader] of textFiles) {
      if (!target[kind]) continue;
      const w = open(target[kind]!);
      const header = hasHeader ? firstLine(paths[0][kind]!) : null;
      paths.forEach((p, i) => appendFile(w, p[kind]!, header, i === 0));
    }
    // counts.json: the sum.
    let counts: PredictionCounts | undefined;
    for (const p of paths) {
      if (!existsSync(p.counts)) throw new MergeError(`${p.counts} is missing (a shard's files must all be there)`);
      const c = JSON.parse(readFileSync(p.counts, 'utf8')) as PredictionCounts;
      counts = counts ? addCounts(counts, c, p.counts) : c;
    }
    open(target.counts).write(formatJson(counts));
    // The JSON: first members once, then the arrays joined.
    const json = open(target.json);
    json.write(jsonHead(withoutShard(base.head)));
    const notesAt: number[] = [];
    let any = false;
    json.write('  "sequences": [');
    ordered.forEach((s, i) => {
      const sc = new Scanner(paths[i].json, s.sequencesAt);
      try {
        if (!sc.next(EMPTY)) {
          if (any) json.write(',');
          if (!sc.until(ARRAY_END, (b) => json.write(b))) throw new MergeError(`${paths[i].json}: the sequences array does not end: the file is cut short`);
          any = true;
        }
        if (!sc.next(B(',\n  "notes": ['))) throw new MergeError(`${paths[i].json}: no "notes" array after "sequences": not a file of this version of plmw predict`);
        notesAt.push(sc.offset);
      } finally {
        sc.close();
      }
    });
    json.write(any ? '\n  ],\n' : '],\n');
    json.write('  "notes": [');
    any = false;
    ordered.forEach((_, i) => {
      const sc = new Scanner(paths[i].json, notesAt[i]);
      try {
        if (!sc.next(EMPTY)) {
          if (any) json.write(',');
          if (!sc.until(ARRAY_END, (b) => json.write(b))) throw new MergeError(`${paths[i].json}: the notes array does not end: the file is cut short`);
          any = true;
        }
        if (!sc.next(B('\n}\n'))) throw new MergeError(`${paths[i].json}: unexpected content after the notes array`);
      } finally {
        sc.close();
      }
    });
    json.write(any ? '\n  ]\n' : ']\n');
    json.write('}\n');
    for (const w of writers) w.commit();
  } catch (e) {
    for (const w of writers) w.abort();
    throw e;
  }
  return { files: Object.values(target), shards: ordered.length };
}

interface SafetensorsHeader {
  file: string;
  dataStart: number;
  size: number;
  metadata: Record<string, string>;
  tensors: { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }[];
}

function readSafetensorsHeader(file: string): SafetensorsHeader {
  if (!existsSync(file)) throw new MergeError(`${file} is missing`);
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const len = Buffer.alloc(8);
    if (size < 8 || readSync(fd, len, 0, 8, 0) !== 8) throw new SafetensorsError(`${file}: too short for a safetensors file`);
    const n = Number(len.readBigUInt64LE());
    if (n > size - 8) throw new SafetensorsError(`${file}: header of ${n} bytes in a file of ${size}`);
    const hb = Buffer.alloc(n);
    for (let at = 0; at < n; ) {
      const k = readSync(fd, hb, at, n - at, 8 + at);
      if (k <= 0) throw new SafetensorsError(`${file}: header cut short`);
      at += k;
    }
    const header = JSON.parse(hb.toString('utf8')) as Record<string, unknown>;
    const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
    const tensors = Object.entries(header)
      .filter(([k]) => k !== '__metadata__')
      .map(([name, v]) => {
        const t = v as { dtype: Dtype; shape: number[]; data_offsets: [number, number] };
        return { name, dtype: t.dtype, shape: t.shape, begin: t.data_offsets[0], end: t.data_offsets[1] };
      });
    return { file, dataStart: 8 + n, size, metadata, tensors };
  } finally {
    closeSync(fd);
  }
}

/** Metadata keys about one sequence are named like its tensors: `<id>/...`. */
const perSequence = (k: string) => k.includes('/');

/** Joins the safetensors files of `plmw infer --shard` runs into `out`. */
export function mergeSafetensors(files: readonly string[], out: string): MergeResult {
  const heads = files.map(readSafetensorsHeader);
  const infos = checkShardSet(
    heads.map((h) => {
      if (h.metadata.shard === undefined) return undefined;
      try {
        return JSON.parse(h.metadata.shard) as ShardInfo;
      } catch {
        throw new ShardSpecError(`${h.file}: its shard record is not JSON`);
      }
    }),
    files,
  );
  const ordered = infos.map((info) => heads.find((h) => (JSON.parse(h.metadata.shard) as ShardInfo).index === info.index)!);
  const shared = (h: SafetensorsHeader) => Object.entries(h.metadata).filter(([k]) => k !== 'shard' && !perSequence(k));
  const base = JSON.stringify(shared(ordered[0]));
  for (const h of ordered.slice(1)) {
    if (JSON.stringify(shared(h)) !== base) {
      const a = new Map(shared(ordered[0]));
      const diff = shared(h).find(([k, v]) => a.get(k) !== v)?.[0] ?? 'the set of keys';
      throw new MergeError(`${h.file} and ${ordered[0].file} are not parts of one run: their metadata differ in ${diff}`);
    }
  }
  const metadata: Record<string, string> = Object.fromEntries(shared(ordered[0]));
  const entries: (TensorLayout & { src: number; at: number })[] = [];
  const seen = new Map<string, string>();
  ordered.forEach((h, src) => {
    for (const [k, v] of Object.entries(h.metadata)) {
      if (!perSequence(k)) continue;
      if (k in metadata) throw new MergeError(`metadata '${k}' is in ${h.file} and in another shard`);
      metadata[k] = v;
    }
    for (const t of h.tensors) {
      const other = seen.get(t.name);
      if (other) throw new MergeError(`tensor '${t.name}' is in ${h.file} and in ${other}`);
      seen.set(t.name, h.file);
      if (h.dataStart + t.end > h.size) throw new MergeError(`${h.file}: tensor '${t.name}' lies past the end of the file (cut short?)`);
      entries.push({ name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.end - t.begin, src, at: h.dataStart + t.begin });
    }
  });
  const { order, head } = safetensorsLayout(entries, metadata);
  const fds = ordered.map((h) => openSync(h.file, 'r'));
  const f = AtomicFile.create(out);
  try {
    f.write(head);
    const buf = Buffer.alloc(CHUNK);
    for (const e of order as (TensorLayout & { src: number; at: number })[]) {
      for (let done = 0; done < e.bytes; ) {
        const n = readSync(fds[e.src], buf, 0, Math.min(CHUNK, e.bytes - done), e.at + done);
        if (n <= 0) throw new MergeError(`${ordered[e.src].file}: cut short inside tensor '${e.name}'`);
        f.write(buf.subarray(0, n));
        done += n;
      }
    }
    f.commit();
  } catch (e) {
    f.abort();
    throw e;
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  return { files: [out], shards: ordered.length };
}
