// The records of an input file, numbered and handed out in groups, for the commands that stream
// (`plmw predict`, `plmw infer`) and for their shards (shard.ts).
//
// Plain FASTA is streamed (data/fasta.ts streamFastaFile, the one FASTA parser): a first pass
// counts the records and finds the rejected ones, a second hands out the records of the shard in
// groups; memory holds one group, whatever the file's size. The first pass is what lets a shard
// know its range and fail before any work when one of its own records is rejected, while a bad
// record in another shard's range is that shard's business. (The parser remembers the ids it has
// seen, so that a duplicate id is rejected the same way in every shard: a few tens of bytes per
// record, the only state that grows with the file.)
//
// The labelled formats (SignalP 3-line, LIFT_SS, FLIP) are data sets of a few MB: they are read
// whole by their parsers (data/detect.ts); a record's number is that of its `>` header line, and
// a note belongs to the record whose header precedes its line. NetSurfP CSV has no record headers
// and is not sharded.
//
// Record numbers here are 0-based; every record of the file counts, rejected ones included, so
// that shard ranges are the same whichever records are valid.
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { type DataFormat, type DetectedResult, type Detection, detectFormat, parseDetected } from '../data/detect.js';
import type { Note } from '../data/errors.js';
import { type FastaRecord, parseFasta, readFastaFile, streamFastaFile } from '../data/fasta.js';
import { readText, splitLines } from '../data/lines.js';
import type { Kingdom, SignalPRecord } from '../data/signalp.js';
import { type RecordRange, type ShardSpec, ShardSpecError, shardRange } from './shard.js';

export interface InputRecord {
  /** 0-based number among all records of the file */
  index: number;
  id: string;
  sequence: string;
  /** from the file (SignalP 3-line headers); null when the file does not say */
  kingdom: Kingdom | null;
}

/** The records of one group in file order, and the notes about them (file order). */
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
  /** read as this format without detection (infer reads FASTA only) */
  format?: 'fasta';
  /** hand out the valid records of a shard that has rejected ones (default: the caller refuses) */
  allowRejected?: boolean;
}

export interface RecordInput {
  /** the path as given */
  file: string;
  format: Exclude<DataFormat, 'unknown'>;
  detection: Detection;
  /** records in the whole file, rejected ones included */
  total: number;
  /** records rejected in the whole file */
  rejectedInFile: number;
  /** this shard's records (all of them without a shard) */
  range: RecordRange;
  groupSize: number;
  /** rejected records in `range`: how many, and the first one's note */
  rejected: { count: number; first?: Note };
  /** the groups of `range`, in order */
  groups(): AsyncGenerator<RecordGroup>;
}

export class InputChangedError extends Error {
  override name = 'InputChangedError';
}

/** How much of a file format detection looks at (detectFormat reads 1 MiB and knows when it is cut). */
const DETECT_BYTES = 2 << 20;

async function detectFile(file: string): Promise<Detection> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(DETECT_BYTES);
    const { bytesRead } = await fh.read(buf, 0, DETECT_BYTES, 0);
    return detectFormat(buf.subarray(0, bytesRead).toString('utf8'));
  } finally {
    await fh.close();
  }
}

/** Opens `file` for reading in groups: detects the format, counts the records, checks the shard's. */
export async function openInput(file: string, o: InputOptions): Promise<RecordInput> {
  const detection: Detection = o.format ? { format: o.format, reason: 'format given explicitly' } : await detectFile(file);
  if (detection.format === 'fasta') return openFasta(file, detection, o);
  const text = await readText(file);
  const d = parseDetected(text, { file, ...(o.format ? { format: o.format } : {}) });
  return wholeInput(file, d, text, o);
}

/** Records given as FASTA text (inline sequences of a request), through the same parser. */
export function textInput(text: string, name: string, o: InputOptions): RecordInput {
  const result = parseFasta(text, { file: name });
  return wholeInput(name, { format: 'fasta', detection: { format: 'fasta', reason: 'sequences given inline' }, result }, text, o);
}

