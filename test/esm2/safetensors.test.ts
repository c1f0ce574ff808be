import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, readSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bf16ToF32,
  DTYPE_SIZE,
  f16ToF32,
  parseSafetensors,
  readSafetensors,
  SafetensorsError,
  writeSafetensors,
} from '../../src-main/engine/esm2/safetensors.js';
import { fixtureModel } from '../helpers/paths.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'plmw-st-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Build a safetensors file by hand from a header object and a data region. */
function handMade(header: unknown, data: Uint8Array, pad = true): Buffer {
  let json = JSON.stringify(header);
  if (pad) json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json), data]);
}

describe('reading the fixture checkpoints', () => {
  const file = path.join(fixtureModel('tiny'), 'model.safetensors');

  it('parses the header: names, dtypes, shapes, absolute data offsets, metadata', () => {
    const st = readSafetensors(file);
    expect(st.headerLength).toBe(4608);
    expect(st.dataStart).toBe(8 + 4608);
    expect(st.metadata).toEqual({ format: 'pt' });
    expect(st.tensors.size).toBe(44);
    const emb = st.tensors.get('esm.embeddings.word_embeddings.weight')!;
    expect(emb).toMatchObject({ dtype: 'F32', shape: [33, 64], byteOffset: 4616, byteLength: 33 * 64 * 4 });
    expect(st.tensors.get('esm.encoder.layer.1.intermediate.dense.weight')).toMatchObject({ shape: [256, 64], byteOffset: 4616 + 275520 });
    expect(st.tensors.get('esm.contact_head.regression.weight')).toMatchObject({ shape: [1, 8] });
    expect(st.tensors.get('lm_head.bias')).toMatchObject({ shape: [33], byteOffset: 4616 + 426084, byteLength: 132 });
    expect(st.dataStart + 426216).toBe(st.fileSize);
  });

  it('reads F32 data lazily from the recorded offset', () => {
    const st = readSafetensors(file);
    const t = st.tensors.get('esm.encoder.layer.0.attention.self.key.bias')!;
    const raw = Buffer.alloc(t.byteLength);
    const fd = openSync(file, 'r');
    readSync(fd, raw, 0, t.byteLength, t.byteOffset);
    closeSync(fd);
    const expected = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    expect(Array.from(t.toFloat32())).toEqual(Array.from(expected));
    expect(t.toFloat32().some((v) => v !== 0)).toBe(true);
  });

  it('reads I64 tensors (reference tokens) and from memory as from disk', () => {
    const ref = path.join(fixtureModel('tiny'), 'reference.safetensors');
    const a = readSafetensors(ref).tensors.get('tokens')!;
    const b = parseSafetensors(readFileSync(ref)).tensors.get('tokens')!;
    expect(a.shape).toEqual([6, 193]);
    const ids = a.read() as BigInt64Array;
    expect(ids).toBeInstanceOf(BigInt64Array);
    expect(ids[0]).toBe(0n); // <cls>
    expect(Array.from(b.read() as BigInt64Array)).toEqual(Array.from(ids));
    expect(a.toFloat32()[0]).toBe(0);
  });

  it('lists the t6-shape fixture with the shapes of esm2_t6_8M', () => {
    const st = readSafetensors(path.join(fixtureModel('t6-shape'), 'model.safetensors'));
    expect(st.tensors.get('esm.encoder.layer.5.intermediate.dense.weight')!.shape).toEqual([1280, 320]);
    expect(st.tensors.get('esm.encoder.layer.5.attention.self.rotary_embeddings.inv_freq')!.shape).toEqual([8]);
    expect(st.tensors.get('esm.contact_head.regression.weight')!.shape).toEqual([1, 120]);
  });
});

