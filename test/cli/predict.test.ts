// `plmw predict`: the files it writes for signal-peptide and secondary-structure runs, their
// columns and internal consistency (CSV vs GFF3 vs mature FASTA vs JSON), the kingdom rules for
// plain FASTA input, and atomic writing (no temporary files left).
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readLiftSsFile } from '../../src-main/engine/data/lift-ss.js';
import { parseCsv } from '../../src-main/engine/export/csv.js';
import { ssLabelled, ssTask } from '../../src-main/engine/tasks/secondary-structure/task.js';
import { REGION_STATES } from '../../src-main/engine/tasks/signal-peptide/regions.js';
import { spLabelled } from '../../src-main/engine/tasks/signal-peptide/labels.js';
import { spTask } from '../../src-main/engine/tasks/signal-peptide/task.js';
import { TRAINER_DEFAULTS, type TrainerConfig, train } from '../../src-main/engine/train/trainer.js';
import { MODEL_TINY, plmw, signalpSplit, syntheticSs, writeLiftSs, writeSignalP } from '../tasks/helpers/task-files.js';

const dir = mkdtempSync(path.join(tmpdir(), 'plmw-predict-'));
const f = (n: string) => path.join(dir, n);
const cfg = (task: string, over: Partial<TrainerConfig> = {}): TrainerConfig => ({
  ...TRAINER_DEFAULTS, model: MODEL_TINY, task, method: 'lora', methodOptions: { r: 2, targets: ['query', 'value'] }, epochs: 1, batchSize: 8, lr: 0.02,
  threads: 2, providers: ['cpu'], ...over,
});
const LONG = 'MKKTAIAIAVALAGFATVAQAADNQKPETSQAAAEQWKKLDTASNLSPEEKRVRCQASDLAALLEHGAYGLWGDVQAAQKLAPAS'; // 85 residues

beforeAll(async () => {
  const split = await signalpSplit();
  await train(f('sp-run'), cfg('sp'), spTask(), { train: spLabelled(split.train).items, val: spLabelled(split.test.slice(0, 10)).items });
  await train(f('spnk-run'), cfg('sp-nokingdom', { methodOptions: {}, method: 'probe' }), spTask({ kingdom: false }), { train: spLabelled(split.train.slice(0, 20)).items, val: spLabelled(split.test.slice(0, 5)).items });
  writeSignalP(f('unlabelled.fasta'), split.test.slice(0, 5), false);
  // SignalP-style headers (3-line with labels, and without) mixed with a plain and a UniProt header
  const t = split.test;
  writeFileSync(f('mixed.fasta'), [
    `>${t[0].id}|${t[0].kingdom}|${t[0].type}|0\n${t[0].sequence}\n${t[0].labels}\n`,
    `>${t[1].id}|${t[1].kingdom}|${t[1].type}|1\n${t[1].sequence}\n`,
    `>plain_protein a plain header\n${t[2].sequence}\n`,
    `>sp|P61626|LYSC_HUMAN Lysozyme C\nMKALIVLGLVLLSVTVQGKVFERCELARTLKRLGMDGYRGISLANWMCLAKWESGYNTRATNYNAGDRSTDYGIFQINSRYWCNDGKTPGAVNACHLSCSALLQDNIADAVACAKRVVRDPQGIRAWVAWRNRCQNRDVRQYVQGCGV\n`,
  ].join(''));
  writeFileSync(f('bad.fasta'), `>good\nMKVLAAGIV\n>broken\nMKV1LL\n`);
  writeFileSync(f('plain.fasta'), `>long protein with 86 residues\n${LONG}\n${split.test.slice(0, 6).map((r) => `>${r.id}\n${r.sequence}\n`).join('')}`);
  const ss = syntheticSs(20, 9);
  writeLiftSs(f('ss.txt'), ss);
  const recs = (await readLiftSsFile(f('ss.txt'), { strict: true })).records;
  await train(f('ss3-run'), cfg('ss-ss3'), ssTask('ss3'), { train: ssLabelled(recs, 'ss3'), val: ssLabelled(recs.slice(0, 4), 'ss3') });
  await train(f('ss8-run'), cfg('ss-ss8'), ssTask('ss8'), { train: ssLabelled(recs, 'ss8'), val: ssLabelled(recs.slice(0, 4), 'ss8') });
}, 120_000);

const csv = (file: string) => parseCsv(readFileSync(file, 'utf8'));

