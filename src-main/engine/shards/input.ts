// The records of an input file, numbered and handed out in groups, for the commands that stream
// (`plmw predict`, `plmw infer`) and for their shards (shard.ts).
//
// FASTA-like input (plain, UniProt or SignalP-style headers, mixed; for prediction the label
// lines of SignalP 3-line records are left out as tasks/predict-input.ts says) is streamed
// through the one FASTA parser (data/fasta.ts streamFasta): a first pass counts the records,
// finds the rejected ones and counts the kingdoms SignalP-style headers name; a second hands out
// the records of the shard in groups. Memory holds one group whatever the file's size. The first
// pass is what lets a shard know its range and fail before any work when one of its own records
// is rejected, while a bad record in another shard's range is that shard's business, and what
// gives every shard the same whole-file facts (record count, kingdom hints). (The parser
// remembers the ids it has seen, so that a duplicate id is rejected the same way in every shard:
// a few tens of bytes per record, the only state that grows with the file.)
//
// The labelled formats (LIFT_SS, FLIP, NetSurfP CSV) are data sets of a few MB: they are read
// whole by their parsers (data/detect.ts); a record's number is that of its `>` header line, and
// a note belongs to the record whose header precedes its line. NetSurfP CSV has no record headers
// and is not sharded.
//
// Record numbers here are 0-based; every record of the file counts, rejected ones included, so
// that shard ranges are the same whichever records are valid. The notes of a group are in line
// order (as predict-input.ts orders a whole file's); notes about the whole file go with record 0.
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { type DataFormat, type DetectedResult, type Detection, detectFormat, parseDetected } from '../data/detect.js';
import { InputError, type Note } from '../data/errors.js';
import { parseFasta, streamFasta } from '../data/fasta.js';
import { readText, splitLines } from '../data/lines.js';
import { streamTextFile } from '../data/utf8.js';
import { kingdomHintOf } from '../tasks/kingdom-hint.js';
import { SignalPLabelLines, labelLineNote } from '../tasks/predict-input.js';
import type { Kingdom } from '../data/signalp.js';
import { type RecordRange, type ShardSpec, ShardSpecError, shardRange } from './shard.js';

export interface InputRecord {
  /** 0-based number among all records of the file */
  index: number;
  id: string;
  sequence: string;
  /** kingdom named in a SignalP-style header (a hint); null when the header names none */
  kingdomHint: Kingdom | null;
}

/** The records of one group in file order, and the notes about them (in line order). */
export interface RecordGroup {
  /** 0-based group number in the file */
  group: number;
  records: InputRecord[];
  notes: Note[];
}

export interface InputOptions {
  /** records per group (the batching unit; shards take whole groups) */
  groupSize: number;
  shard?: ShardSpec;
  /**
   * 'fasta': plain FASTA as it is (infer). Default: what prediction reads (FASTA-like input with
   * SignalP label lines left out, or a labelled data file).
   */
  format?: 'fasta';
  /** the input's name in notes and messages (default the path) */
  name?: string;
  /** hand out the valid records of a shard that has rejected ones (default: the caller refuses) */
  allowRejected?: boolean;
}

/** Kingdoms that SignalP-style headers name, over the accepted records of the whole file. */
export interface KingdomHints {
  records: number;
  withHint: number;
  byKingdom: Partial<Record<Kingdom, number>>;
}

export interface RecordInput {
  /** the input's name in notes and messages */
  file: string;
  /** the parser used: 'fasta' for every FASTA-like file, else the labelled format */
  format: Exclude<DataFormat, 'unknown'>;
  detection: Detection;
  /** records in the whole file, rejected ones included */
  total: number;
  /** records rejected in the whole file */
  rejectedInFile: number;
  /** this shard's records (all of them without a shard) */
  range: RecordRange;
  groupSize: number;
  /** rejected records in `range`: how many, and the notes of the first three */
  rejected: { count: number; first: Note[] };
  hints: KingdomHints;
  /** the groups of `range`, in order */
  groups(): AsyncGenerator<RecordGroup>;
}

export class InputChangedError extends Error {
  override name = 'InputChangedError';
}

const LABELLED: readonly DataFormat[] = ['lift-ss', 'netsurfp-csv', 'flip'];