describe('half-precision conversion (hand-computed values)', () => {
  // prettier-ignore
  const f16: [number, number][] = [
    [0x3c00, 1], [0xc000, -2], [0x3555, 0.333251953125], [0x7bff, 65504],
    [0x0400, 2 ** -14], [0x0001, 2 ** -24], [0x03ff, 1023 * 2 ** -24], [0x0000, 0],
    [0x7c00, Infinity], [0xfc00, -Infinity], [0x3bff, 0.99951171875], [0x5640, 100],
  ];
  // prettier-ignore
  const bf16: [number, number][] = [
    [0x3f80, 1], [0xc040, -3], [0x4049, 3.140625], [0x7f7f, 3.3895313892515355e38],
    [0x0080, 2 ** -126], [0x0001, 2 ** -133], [0x7f80, Infinity], [0xff80, -Infinity], [0x3e80, 0.25],
  ];

  it('f16ToF32 and bf16ToF32 decode single values', () => {
    for (const [bits, v] of f16) expect(f16ToF32(bits)).toBe(v);
    for (const [bits, v] of bf16) expect(bf16ToF32(bits)).toBe(v);
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
    expect(f16ToF32(0x7e00)).toBeNaN();
    expect(bf16ToF32(0x7fc0)).toBeNaN();
  });

  it('F16 and BF16 tensors come back as float32 through a file', async () => {
    const file = path.join(tmp, 'half.safetensors');
    await writeSafetensors(file, {
      h: { dtype: 'F16', shape: [3, 4], data: Uint16Array.from(f16.map(([b]) => b)) },
      b: { dtype: 'BF16', shape: [bf16.length], data: Uint16Array.from(bf16.map(([b]) => b)) },
    });
    const st = readSafetensors(file);
    const h = st.tensors.get('h')!;
    expect(h.dtype).toBe('F16');
    expect(Array.from(h.toFloat32())).toEqual(f16.map(([, v]) => Math.fround(v)));
    expect(Array.from(st.tensors.get('b')!.toFloat32())).toEqual(bf16.map(([, v]) => Math.fround(v)));
  });
});

