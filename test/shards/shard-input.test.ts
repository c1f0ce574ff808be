// Shards of an input (shards/shard.ts), the grouped reading of files (shards/input.ts) and the
// streaming JSON writer (export/stream.ts): ranges that cover a file once in whole groups, groups
// and notes that are the same whether a file is streamed or read whole, a rejected record that
// only fails the shard that holds it, and JSON bytes equal to formatJson of the whole object.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFasta } from '../../src-main/engine/data/fasta.js';
import { formatJson } from '../../src-main/engine/export/json.js';
import { JsonStreamWriter, TextFileWriter } from '../../src-main/engine/export/stream.js';
import { type RecordGroup, openInput, textInput } from '../../src-main/engine/shards/input.js';
import { ShardSpecError, checkShardSet, parseShard, shardInfo, shardRange } from '../../src-main/engine/shards/shard.js';
import { rng } from '../helpers/gradcheck.js';

const dir = mkdtempSync(path.join(tmpdir(), 'plmw-shards-'));
const f = (n: string) => path.join(dir, n);

async function collect(gen: AsyncGenerator<RecordGroup>): Promise<RecordGroup[]> {
  const out: RecordGroup[] = [];
  for await (const g of gen) out.push(g);
  return out;
}

describe('shard ranges', () => {
  it('parses I/N and refuses anything else', () => {
    expect(parseShard('3/8')).toEqual({ index: 3, count: 8 });
    expect(parseShard(' 1 / 1 ')).toEqual({ index: 1, count: 1 });
    for (const bad of ['0/4', '5/4', '1/0', '2', 'a/b', '1/2/3', '-1/2']) expect(() => parseShard(bad), bad).toThrow(ShardSpecError);
  });

  it('cover every record once, in whole groups, for any count of records, groups and shards', () => {
    const r = rng(5);
    for (let trial = 0; trial < 300; trial++) {
      const total = Math.floor(r() * 200);
      const G = 1 + Math.floor(r() * 20);
      const N = 1 + Math.floor(r() * 12);
      let at = 0;
      for (let i = 1; i <= N; i++) {
        const s = shardRange(total, G, { index: i, count: N });
        expect(s.first).toBe(at);
        expect(s.end).toBeGreaterThanOrEqual(s.first);
        if (s.end > s.first) expect(s.first % G).toBe(0);
        if (s.end < total) expect(s.end % G).toBe(0);
        at = s.end;
      }
      expect(at).toBe(total);
      expect(shardRange(total, G)).toEqual({ first: 0, end: total });
    }
  });

  it('a merge accepts exactly one complete set of shards', () => {
    const set = (n: number, total = 100, G = 8) => Array.from({ length: n }, (_, k) => shardInfo({ index: k + 1, count: n }, G, total, shardRange(total, G, { index: k + 1, count: n })));
    const names = (n: number) => Array.from({ length: n }, (_, k) => `part${k + 1}`);
    const three = set(3);
    expect(checkShardSet([three[2], three[0], three[1]], names(3)).map((s) => s.index)).toEqual([1, 2, 3]);
    expect(() => checkShardSet([three[0], three[2]], names(2))).toThrow(/shard\(s\) 2\/3 missing/);
    expect(() => checkShardSet([three[0], three[1], three[1]], names(3))).toThrow(/part2 and part3 are both shard 2\/3/);
    expect(() => checkShardSet([three[0], three[1], set(3, 101)[2]], names(3))).toThrow(/not pieces of one run/);
    expect(() => checkShardSet([three[0], undefined, three[2]], names(3))).toThrow(/part2: not the output of a sharded run/);
    const forged = { ...three[1], records: [30, 60] as [number, number] };
    expect(() => checkShardSet([three[0], forged, three[2]], names(3))).toThrow(/holds records 30-60/);
  });
});

