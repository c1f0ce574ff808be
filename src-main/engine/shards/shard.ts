// Shards of an input file: `--shard I/N` selects a deterministic part of the records, by record
// number, so that N independent jobs (cluster nodes, processes) cover the file exactly once and
// their outputs concatenate (plmw merge) into the bytes of one unsharded run.
//
// Records are worked on in groups of G consecutive records (by number): the records of one group
// are sorted by length into batches, so a record's batch neighbours depend only on its group.
// Shard I of N takes whole groups, groups floor((I-1)*g/N) .. floor(I*g/N)-1 of the g groups
// in the file; a shard therefore runs exactly the batches the unsharded run does for the same
// records, and its numbers are the same bytes even on providers whose results depend on the shape
// of a batch. A shard may be empty (more shards than groups); it still writes its (empty) files.

export interface ShardSpec {
  /** 1-based */
  index: number;
  count: number;
}

/** Records [first, end) (0-based numbers) of a file. */
export interface RecordRange {
  first: number;
  end: number;
}

export class ShardSpecError extends Error {
  override name = 'ShardSpecError';
}

/** Parses `I/N` (1 <= I <= N). */
export function parseShard(text: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new ShardSpecError(`--shard: expected I/N (e.g. 3/8), got '${text}'`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) throw new ShardSpecError(`--shard: I/N needs 1 <= I <= N, got '${text}'`);
  return { index, count };
}

export const formatShard = (s: ShardSpec) => `${s.index}/${s.count}`;

/** The records of `total` that shard `spec` works on (all of them without a shard). */
export function shardRange(total: number, groupSize: number, spec?: ShardSpec): RecordRange {
  if (!Number.isInteger(groupSize) || groupSize < 1) throw new Error(`shardRange: group size ${groupSize}`);
  if (!spec) return { first: 0, end: total };
  const groups = Math.ceil(total / groupSize);
  const g0 = Math.floor(((spec.index - 1) * groups) / spec.count);
  const g1 = Math.floor((spec.index * groups) / spec.count);
  return { first: Math.min(total, g0 * groupSize), end: Math.min(total, g1 * groupSize) };
}

/** What a shard's output records about itself, so that a merge can check it has every piece. */
export interface ShardInfo {
  index: number;
  count: number;
  /** records per group (the batching unit) */
  group: number;
  /** records in the whole file */
  total: number;
  /** 0-based [first, end) record numbers of this shard */
  records: [number, number];
}

export function shardInfo(spec: ShardSpec, groupSize: number, total: number, range: RecordRange): ShardInfo {
  return { index: spec.index, count: spec.count, group: groupSize, total, records: [range.first, range.end] };
}

/**
 * Checks that `infos` are all N shards of one file, each once, covering its records in order;
 * returns them sorted by index. `names[i]` names infos[i] in messages.
 */
export function checkShardSet(infos: readonly (ShardInfo | undefined)[], names: readonly string[]): ShardInfo[] {
  if (infos.length === 0) throw new ShardSpecError('merge: no shard outputs given');
  infos.forEach((s, i) => {
    if (!s) throw new ShardSpecError(`${names[i]}: not the output of a sharded run (no shard record); run it with --shard I/N`);
  });
  const all = infos as ShardInfo[];
  const first = all[0];
  all.forEach((s, i) => {
    if (s.count !== first.count || s.total !== first.total || s.group !== first.group) {
      throw new ShardSpecError(`${names[i]}: shard ${s.index}/${s.count} of ${s.total} records in groups of ${s.group}, but ${names[0]} is ${first.index}/${first.count} of ${first.total} in groups of ${first.group}: not pieces of one run`);
    }
  });
  const byIndex = new Map<number, number>();
  all.forEach((s, i) => {
    const other = byIndex.get(s.index);
    if (other !== undefined) throw new ShardSpecError(`${names[other]} and ${names[i]} are both shard ${s.index}/${s.count}`);
    byIndex.set(s.index, i);
  });
  const missing = Array.from({ length: first.count }, (_, k) => k + 1).filter((k) => !byIndex.has(k));
  if (missing.length) throw new ShardSpecError(`merge: shard(s) ${missing.map((k) => `${k}/${first.count}`).join(', ')} missing (given ${all.length} of ${first.count})`);
  const sorted = [...all].sort((a, b) => a.index - b.index);
  let at = 0;
  for (const s of sorted) {
    const want = shardRange(s.total, s.group, s);
    if (s.records[0] !== want.first || s.records[1] !== want.end || s.records[0] !== at) {
      throw new ShardSpecError(`${names[byIndex.get(s.index)!]}: shard ${s.index}/${s.count} holds records ${s.records[0]}-${s.records[1]}, expected ${want.first}-${want.end}`);
    }
    at = s.records[1];
  }
  if (at !== first.total) throw new ShardSpecError(`merge: the shards cover ${at} of ${first.total} records`);
  return sorted;
}