describe('writer', () => {
  it('round-trips every dtype, metadata, scalars and empty tensors', async () => {
    const file = path.join(tmp, 'rt.safetensors');
    const tensors = {
      'a.f32': { dtype: 'F32' as const, shape: [2, 3], data: Float32Array.from([1.5, -2, 3.25, 0, 1e-8, -7]) },
      'b.f64': { dtype: 'F64' as const, shape: [2], data: Float64Array.from([Math.PI, -1e300]) },
      'c.i64': { dtype: 'I64' as const, shape: [3], data: BigInt64Array.from([0n, -5n, 9007199254740993n]) },
      'd.i32': { dtype: 'I32' as const, shape: [1, 2], data: Int32Array.from([7, -8]) },
      'e.u8': { dtype: 'U8' as const, shape: [3], data: Uint8Array.from([1, 2, 255]) },
      'f.bool': { dtype: 'BOOL' as const, shape: [2], data: Uint8Array.from([1, 0]) },
      'g.scalar': { dtype: 'F32' as const, shape: [], data: Float32Array.from([42]) },
      'h.empty': { dtype: 'F32' as const, shape: [0, 4], data: new Float32Array(0) },
      'i.f16': { dtype: 'F16' as const, shape: [1], data: Uint16Array.from([0x3c00]) },
    };
    await writeSafetensors(file, tensors, { format: 'pt', note: 'round trip' });
    const st = readSafetensors(file);
    expect(st.metadata).toEqual({ format: 'pt', note: 'round trip' });
    expect((8 + st.headerLength) % 8).toBe(0);
    expect([...st.tensors.keys()].sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const r = st.tensors.get(name)!;
      expect(r.dtype).toBe(t.dtype);
      expect(r.shape).toEqual(t.shape);
      expect(Array.from(r.read() as ArrayLike<unknown>)).toEqual(Array.from(t.data as ArrayLike<unknown>));
      // every tensor is aligned to its element size in the file
      expect(r.byteOffset % DTYPE_SIZE[r.dtype]).toBe(0);
    }
    expect(st.tensors.get('b.f64')!.toFloat32()[0]).toBe(Math.fround(Math.PI));
    expect(st.tensors.get('c.i64')!.toFloat32()[1]).toBe(-5);
    // the header text is padded with spaces, as the format asks
    const raw = readFileSync(file);
    const header = raw.subarray(8, 8 + st.headerLength).toString();
    expect(header).toMatch(/^\{.*\} *$/);
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses data of the wrong length and the reserved name, leaving no file', async () => {
    const file = path.join(tmp, 'bad.safetensors');
    await expect(writeSafetensors(file, { x: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).rejects.toThrow(
      /'x': 8 bytes of data but F32\[3\] needs 12/,
    );
    await expect(writeSafetensors(file, { __metadata__: { dtype: 'F32', shape: [1], data: new Float32Array(1) } })).rejects.toThrow(/reserved/);
    expect(readdirSync(tmp).filter((f) => f.startsWith('bad'))).toEqual([]);
  });

  it('replaces an existing file atomically', async () => {
    const file = path.join(tmp, 'replace.safetensors');
    await writeSafetensors(file, { x: { dtype: 'F32', shape: [1], data: Float32Array.from([1]) } });
    await writeSafetensors(file, { y: { dtype: 'F32', shape: [1], data: Float32Array.from([2]) } });
    expect([...readSafetensors(file).tensors.keys()]).toEqual(['y']);
  });
});

describe('corrupt and truncated files fail clearly', () => {
  const write = (name: string, bytes: Uint8Array) => {
    const f = path.join(tmp, name);
    writeFileSync(f, bytes);
    return f;
  };
  const good = handMade({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(8));

  it('accepts the hand-made reference file', () => {
    expect(readSafetensors(write('ok.st', good)).tensors.get('t')!.shape).toEqual([2]);
  });

  it('rejects a file shorter than the length field', () => {
    expect(() => readSafetensors(write('short.st', new Uint8Array(5)))).toThrow(SafetensorsError);
    expect(() => readSafetensors(write('short.st', new Uint8Array(5)))).toThrow(/short\.st: truncated or not a safetensors file: 5 bytes/);
  });

  it('rejects a header cut short', () => {
    expect(() => readSafetensors(write('cuthdr.st', good.subarray(0, 20)))).toThrow(/truncated: header declares \d+ bytes but the file has only 12/);
  });

  it('rejects a data region cut short, naming the tensor', () => {
    expect(() => readSafetensors(write('cutdata.st', good.subarray(0, good.length - 3)))).toThrow(/tensor 't': data ends at byte .* \(truncated file\)/);
  });

  it('rejects an implausible header length (not a safetensors file)', () => {
    const b = Buffer.from('PK\x03\x04 this is a zip file, not safetensors.......');
    expect(() => readSafetensors(write('zip.st', b))).toThrow(/implausible/);
  });

  it('rejects invalid JSON and non-object headers', () => {
    expect(() => readSafetensors(write('json.st', handMade('x', new Uint8Array(0))))).toThrow(/JSON is not an object/);
    const broken = Buffer.concat([good.subarray(0, 8), Buffer.from('{"t": {"dtype": '.padEnd(good.readUInt32LE(0), ' ')), good.subarray(8 + good.readUInt32LE(0))]);
    expect(() => readSafetensors(write('json2.st', broken))).toThrow(/corrupt header: not valid UTF-8 JSON/);
  });

  it('rejects entries inconsistent with their shape, dtype or neighbours', () => {
    const cases: [unknown, RegExp][] = [
      [{ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, /'t': data_offsets span 8 bytes but F32\[3\] needs 12/],
      [{ t: { dtype: 'Q4', shape: [2], data_offsets: [0, 8] } }, /'t': unsupported dtype "Q4"/],
      [{ t: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, /shape is not a list/],
      [{ t: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, /data_offsets is not \[begin, end\]/],
      [
        { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } },
        /tensors 'a' and 'b' overlap/,
      ],
    ];
    for (const [h, re] of cases) expect(() => parseSafetensors(handMade(h, new Uint8Array(8)))).toThrow(re);
  });
});