describe('grouped input', () => {
  const AA = 'ACDEFGHIKLMNPQRSTVWY';
  const r = rng(11);
  const seqs = Array.from({ length: 53 }, (_, i) => ({ id: `p${i}`, seq: Array.from({ length: 5 + Math.floor(r() * 30) }, () => AA[Math.floor(r() * 20)]).join('') }));
  // record 3: lowercase (a note), record 20: terminal '*', record 37: a bad character (rejected)
  const text = seqs
    .map((s, i) => `>${s.id} protein ${i}\n${i === 3 ? s.seq.toLowerCase() : i === 37 ? `${s.seq.slice(0, 4)}J${s.seq.slice(4)}` : s.seq}${i === 20 ? '*' : ''}\n`)
    .join('');
  writeFileSync(f('in.fasta'), text);

  it('streams FASTA in groups, with the notes of each group, as the whole-file parse has them', async () => {
    const input = await openInput(f('in.fasta'), { groupSize: 10, allowRejected: true });
    expect(input.format).toBe('fasta');
    expect([input.total, input.rejectedInFile, input.range]).toEqual([53, 1, { first: 0, end: 53 }]);
    const groups = await collect(input.groups());
    expect(groups.map((g) => g.group)).toEqual([0, 1, 2, 3, 4, 5]);
    const whole = parseFasta(text, { file: f('in.fasta') });
    expect(groups.flatMap((g) => g.records.map((x) => [x.id, x.sequence]))).toEqual(whole.records.map((x) => [x.id, x.sequence]));
    expect(groups.flatMap((g) => g.records.map((x) => x.index))).toEqual([...Array(53).keys()].filter((i) => i !== 37));
    expect(groups.flatMap((g) => g.notes)).toEqual(whole.notes);
    expect(groups[0].notes.map((n) => n.loc.record)).toEqual(['p3']);
    expect(groups[2].notes.map((n) => n.loc.record)).toEqual(['p20']);
    expect(groups[3].notes.map((n) => [n.kind, n.loc.record])).toEqual([['rejected', 'p37']]);
  });

  it('a rejected record fails only the shard that holds it, located', async () => {
    const shard = async (i: number) => openInput(f('in.fasta'), { groupSize: 10, shard: { index: i, count: 3 } });
    // 6 groups over 3 shards: records 0-19, 20-39, 40-52
    const parts = await Promise.all([1, 2, 3].map(shard));
    expect(parts.map((p) => p.range)).toEqual([{ first: 0, end: 20 }, { first: 20, end: 40 }, { first: 40, end: 53 }]);
    expect(parts.map((p) => p.rejected.count)).toEqual([0, 1, 0]);
    expect(parts[1].rejected.first[0]).toMatchObject({ kind: 'rejected', loc: { file: f('in.fasta'), record: 'p37', line: 76, column: 5 } });
    const g3 = await collect(parts[2].groups());
    expect(g3.flatMap((g) => g.records.map((x) => x.id))).toEqual(seqs.slice(40).map((s) => s.id));
    // a shard's groups are the unsharded run's groups for the same records
    const all = await collect((await openInput(f('in.fasta'), { groupSize: 10, allowRejected: true })).groups());
    const g1 = await collect(parts[0].groups());
    expect(g1).toEqual(all.slice(0, 2));
    expect(g3).toEqual(all.slice(4));
  });

  it('reads SignalP 3-line records as FASTA: label lines left out, kingdom hints from the headers', async () => {
    const recs = ['>A1|EUKARYA|SP|0\nMKKLLAVAAL\nSSSSSSIIII', '>A2|NEGATIVE|NO_SP|1\nMAAAKLLL\nIIIIIIII', '>A3|ARCHAEA|SP|0\nMKK1LAV\nSSSIIII', '>plain\nMKKLLC'];
    writeFileSync(f('sp.fasta'), `${recs.join('\n')}\n`);
    const whole = await openInput(f('sp.fasta'), { groupSize: 2, allowRejected: true });
    expect([whole.format, whole.detection.format, whole.total, whole.rejectedInFile]).toEqual(['fasta', 'signalp', 4, 1]);
    expect(whole.hints).toEqual({ records: 3, withHint: 2, byKingdom: { EUKARYA: 1, NEGATIVE: 1 } });
    const groups = await collect(whole.groups());
    expect(groups.map((g) => g.records.map((x) => [x.index, x.id, x.sequence, x.kingdomHint]))).toEqual([
      [[0, 'A1|EUKARYA|SP|0', 'MKKLLAVAAL', 'EUKARYA'], [1, 'A2|NEGATIVE|NO_SP|1', 'MAAAKLLL', 'NEGATIVE']],
      [[3, 'plain', 'MKKLLC', null]],
    ]);
    // in line order: each label line left out, and the rejected record (its '1', line 8)
    expect(groups[0].notes.map((n) => [n.kind, n.loc.line])).toEqual([['changed', 3], ['changed', 6]]);
    expect(groups[1].notes.map((n) => [n.kind, n.loc.record, n.loc.line])).toEqual([['changed', 'A3|ARCHAEA|SP|0', 9], ['rejected', 'A3|ARCHAEA|SP|0', 8]].sort((a, b) => Number(a[2]) - Number(b[2])));
    const s1 = await openInput(f('sp.fasta'), { groupSize: 2, shard: { index: 1, count: 2 } });
    const s2 = await openInput(f('sp.fasta'), { groupSize: 2, shard: { index: 2, count: 2 } });
    expect([s1.rejected.count, s2.rejected.count]).toEqual([0, 1]);
    expect(s2.rejected.first[0].loc).toMatchObject({ record: 'A3|ARCHAEA|SP|0', line: 8, column: 4 });
    // the same records and notes as prediction's whole-text reader
    const { parsePredictInput } = await import('../../src-main/engine/tasks/predict-input.js');
    const p = parsePredictInput(readFileSync(f('sp.fasta'), 'utf8'), f('sp.fasta'));
    expect(groups.flatMap((g) => g.records.map((x) => x.id))).toEqual(p.records.map((x) => x.id));
    expect(groups.flatMap((g) => g.notes)).toEqual(p.notes);
  });

  it('streams the label-line rule across any split of the text, CR and CRLF line ends included', async () => {
    const { SignalPLabelLines } = await import('../../src-main/engine/tasks/predict-input.js');
    const text = '\uFEFF>A1|EUKARYA|SP|0\r\nMKKLLA\r\nSSSIII\r>x\nMKV\n>A2|ARCHAEA|TAT|1\nMKLL\n\nTTII\n>A3|POSITIVE|LIPO|0\nMKLL\nLLII\nMK';
    const whole: unknown[] = [];
    const w = new SignalPLabelLines((d) => whole.push(d));
    const once = w.write(text) + w.end();
    expect(once).toBe(text.replace('SSSIII', '').replace('TTII', ''));
    expect(whole).toEqual([{ id: 'A1|EUKARYA|SP|0', line: 3, record: 1 }, { id: 'A2|ARCHAEA|TAT|1', line: 9, record: 3 }]);
    for (let cut = 1; cut < text.length; cut++) {
      const got: unknown[] = [];
      const s = new SignalPLabelLines((d) => got.push(d));
      expect(s.write(text.slice(0, cut)) + s.write(text.slice(cut)) + s.end(), `split at ${cut}`).toBe(once);
      expect(got).toEqual(whole);
    }
  });

  it('reads inline sequences through the same parser', async () => {
    const input = textInput('>a\nMKV\n>b\nMK*\n', '<request>', { groupSize: 1 });
    const groups = await collect(input.groups());
    expect(groups.map((g) => [g.records.map((x) => x.sequence), g.notes.map((n) => n.message)])).toEqual([[['MKV'], []], [['MK'], ["terminal '*' stripped"]]]);
  });
});

