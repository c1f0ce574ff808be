import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_VOCAB, ESM_GAPS, ESM_RESIDUES, EsmTokenizer } from '../../src-main/engine/esm2/tokenizer.js';
import { readSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { fixtureModel, shared } from '../helpers/paths.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'plmw-tok-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ESM alphabet', () => {
  it('the built-in vocabulary is exactly the fixture and Hugging Face vocab.txt', () => {
    const fixture = readFileSync(path.join(fixtureModel('tiny'), 'vocab.txt'), 'utf8').split('\n').filter((l) => l !== '');
    const hf = readFileSync(shared('fixtures/esm2/hf-configs/esm2_t6_8M_UR50D/vocab.txt'), 'utf8').split('\n');
    expect(DEFAULT_VOCAB).toEqual(fixture);
    expect(DEFAULT_VOCAB).toEqual(hf);
    expect(DEFAULT_VOCAB).toHaveLength(33);
    expect(EsmTokenizer.fromModelDir(fixtureModel('small')).isDefaultVocab()).toBe(true);
  });

  it('has the documented ids', () => {
    const t = EsmTokenizer.default();
    expect([t.clsId, t.padId, t.eosId, t.unkId, t.maskId]).toEqual([0, 1, 2, 3, 32]);
    expect(['L', 'A', 'C', 'X', 'B', 'U', 'Z', 'O', '.', '-', '<null_1>'].map((c) => t.tokenId(c))).toEqual([4, 5, 23, 24, 25, 26, 27, 28, 29, 30, 31]);
  });

  it('every residue and gap symbol the FASTA parser can let through is one token', () => {
    const t = EsmTokenizer.default();
    for (const c of ESM_RESIDUES + ESM_GAPS) expect(t.residueIds(c)).toHaveLength(1);
    expect(ESM_RESIDUES).toHaveLength(25);
  });
});

describe('encode / decode', () => {
  const t = EsmTokenizer.default();

  it('wraps residues in <cls> ... <eos>', () => {
    expect(Array.from(t.encode('MKT'))).toEqual([0, 20, 15, 11, 2]);
    expect(Array.from(t.encode(''))).toEqual([0, 2]);
  });

  it('recognises a literal <mask> (and other specials) inside a sequence', () => {
    expect(Array.from(t.encode('M<mask>K<unk>'))).toEqual([0, 20, 32, 15, 3, 2]);
  });

  it('refuses unknown characters rather than mapping them to <unk>', () => {
    expect(() => t.encode('MKJ')).toThrow(/'J' at position 3/);
    expect(() => t.encode('mk')).toThrow(/'m' at position 1/);
    expect(() => t.encode('M<maks>')).toThrow(/'<' at position 2/);
    expect(() => t.encode('M<mask')).toThrow(/position 2/);
  });

  it('decodes back, dropping <cls>/<eos>/<pad>', () => {
    const s = 'MXBZUOACLAG<mask>VSERTIDPKQNFYMHWC';
    expect(t.decode(t.encode(s))).toBe(s);
    expect(t.decode([0, 20, 2, 1, 1])).toBe('M');
    expect(() => t.decode([40])).toThrow(/out of range/);
  });

  it('batches with right padding by <pad>, as int32 or int64', () => {
    const b = t.encodeBatch(['MK', 'A', 'GGGG']);
    expect(b.batch).toBe(3);
    expect(b.maxLen).toBe(6);
    expect(Array.from(b.lengths)).toEqual([4, 3, 6]);
    expect(b.ids).toBeInstanceOf(Int32Array);
    // prettier-ignore
    expect(Array.from(b.ids)).toEqual([
      0, 20, 15, 2, 1, 1,
      0, 5, 2, 1, 1, 1,
      0, 6, 6, 6, 6, 2,
    ]);
    const b64 = t.encodeBatch(['MK', 'A', 'GGGG'], 'int64');
    expect(b64.ids).toBeInstanceOf(BigInt64Array);
    expect(Array.from(b64.ids, Number)).toEqual(Array.from(b.ids));
    expect(t.encodeBatch([]).ids).toHaveLength(0);
  });

  for (const m of ['tiny', 'small'] as const) {
    it(`reproduces fair-esm's tokens for the ${m} fixture batch`, () => {
      const dir = fixtureModel(m);
      const ref = JSON.parse(readFileSync(path.join(dir, 'reference.json'), 'utf8')) as { sequences: { sequence: string }[] };
      const tokens = readSafetensors(path.join(dir, 'reference.safetensors')).tensors.get('tokens')!;
      expect(tokens.dtype).toBe('I64');
      const b = EsmTokenizer.fromModelDir(dir).encodeBatch(ref.sequences.map((s) => s.sequence), 'int64');
      expect([b.batch, b.maxLen]).toEqual(tokens.shape);
      expect(Array.from(b.ids)).toEqual(Array.from(tokens.read() as BigInt64Array));
    });
  }
});

describe('vocab.txt loading', () => {
  it('accepts CRLF and a missing final newline', () => {
    const f = path.join(tmp, 'crlf.txt');
    writeFileSync(f, DEFAULT_VOCAB.join('\r\n'));
    expect(EsmTokenizer.fromVocabFile(f).isDefaultVocab()).toBe(true);
  });

  it('uses the ids of the file it is given', () => {
    const f = path.join(tmp, 'swapped.txt');
    const v = [...DEFAULT_VOCAB];
    [v[4], v[5]] = [v[5], v[4]];
    writeFileSync(f, v.join('\n') + '\n');
    const t = EsmTokenizer.fromVocabFile(f);
    expect(t.isDefaultVocab()).toBe(false);
    expect(Array.from(t.encode('LA'))).toEqual([0, 5, 4, 2]);
  });

  it('names the file when a special token is missing or a token repeats', () => {
    const f = path.join(tmp, 'nomask.txt');
    writeFileSync(f, DEFAULT_VOCAB.slice(0, 32).join('\n'));
    expect(() => EsmTokenizer.fromVocabFile(f)).toThrow(new RegExp(`${f}: vocabulary has no '<mask>'`));
    const g = path.join(tmp, 'dup.txt');
    writeFileSync(g, [...DEFAULT_VOCAB, 'A'].join('\n'));
    expect(() => EsmTokenizer.fromVocabFile(g)).toThrow(/'A' appears twice \(lines 6 and 34\)/);
  });

  it('falls back to the built-in vocabulary for a directory without vocab.txt', () => {
    expect(EsmTokenizer.fromModelDir(tmp).isDefaultVocab()).toBe(true);
  });
});
