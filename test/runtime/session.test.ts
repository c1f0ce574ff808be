import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Graph, ops, serialize } from '../../src-main/engine/graph/index.js';
import { createSession, describeReport, providerOrder, saveModel } from '../../src-main/engine/runtime/index.js';

function affine() {
  const g = new Graph('affine');
  const x = g.input('x', 'float32', ['N', 300]);
  const w = g.initializer('w', 'float32', [300, 2], { data: Float32Array.from({ length: 600 }, (_, i) => (i % 7) - 3) });
  return { g, y: ops.matmul(x, w) };
}
const ones = () => new ort.Tensor('float32', new Float32Array(300).fill(1), [1, 300]);

describe('provider preference and fallback', () => {
  it('always ends with cpu', () => {
    expect(providerOrder(['cuda'])).toEqual(['cuda', 'cpu']);
    expect(providerOrder()).toEqual(['cuda', 'webgpu', 'cpu']);
  });

  it('runs on cpu when cuda libraries are missing, and says why', async () => {
    const { g, y } = affine();
    const seen: string[] = [];
    const s = await createSession(serialize(g, { outputs: { y } }).model, { providers: ['cuda'], onFallback: (p) => seen.push(p) });
    expect(s.report.provider).toBe('cpu');
    expect(s.report.fallbacks.map((f) => f.provider)).toEqual(['cuda']);
    expect(s.report.fallbacks[0].error).toMatch(/librar|cuda|CUDA/);
    expect(seen).toEqual(['cuda']);
    expect(describeReport(s.report)).toMatch(/^running on cpu \(cuda unavailable: /);
    const r = await s.run({ x: ones() });
    expect(r.y.dims).toEqual([1, 2]);
  });
});

describe('model files', () => {
  it('keeps large weights as external data beside the model', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'plmw-rt-'));
    const { g, y } = affine();
    const m = serialize(g, { outputs: { y }, externalDataFile: 'affine.weights' });
    const file = await saveModel(dir, 'affine', m);
    expect((await readdir(dir)).sort()).toEqual(['affine.onnx', 'affine.weights']);
    expect((await readFile(file)).byteLength).toBeLessThan(1024); // weights are not inside the protobuf
    const s = await createSession(file, { providers: ['cpu'], threads: 1 });
    const r = await s.run({ x: ones() });
    const col = (j: number) => Array.from({ length: 300 }, (_, i) => ((i * 2 + j) % 7) - 3).reduce((a, b) => a + b, 0);
    expect(Array.from(r.y.data as Float32Array)).toEqual([col(0), col(1)]);
  });

  it('references a tensor in place inside another file (no copy)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'plmw-rt-'));
    const header = Buffer.from('0123456789abcdef'); // 16 bytes of something else first
    const w = Float32Array.from([1, 2, 3, 4, 5, 6]);
    await writeFile(path.join(dir, 'blob.bin'), Buffer.concat([header, Buffer.from(w.buffer)]));
    const g = new Graph('inplace');
    const x = g.input('x', 'float32', [1, 3]);
    const wt = g.initializer('w', 'float32', [3, 2], { external: { path: 'blob.bin', offset: 16, length: 24 } });
    const file = await saveModel(dir, 'm', serialize(g, { outputs: { y: ops.matmul(x, wt) } }));
    const s = await createSession(file, { providers: ['cpu'] });
    const r = await s.run({ x: new ort.Tensor('float32', Float32Array.from([1, 0, 1]), [1, 3]) });
    expect(Array.from(r.y.data as Float32Array)).toEqual([6, 8]);
  });

  it('names a missing input', async () => {
    const { g, y } = affine();
    const s = await createSession(serialize(g, { outputs: { y } }).model, { providers: ['cpu'] });
    await expect(s.run({})).rejects.toThrow(/missing input 'x'/);
  });
});