describe('plmw predict, signal peptides', () => {
  it('needs a kingdom for plain FASTA when the run reads one', () => {
    const r = plmw('predict', '--run', f('sp-run'), '--fasta', f('plain.fasta'), '--out', f('x/sp'), '--provider', 'cpu');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/pass --kingdom EUKARYA\|ARCHAEA\|NEGATIVE\|POSITIVE/);
    expect(plmw('predict', '--run', f('sp-run'), '--fasta', f('plain.fasta'), '--out', f('x/sp'), '--kingdom', 'plants').status).toBe(2);
  });

  it('writes residues, summary, GFF3, mature FASTA and JSON that agree with each other', () => {
    const r = plmw('predict', '--run', f('sp-run'), '--fasta', f('plain.fasta'), '--out', f('out/sp'), '--kingdom', 'negative', '--gff-source', 'plm-workbench', '--provider', 'cpu');
    expect(r.status, r.stderr).toBe(0);
    expect(LONG).toHaveLength(85);
    expect(r.stderr).toMatch(/only the first 70 of 85 residues are read/);
    expect(readdirSync(f('out')).sort()).toEqual(['sp.counts.json', 'sp.gff3', 'sp.json', 'sp.mature.fasta', 'sp.residues.csv', 'sp.summary.csv']);
    const json = JSON.parse(readFileSync(f('out/sp.json'), 'utf8'));
    const ids = ['long', ...json.sequences.slice(1).map((s: { id: string }) => s.id)];
    expect(json.sequences.map((s: { id: string }) => s.id)).toEqual(ids);
    expect(json.run).toMatchObject({ task: 'sp', method: { name: 'lora', r: 2 }, head: { name: 'crf', kingdom: true } });
    expect(json.run.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(json.producer).toHaveProperty('onnxruntime-node');
    expect(json.states).toEqual(REGION_STATES.map((s) => s.name));

    const res = csv(f('out/sp.residues.csv'));
    expect(res[0]).toEqual(['id', 'position', 'residue', 'region', ...REGION_STATES.map((s) => s.name)]);
    const longRows = res.slice(1).filter((x) => x[0] === 'long');
    expect(longRows).toHaveLength(70); // only the window the model reads
    expect(longRows.map((x) => x[2]).join('')).toBe(LONG.slice(0, 70));
    for (const row of res.slice(1)) {
      const p = row.slice(4).map(Number);
      expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-4);
      expect('SLTPIMO').toContain(row[3]);
    }
    const regions = new Map<string, string>();
    for (const row of res.slice(1)) regions.set(row[0], (regions.get(row[0]) ?? '') + row[3]);
    json.sequences.forEach((s: { id: string; regions: string }) => expect(regions.get(s.id)).toBe(s.regions));

    const sum = csv(f('out/sp.summary.csv'));
    expect(sum[0]).toEqual(['id', 'kingdom', 'kingdom_source', 'prediction', 'p_NO_SP', 'p_SP', 'p_LIPO', 'p_TAT', 'p_TATLIPO', 'p_PILIN', 'cs_position', 'cs_probability', 'flags']);
    const types = ['NO_SP', 'SP', 'LIPO', 'TAT', 'TATLIPO', 'PILIN'];
    for (const row of sum.slice(1)) {
      expect(row.slice(1, 3)).toEqual(['NEGATIVE', 'chosen']);
      const p = row.slice(4, 10).map(Number);
      expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-9);
      expect(row[3]).toBe(types[p.indexOf(Math.max(...p))]);
      if (row[3] === 'NO_SP') expect(row[10]).toBe('');
      // the region path agrees with the type: its signal-peptide letters are the type's own
      const own = { NO_SP: '', SP: 'S', LIPO: 'L', TAT: 'T', TATLIPO: 'T', PILIN: 'P' }[row[3]]!;
      expect([...regions.get(row[0])!].filter((c) => 'SLTP'.includes(c) && c !== own)).toEqual([]);
      if (row[10] !== '') {
        expect(regions.get(row[0])!.slice(0, Number(row[10]))).toBe(own.repeat(Number(row[10])));
        expect(Number(row[10])).toBeLessThan(regions.get(row[0])!.length); // never the last residue read
        expect(Number(row[11])).toBeGreaterThan(0);
      }
    }
    // counts.json: each sequence once, under its kingdom (NEGATIVE from --kingdom) and predicted type
    const counts = JSON.parse(readFileSync(f('out/sp.counts.json'), 'utf8'));
    expect(counts).toMatchObject({ format: 'plmw-prediction-counts', task: 'signal-peptide', sequences: sum.length - 1 });
    for (const k of ['EUKARYA', 'ARCHAEA', 'POSITIVE', 'unknown']) expect(Object.values(counts.types[k]).every((n) => n === 0)).toBe(true);
    for (const t of types) expect(counts.types.NEGATIVE[t]).toBe(sum.slice(1).filter((x) => x[3] === t).length);
    const gff = readFileSync(f('out/sp.gff3'), 'utf8').trim().split('\n');
    expect(gff[0]).toBe('## gff-version 3');
    const withSp = sum.slice(1).filter((x) => x[10] !== '');
    expect(gff.length - 1).toBe(withSp.length);
    gff.slice(1).forEach((line, i) => {
      const c = line.split('\t');
      expect(c).toHaveLength(9);
      expect([c[0], c[1], c[3], c[4], c[6], c[7]]).toEqual([withSp[i][0], 'plm-workbench', '1', withSp[i][10], '.', '.']);
      expect(Number(c[5])).toBeCloseTo(Number(withSp[i][4 + types.indexOf(withSp[i][3])]), 6);
    });
    // mature FASTA: every input sequence, the predicted SP removed, others unchanged
    const mature = readFileSync(f('out/sp.mature.fasta'), 'utf8').split('>').slice(1).map((b) => {
      const [head, ...seq] = b.trim().split('\n');
      return { head, seq: seq.join('') };
    });
    const input = readFileSync(f('plain.fasta'), 'utf8').split('>').slice(1).map((b) => b.trim().split('\n')[1]);
    expect(mature).toHaveLength(input.length);
    mature.forEach((m, i) => {
      const s = sum[i + 1];
      if (s[10] === '') {
        expect(m.head).toMatch(s[3] === 'NO_SP' ? /unchanged: no signal peptide predicted$/ : /unchanged: \w+ predicted, but no cleavage site inside the \d+ residues read$/);
        expect(m.seq).toBe(input[i]);
      } else {
        expect(m.head).toMatch(new RegExp(`mature: predicted ${s[3]} signal peptide 1-${s[10]} removed$`));
        expect(m.seq).toBe(input[i].slice(Number(s[10])));
      }
    });
  });

  it("reads each record's kingdom from a SignalP file and accepts --kingdom unknown for FASTA", () => {
    expect(plmw('predict', '--run', f('sp-run'), '--fasta', f('plain.fasta'), '--out', f('unk/sp'), '--kingdom', 'unknown', '--provider', 'cpu').status).toBe(0);
    expect(JSON.parse(readFileSync(f('unk/sp.json'), 'utf8')).sequences[0].kingdom).toBeNull();
    const r = plmw('predict', '--run', f('sp-run'), '--fasta', f('unlabelled.fasta'), '--out', f('sgp/sp'), '--provider', 'cpu');
    expect(r.status, r.stderr).toBe(0);
    const header = readFileSync(f('unlabelled.fasta'), 'utf8').split('\n').filter((l) => l.startsWith('>')).map((l) => l.slice(1));
    const json = JSON.parse(readFileSync(f('sgp/sp.json'), 'utf8'));
    expect(json.input.format).toBe('fasta');
    // ids stay whole (so a lookup by the id the user sees finds the record); the kingdom comes from the header
    expect(json.sequences.map((s: { id: string; kingdom: string; kingdomSource: string }) => [s.id, s.kingdom, s.kingdomSource])).toEqual(header.map((h) => [h, h.split('|')[1], 'header']));
  });
});