async function openFasta(file: string, detection: Detection, o: InputOptions): Promise<RecordInput> {
  const G = o.groupSize;
  const stat0 = statSync(file);
  // Pass 1: count, and note which records are rejected (numbers only: bounded by the bad ones).
  let accepted = 0;
  const rejectedAt: number[] = [];
  await readFastaFile(file, {
    onRecord: () => void accepted++,
    onNote: (n, index) => {
      if (n.kind === 'rejected' && index !== undefined) rejectedAt.push(index - 1);
    },
  });
  const total = accepted + rejectedAt.length;
  const range = shardRange(total, G, o.shard);
  const inRange = rejectedAt.filter((i) => i >= range.first && i < range.end);
  let first: Note | undefined;
  if (inRange.length) {
    // Only on the way to an error: read again for the located message of the first one.
    await readFastaFile(file, {
      onRecord: () => {},
      onNote: (n, index) => {
        if (!first && n.kind === 'rejected' && index !== undefined && index - 1 === inRange[0]) first = n;
      },
    });
  }
  return {
    file, format: 'fasta', detection, total, rejectedInFile: rejectedAt.length, range, groupSize: G,
    rejected: { count: inRange.length, first },
    async *groups() {
      const buckets = new Map<number, Note[]>();
      const inShard = (i: number) => i >= range.first && i < range.end;
      const onNote = (n: Note, index?: number) => {
        const i = index === undefined ? 0 : index - 1; // notes about the whole file go with record 0
        if (!inShard(i)) return;
        const g = Math.floor(i / G);
        let b = buckets.get(g);
        if (!b) buckets.set(g, (b = []));
        b.push(n);
      };
      const firstGroup = Math.floor(range.first / G);
      const endGroup = Math.ceil(range.end / G);
      let cur = firstGroup;
      let records: InputRecord[] = [];
      const take = (g: number): RecordGroup => {
        const notes = buckets.get(g) ?? [];
        buckets.delete(g);
        if (!o.allowRejected && notes.some((n) => n.kind === 'rejected')) throw new InputChangedError(`${file} changed while it was read (a record that passed the first reading is now rejected)`);
        const out = { group: g, records, notes };
        records = [];
        return out;
      };
      if (range.first < range.end) {
        const stream = streamFastaFile(file, { onNote });
        outer: for await (const chunk of stream) {
          for (const { record, index } of chunk) {
            const i = index - 1;
            if (i < range.first) continue;
            if (i >= range.end) break outer;
            const g = Math.floor(i / G);
            while (g > cur) yield take(cur++);
            records.push(fromFasta(record, i));
          }
        }
        while (cur < endGroup) yield take(cur++);
      }
      const st = statSync(file);
      if (st.size !== stat0.size || st.mtimeMs !== stat0.mtimeMs) throw new InputChangedError(`${file} changed while it was read; run again on a file that stays put`);
    },
  };
}

const fromFasta = (r: FastaRecord, index: number): InputRecord => ({ index, id: r.id, sequence: r.sequence, kingdom: null });

/** A file read whole: records and notes numbered by the `>` header lines (see the top). */
function wholeInput(file: string, d: DetectedResult, text: string, o: InputOptions): RecordInput {
  const G = o.groupSize;
  if (d.format === 'netsurfp-csv' && o.shard) throw new ShardSpecError(`${file}: a NetSurfP CSV file has no record headers to shard by; convert it to FASTA to run it in shards`);
  const starts = d.format === 'netsurfp-csv' ? [] : splitLines(text).lines.filter((l) => l.raw.startsWith('>')).map((l) => l.line);
  // The record of a line: the last header at or before it (0 before the first header).
  const numberOf = (line: number | undefined): number => {
    if (line === undefined || starts.length === 0) return 0;
    let lo = 0;
    let hi = starts.length - 1;
    if (line < starts[0]) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= line) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const raw = d.result.records as ({ id: string; sequence: string; line?: number; loc?: { line: number } } & Partial<Pick<SignalPRecord, 'kingdom'>>)[];
  const records: InputRecord[] = raw.map((r, k) => ({
    index: d.format === 'netsurfp-csv' ? k : numberOf(r.loc?.line ?? r.line),
    id: r.id, sequence: r.sequence, kingdom: d.format === 'signalp' ? (r.kingdom ?? null) : null,
  }));
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
  return {
    file, format: d.format, detection: d.detection, total, rejectedInFile, range, groupSize: G,
    rejected: { count: rejected.length, first: rejected[0]?.note },
    async *groups() {
      yield* groups;
    },
  };
}