/** How much of a file format detection looks at (detectFormat reads 1 MiB and knows when it is cut). */
const DETECT_BYTES = 2 << 20;

async function head(file: string): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(DETECT_BYTES);
    const { bytesRead } = await fh.read(buf, 0, DETECT_BYTES, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** Opens `file` for reading in groups: detects the format, counts the records, checks the shard's. */
export async function openInput(file: string, o: InputOptions): Promise<RecordInput> {
  const name = o.name ?? file;
  if (o.format === 'fasta') return openFasta(file, name, { format: 'fasta', reason: 'format given explicitly' }, false, o);
  const text = await head(file);
  const detection = detectFormat(text);
  if (LABELLED.includes(detection.format)) {
    const all = await readText(file);
    return wholeInput(name, parseDetected(all, { file: name }), all, o);
  }
  if (detection.format === 'unknown' && !text.replace(/^\uFEFF/, '').trimStart().startsWith('>')) throw new InputError(`cannot tell the data format: ${detection.reason}`, { file: name });
  return openFasta(file, name, detection, true, o);
}

/** Records given as FASTA text (inline sequences of a request), through the same parser. */
export function textInput(text: string, name: string, o: InputOptions): RecordInput {
  const result = parseFasta(text, { file: name });
  return wholeInput(name, { format: 'fasta', detection: { format: 'fasta', reason: 'sequences given inline' }, result }, text, o);
}

/** The file's text for the FASTA parser: as it is, or with SignalP label lines left out. */
async function* fastaText(file: string, labels: boolean, onDropped: (note: Note, index: number) => void, name: string): AsyncGenerator<string> {
  const f = labels ? new SignalPLabelLines((d) => onDropped(labelLineNote(name, d), d.record)) : null;
  for await (const t of streamTextFile(file)) {
    const s = f ? f.write(t) : t;
    if (s) yield s;
  }
  if (f) {
    const s = f.end();
    if (s) yield s;
  }
}

const byLine = (a: Note, b: Note) => (a.loc.line ?? 0) - (b.loc.line ?? 0);

async function openFasta(file: string, name: string, detection: Detection, labels: boolean, o: InputOptions): Promise<RecordInput> {
  const G = o.groupSize;
  const stat0 = statSync(file);
  // Pass 1: count, note which records are rejected (numbers only: bounded by the bad ones), and
  // count the kingdoms that headers name.
  let accepted = 0;
  const hints: KingdomHints = { records: 0, withHint: 0, byKingdom: {} };
  const rejectedAt: number[] = [];
  const pass1 = streamFasta(fastaText(file, labels, () => {}, name), {
    file: name,
    onNote: (n, index) => {
      if (n.kind === 'rejected' && index !== undefined) rejectedAt.push(index - 1);
    },
  });
  for await (const chunk of pass1) {
    accepted += chunk.length;
    for (const { record } of chunk) {
      const k = kingdomHintOf(record.id);
      if (k) {
        hints.withHint++;
        hints.byKingdom[k] = (hints.byKingdom[k] ?? 0) + 1;
      }
    }
  }
  hints.records = accepted;
  const total = accepted + rejectedAt.length;
  const range = shardRange(total, G, o.shard);
  const inRange = rejectedAt.filter((i) => i >= range.first && i < range.end);
  const first: Note[] = [];
  if (inRange.length) {
    // Only on the way to an error: read again for the located messages of the first ones.
    const wanted = new Set(inRange.slice(0, 3));
    const again = streamFasta(fastaText(file, labels, () => {}, name), {
      file: name,
      onNote: (n, index) => {
        if (n.kind === 'rejected' && index !== undefined && wanted.has(index - 1)) first.push(n);
      },
    });
    for await (const _ of again) void _;
  }
  return {
    file: name, format: 'fasta', detection, total, rejectedInFile: rejectedAt.length, range, groupSize: G,
    rejected: { count: inRange.length, first }, hints,
    async *groups() {
      const buckets = new Map<number, Note[]>();
      const inShard = (i: number) => i >= range.first && i < range.end;
      const onNote = (n: Note, index?: number) => {
        const i = index === undefined ? 0 : index - 1;
        if (!inShard(i)) return;
        const g = Math.floor(i / G);
        let b = buckets.get(g);
        if (!b) buckets.set(g, (b = []));
        b.push(n);
      };
      const endGroup = Math.ceil(range.end / G);
      let cur = Math.floor(range.first / G);
      let records: InputRecord[] = [];
      const take = (g: number): RecordGroup => {
        const notes = (buckets.get(g) ?? []).sort(byLine);
        buckets.delete(g);
        if (!o.allowRejected && notes.some((n) => n.kind === 'rejected')) throw new InputChangedError(`${name} changed while it was read (a record that passed the first reading is now rejected)`);
        const out = { group: g, records, notes };
        records = [];
        return out;
      };
      if (range.first < range.end) {
        const stream = streamFasta(fastaText(file, labels, (n, index) => onNote(n, index), name), { file: name, onNote });
        outer: for await (const chunk of stream) {
          for (const { record, index } of chunk) {
            const i = index - 1;
            if (i < range.first) continue;
            if (i >= range.end) break outer;
            const g = Math.floor(i / G);
            while (g > cur) yield take(cur++);
            records.push({ index: i, id: record.id, sequence: record.sequence, kingdomHint: kingdomHintOf(record.id) });
          }
        }
        while (cur < endGroup) yield take(cur++);
      }
      const st = statSync(file);
      if (st.size !== stat0.size || st.mtimeMs !== stat0.mtimeMs) throw new InputChangedError(`${name} changed while it was read; run again on a file that stays put`);
    },
  };
}

/** A file read whole: records and notes numbered by the `>` header lines (see the top). */
function wholeInput(file: string, d: DetectedResult, text: string, o: InputOptions): RecordInput {
  const G = o.groupSize;
  if (d.format === 'netsurfp-csv' && o.shard) throw new ShardSpecError(`${file}: a NetSurfP CSV file has no record headers to shard by; convert it to FASTA to run it in shards`);
  const starts = d.format === 'netsurfp-csv' ? [] : splitLines(text).lines.filter((l) => l.raw.startsWith('>')).map((l) => l.line);
  // The record of a line: the last header at or before it (0 before the first header).
  const numberOf = (line: number | undefined): number => {
    if (line === undefined || starts.length === 0 || line < starts[0]) return 0;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= line) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const raw = d.result.records as { id: string; sequence: string; line?: number; loc?: { line: number } }[];
  const fasta = d.format === 'fasta';
  const records: InputRecord[] = raw.map((r, k) => ({
    index: d.format === 'netsurfp-csv' ? k : numberOf(r.loc?.line ?? r.line),
    id: r.id, sequence: r.sequence, kingdomHint: fasta ? kingdomHintOf(r.id) : null,
  }));
  const hints: KingdomHints = { records: records.length, withHint: 0, byKingdom: {} };
  for (const r of records) {
    if (!r.kingdomHint) continue;
    hints.withHint++;
    hints.byKingdom[r.kingdomHint] = (hints.byKingdom[r.kingdomHint] ?? 0) + 1;
  }
  const notes = d.result.notes.map((n) => ({ note: n, index: d.format === 'netsurfp-csv' ? 0 : numberOf(n.loc.line) }));
  const rejectedInFile = d.result.notes.filter((n) => n.kind === 'rejected').length;
  const total = d.format === 'netsurfp-csv' ? records.length + rejectedInFile : starts.length;
  const range = shardRange(total, G, o.shard);
  const inShard = (i: number) => i >= range.first && i < range.end;
  const mine = notes.filter((n) => inShard(n.index));
  const rejected = mine.filter((n) => n.note.kind === 'rejected');
  const firstGroup = Math.floor(range.first / G);
  const endGroup = Math.ceil(range.end / G);
  const groups: RecordGroup[] = Array.from({ length: Math.max(0, endGroup - firstGroup) }, (_, k) => ({ group: firstGroup + k, records: [], notes: [] }));
  for (const r of records) if (inShard(r.index)) groups[Math.floor(r.index / G) - firstGroup].records.push(r);
  for (const n of mine) groups[Math.floor(n.index / G) - firstGroup].notes.push(n.note);
  for (const g of groups) g.notes.sort(byLine);
  return {
    file, format: d.format, detection: d.detection, total, rejectedInFile, range, groupSize: G,
    rejected: { count: rejected.length, first: rejected.slice(0, 3).map((n) => n.note) }, hints,
    async *groups() {
      yield* groups;
    },
  };
}
