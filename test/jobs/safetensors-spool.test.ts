import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type TensorToWrite, writeSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { SafetensorsSpool } from '../../src-main/engine/jobs/safetensors-spool.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'plmw-spool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SafetensorsSpool', () => {
  it('writes the same bytes as writeSafetensors, whatever order the tensors arrive in', async () => {
    const tensors: Record<string, TensorToWrite> = {
      'b/logits': { dtype: 'F32', shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i * 0.5) },
      'a/representations.10': { dtype: 'F32', shape: [2, 3], data: Float32Array.from({ length: 6 }, (_, i) => -i) },
      'a/representations.2': { dtype: 'F32', shape: [2, 3], data: new Float32Array(6).fill(7) },
      'a/ids': { dtype: 'I64', shape: [2], data: BigInt64Array.from([1n, 2n]) },
      'a/mask': { dtype: 'U8', shape: [3], data: Uint8Array.from([1, 0, 1]) },
      'é/empty': { dtype: 'F32', shape: [0, 5], data: new Float32Array(0) },
    };
    const metadata = { producer: 'plm-workbench', 'é/long_sequence': JSON.stringify({ window: 5, ranges: [[0, 5]] }) };
    for (const meta of [metadata, undefined]) {
      const want = path.join(dir, 'want.safetensors');
      await writeSafetensors(want, tensors, meta);
      const got = path.join(dir, 'got.safetensors');
      const spool = await SafetensorsSpool.create(got);
      for (const name of Object.keys(tensors).reverse()) await spool.add(name, tensors[name].dtype, tensors[name].shape, tensors[name].data);
      await spool.finish(meta);
      expect(readFileSync(got).equals(readFileSync(want))).toBe(true);
    }
    expect(readdirSync(dir).sort()).toEqual(['got.safetensors', 'want.safetensors']);
  });

  it('refuses inconsistent data and leaves nothing behind when aborted', async () => {
    const out = path.join(dir, 'aborted.safetensors');
    const spool = await SafetensorsSpool.create(out);
    await expect(spool.add('x', 'F32', [2, 2], new Float32Array(3))).rejects.toThrow(/12 bytes of data but F32\[2,2\] needs 16/);
    await spool.add('x', 'F32', [1], new Float32Array(1));
    await expect(spool.add('x', 'F32', [1], new Float32Array(1))).rejects.toThrow(/written twice/);
    await spool.abort();
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('aborted'))).toEqual([]);
  });
});