describe('plmw predict, any FASTA', () => {
  const ids = () => readFileSync(f('mixed.fasta'), 'utf8').split('\n').filter((l) => l.startsWith('>')).map((l) => l.slice(1).split(' ')[0]);

  it('predicts secondary structure for SignalP-style, plain and UniProt headers in one file, ids whole', () => {
    const r = plmw('predict', '--run', f('ss8-run'), '--fasta', f('mixed.fasta'), '--out', f('mixss/p'), '--provider', 'cpu');
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(f('mixss/p.json'), 'utf8'));
    expect(json.sequences.map((s: { id: string }) => s.id)).toEqual(ids());
    // the 3-line record's label line is not read as residues (noted)
    const first = json.sequences[0];
    expect(first.residues.map((x: { residue: string }) => x.residue).join('')).toHaveLength(first.length);
    expect(json.notes.some((n: { kind: string; message: string; loc: { line: number } }) => n.kind === 'changed' && /label line/.test(n.message) && n.loc.line === 3)).toBe(true);
  });

  it('predicts signal peptides: header kingdoms where given, the chosen one for the rest, and says so', () => {
    const r = plmw('predict', '--run', f('sp-run'), '--fasta', f('mixed.fasta'), '--out', f('mixsp/p'), '--kingdom', 'positive', '--provider', 'cpu');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/2 record\(s\) name their kingdom in a SignalP-style header; that kingdom was used for them/);
    const json = JSON.parse(readFileSync(f('mixsp/p.json'), 'utf8'));
    const hint = (id: string) => id.split('|')[1];
    expect(json.sequences.map((s: { id: string; kingdom: string; kingdomSource: string }) => [s.id, s.kingdom, s.kingdomSource])).toEqual(
      ids().map((id, i) => (i < 2 ? [id, hint(id), 'header'] : [id, 'POSITIVE', 'chosen'])),
    );
    // the whole sequence is kept for the views, the first 70 residues predicted
    expect(json.sequences[3].sequence).toHaveLength(148);
    expect(json.sequences[3].predictedResidues).toBe(70);
    // without a kingdom, the records lacking a header kingdom are named
    const bad = plmw('predict', '--run', f('sp-run'), '--fasta', f('mixed.fasta'), '--out', f('mixsp2/p'), '--provider', 'cpu');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/2 of 4 record\(s\) name none in a SignalP-style header; pass --kingdom/);
  });

  it('names the file, the record, the line and the column of a rejected record', () => {
    const r = plmw('predict', '--run', f('ss8-run'), '--fasta', f('bad.fasta'), '--out', f('bad/p'), '--provider', 'cpu');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${f('bad.fasta')}: 1 record(s) rejected, fix them first: ${f('bad.fasta')}:4:4 (record 'broken'): character '1'`);
  });
});

describe('plmw predict, signal peptides without kingdom input', () => {
  it('predicts plain FASTA without --kingdom', () => {
    const r = plmw('predict', '--run', f('spnk-run'), '--fasta', f('plain.fasta'), '--out', f('nk/sp'), '--provider', 'cpu');
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(f('nk/sp.json'), 'utf8'));
    expect(json.kingdomInput).toBe(false);
    expect(json.run).toMatchObject({ task: 'sp-nokingdom', method: { name: 'probe' } });
  });
});

describe('plmw predict, secondary structure', () => {
  it('SS8 run: ss8, both SS3 rules named in the header, p_G..p_C, p3_* summed', () => {
    const r = plmw('predict', '--run', f('ss8-run'), '--fasta', f('ss.txt'), '--out', f('ss8/p'), '--provider', 'cpu');
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(f('ss8')).sort()).toEqual(['p.counts.json', 'p.json', 'p.residues.csv']);
    const rows = csv(f('ss8/p.residues.csv'));
    const counts = JSON.parse(readFileSync(f('ss8/p.counts.json'), 'utf8'));
    expect(counts.residues).toBe(rows.length - 1);
    for (const c of 'GHIBESTC') expect(counts.ss8[c]).toBe(rows.slice(1).filter((x) => x[3] === c).length);
    for (const c of 'HEC') expect(counts.ss3[c]).toBe(rows.slice(1).filter((x) => x[4] === c).length);
    expect(rows[0]).toEqual(['id', 'position', 'residue', 'ss8', 'ss3_from_ss8', 'ss3_argmax_p3', 'p_G', 'p_H', 'p_I', 'p_B', 'p_E', 'p_S', 'p_T', 'p_C', 'p3_H', 'p3_E', 'p3_C']);
    for (const row of rows.slice(1)) {
      const p = row.slice(6, 14).map(Number);
      const p3 = row.slice(14).map(Number);
      expect(row[3]).toBe('GHIBESTC'[p.indexOf(Math.max(...p))]);
      expect(row[4]).toBe('HHHEECCC'['GHIBESTC'.indexOf(row[3])]);
      expect(row[5]).toBe('HEC'[p3.indexOf(Math.max(...p3))]);
      expect(Math.abs(p3[0] - (p[0] + p[1] + p[2]))).toBeLessThan(3e-6);
      expect(Math.abs(p3[1] - (p[3] + p[4]))).toBeLessThan(3e-6);
      expect(Math.abs(p3.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
    }
  });

  it('SS3 run: ss3 and p3_H, p3_E, p3_C', () => {
    const r = plmw('predict', '--run', f('ss3-run'), '--fasta', f('ss.txt'), '--out', f('ss3/p'), '--provider', 'cpu');
    expect(r.status, r.stderr).toBe(0);
    const rows = csv(f('ss3/p.residues.csv'));
    expect(rows[0]).toEqual(['id', 'position', 'residue', 'ss3', 'p3_H', 'p3_E', 'p3_C']);
    const json = JSON.parse(readFileSync(f('ss3/p.json'), 'utf8'));
    expect(json.sequences[0].ss3).toBe(rows.slice(1).filter((x) => x[0] === json.sequences[0].id).map((x) => x[3]).join(''));
    expect(rows.slice(1).length).toBe(json.sequences.reduce((a: number, s: { length: number }) => a + s.length, 0));
  });
});
