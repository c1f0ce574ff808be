// Bounds on the model files a stranger hands over: config.json numbers and safetensors headers.
// Each refusal is an InputError that names the file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src-main/engine/data/errors.js';
import { parseEsm2Config, readEsm2Config } from '../../src-main/engine/esm2/config.js';
import { SafetensorsError, parseSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { fixtureModel, shared } from '../helpers/paths.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'plmw-bounds-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const errorOf = (f: () => unknown): InputError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
};

describe('config.json bounds', () => {
  const base = JSON.parse(readFileSync(path.join(fixtureModel('t6-shape'), 'config.json'), 'utf8')) as Record<string, unknown>;
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ num_hidden_layers: 300_000 }, /"num_hidden_layers" is 300000; at most 256/],
    [{ hidden_size: 1 << 20, num_attention_heads: 16 }, /"hidden_size" is 1048576; at most 32768/],
    [{ num_attention_heads: 4096 }, /"num_attention_heads" is 4096; at most 1024/],
    [{ intermediate_size: 10_000_000 }, /"intermediate_size" is 10000000; at most 131072/],
    [{ hidden_size: 320, num_attention_heads: 7 }, /"hidden_size" 320 is not divisible by "num_attention_heads" 7/],
    [{ vocab_size: 34 }, /"vocab_size" is 34; every ESM-2 has the 33-token ESM alphabet/],
    [{ vocab_size: 5 }, /"vocab_size" is 5/],
    [{ max_position_embeddings: 1e12 }, /"max_position_embeddings" is 1000000000000/],
  ];
  for (const [patch, re] of cases) {
    it(`refuses ${JSON.stringify(patch)}`, () => {
      const e = errorOf(() => parseEsm2Config({ ...base, ...patch }, 'm/config.json'));
      expect(e.message).toMatch(re);
      expect(e.loc.file).toBe('m/config.json');
    });
  }

  it('refuses a config.json that is not UTF-8, at the byte', () => {
    const f = path.join(tmp, 'latin1.json');
    writeFileSync(f, Buffer.concat([Buffer.from('{"_name_or_path": "caf'), Buffer.from([0xe9]), Buffer.from('"}')]));
    const e = errorOf(() => readEsm2Config(f));
    expect(e.loc).toMatchObject({ file: f, line: 1, column: 23, offset: 22 });
  });

  it('still reads every real config', () => {
    for (const m of ['esm2_t6_8M_UR50D', 'esm2_t12_35M_UR50D', 'esm2_t30_150M_UR50D']) {
      expect(readEsm2Config(shared('fixtures', 'esm2', 'hf-configs', m, 'config.json')).vocabSize).toBe(33);
    }
  });
});

describe('safetensors header bounds', () => {
  const real = readFileSync(path.join(fixtureModel('tiny'), 'model.safetensors'));
  /** A file whose header is `header` (JSON text) followed by `data` bytes. */
  const file = (header: string, data = 16) => {
    const hb = Buffer.from(header, 'utf8');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(hb.length));
    return new Uint8Array(Buffer.concat([len, hb, Buffer.alloc(data)]));
  };

  it('looks dtypes up among its own names only: "constructor", "toString", "__proto__" are refused as dtypes', () => {
    for (const dtype of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      const e = errorOf(() => parseSafetensors(file(`{"w": {"dtype": "${dtype}", "shape": [4], "data_offsets": [0, 16]}}`), 'w.safetensors'));
      expect(e).toBeInstanceOf(SafetensorsError);
      expect(e.message).toBe(`w.safetensors (byte 8): tensor 'w': unsupported dtype "${dtype}"`);
    }
  });

  it('refuses entries whose fields are only inherited', () => {
    const e = errorOf(() => parseSafetensors(file('{"w": {"__proto__": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}}'), 'p.safetensors'));
    expect(e.message).toMatch(/unsupported dtype undefined/);
  });

  it('bounds the header length and keeps offsets inside the file', () => {
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 1n << 60n, true);
    expect(errorOf(() => parseSafetensors(huge, 'h')).message).toMatch(/implausible/);
    const zero = new Uint8Array(16);
    expect(errorOf(() => parseSafetensors(zero, 'z')).message).toMatch(/header length 0 bytes cannot hold a JSON object/);
    const short = real.subarray(0, 100);
    expect(errorOf(() => parseSafetensors(short, 's')).message).toMatch(/truncated: header declares/);
    const past = errorOf(() => parseSafetensors(file('{"w": {"dtype": "F32", "shape": [8], "data_offsets": [0, 32]}}'), 'o'));
    expect(past.message).toMatch(/data ends at byte \d+ but the file has \d+ bytes/);
    const overflow = errorOf(() => parseSafetensors(file('{"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 16]}}'), 'v'));
    expect(overflow.message).toMatch(/data_offsets span 16 bytes but F32/);
    expect(errorOf(() => parseSafetensors(file('{"__metadata__": ["x"]}'), 'm')).message).toMatch(/__metadata__ is not an object/);
  });

  it('still reads the real file', () => {
    expect(parseSafetensors(real, 'tiny').tensors.size).toBeGreaterThan(40);
  });
});