describe('streaming JSON', () => {
  const cases: [string, Record<string, unknown>, unknown[], unknown[]][] = [
    ['empty arrays', { format: 'x', n: 1 }, [], []],
    ['one each', { a: { b: [1, 2, { c: 'é\u2028"' }] }, e: [] }, [{ id: 'p1', v: [0.5, -1e-7] }], ['n']],
    ['many, nested', { run: { params: { 10: 1, 2: 2, k: null } } }, Array.from({ length: 50 }, (_, i) => ({ id: `s${i}`, residues: [{ p: [i / 3, 1 / (i + 1)] }], empty: {} })), [{ kind: 'warning', loc: { file: 'f', line: 3 } }]],
    ['only the later array', { h: true }, [], [1, 2, 3]],
  ];
  for (const [name, head, sequences, notes] of cases) {
    it(`writes the bytes formatJson writes for the whole object: ${name}`, () => {
      const file = f(`${name.replace(/\W/g, '_')}.json`);
      const out = TextFileWriter.create(file);
      const w = new JsonStreamWriter(out, head, ['sequences', 'notes']);
      // notes interleaved with sequences (spooled), as predict writes them
      const later = [...notes];
      for (const s of sequences) {
        w.push(s);
        if (later.length) w.later('notes', later.shift());
      }
      for (const n of later) w.later('notes', n);
      w.finish();
      out.commit();
      expect(readFileSync(file, 'utf8')).toBe(formatJson({ ...head, sequences, notes }));
      expect(readdirSync(dir).filter((n) => n.includes('~plmw-'))).toEqual([]);
    });
  }
});
