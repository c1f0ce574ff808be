// The one writer: short writes are looped, a failure leaves the old file and no temporary,
// appends are all or nothing, and stale temporaries of dead owners are swept. Faults are
// injected through atomicIo: short writes and reads, ENOSPC after N bytes, a full device.
import { chmodSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AtomicFile, WriteError, appendFileDurable, atomicIo, copyFileAtomic, createScratchDir, isTemporaryName, liveTemporaries, removeLiveTemporaries,
  sha256OfFile, sweepStaleTemporaries, temporaryPath, writeFileAtomic,
} from '../../src-main/engine/atomic.js';
import { type TensorToWrite, writeSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { SafetensorsSpool } from '../../src-main/engine/jobs/safetensors-spool.js';
import { FeatureCache } from '../../src-main/engine/train/features.js';

const real = { ...atomicIo };
afterEach(() => {
  Object.assign(atomicIo, real);
});
const realWrite = real.writeSync;

/** Every write and read moves at most `piece` bytes (what a signal or a pipe may do to a syscall). */
function shortIo(piece: number): void {
  atomicIo.writeSync = (fd, buf, off, len, pos) => real.writeSync(fd, buf, off, Math.min(len, piece), pos);
  atomicIo.readSync = (fd, buf, off, len, pos) => real.readSync(fd, buf, off, Math.min(len, piece), pos);
}

const dir = () => mkdtempSync(path.join(tmpdir(), 'plmw-atomic-'));

/** Lets `budget` bytes through in pieces of at most `piece`, then fails with ENOSPC. */
function injectDisk(budget: number, piece = 7): void {
  let left = budget;
  atomicIo.writeSync = (fd, buf, off, len, pos) => {
    if (left <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const n = Math.min(len, piece, left);
    left -= n;
    return realWrite(fd, buf, off, n, pos);
  };
}

describe('atomic writer', () => {
  it('completes a file through short writes', () => {
    const d = dir();
    injectDisk(1 << 20, 3);
    const text = 'x'.repeat(1000) + 'end\n';
    writeFileAtomic(path.join(d, 'a.txt'), text);
    expect(readFileSync(path.join(d, 'a.txt'), 'utf8')).toBe(text);
    expect(readdirSync(d)).toEqual(['a.txt']);
  });

  it('on ENOSPC keeps the old file, removes the temporary and names the file and bytes', () => {
    const d = dir();
    const f = path.join(d, 'out.json');
    writeFileSync(f, 'old\n');
    injectDisk(100);
    let err: unknown;
    try {
      writeFileAtomic(f, 'n'.repeat(500));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WriteError);
    expect((err as WriteError).code).toBe('ENOSPC');
    expect((err as Error).message).toContain(f);
    expect((err as Error).message).toContain('500 bytes needed');
    expect(readFileSync(f, 'utf8')).toBe('old\n');
    expect(readdirSync(d)).toEqual(['out.json']);
    expect(liveTemporaries()).toEqual([]);
  });

  it('cuts a failed append back to the previous length', () => {
    const d = dir();
    const f = path.join(d, 'metrics.jsonl');
    appendFileDurable(f, '{"step":1}\n');
    injectDisk(5);
    expect(() => appendFileDurable(f, '{"step":2,"loss":0.5}\n')).toThrow(/no space left on device/);
    atomicIo.writeSync = realWrite;
    expect(readFileSync(f, 'utf8')).toBe('{"step":1}\n');
  });

  it('removes the temporaries this process holds, and sweeps those of dead owners only', () => {
    const d = dir();
    const a = AtomicFile.create(path.join(d, 'big.bin'));
    a.write(new Uint8Array(10));
    expect(liveTemporaries()).toEqual([a.temporary]);
    expect(removeLiveTemporaries()).toBe(1);
    expect(readdirSync(d)).toEqual([]);
    // a temporary named for a pid that cannot exist on this host, and one of this process
    const dead = temporaryPath(path.join(d, 'x.csv')).replace(`-${process.pid}-`, '-999999999-');
    writeFileSync(dead, 'partial');
    const mine = AtomicFile.create(path.join(d, 'y.csv'));
    expect(sweepStaleTemporaries(d)).toEqual([dead]);
    expect(readdirSync(d)).toEqual([path.basename(mine.temporary)]);
    mine.abort();
  });

  it('names temporaries within the file-name limit, even for a target name of 250 bytes', () => {
    const d = dir();
    const long = path.join(d, `${'é'.repeat(120)}.csv`);
    writeFileAtomic(long, 'x');
    expect(readFileSync(long, 'utf8')).toBe('x');
    expect(Buffer.byteLength(path.basename(temporaryPath(long)))).toBeLessThanOrEqual(255);
    expect(isTemporaryName(path.basename(temporaryPath(long)))).toBe(true);
  });

  it('keeps the permissions of the file it replaces', () => {
    const d = dir();
    const f = path.join(d, 'settings.json');
    writeFileSync(f, '{}');
    chmodSync(f, 0o600);
    writeFileAtomic(f, '{"a":1}');
    expect(statSync(f).mode & 0o777).toBe(0o600);
  });

  it('refuses a file of known size that cannot fit before writing a byte', () => {
    const d = dir();
    const f = path.join(d, 'big.bin');
    writeFileSync(f, 'old');
    atomicIo.freeBytes = () => 1000;
    let written = 0;
    atomicIo.writeSync = (...a) => {
      written++;
      return realWrite(...a);
    };
    expect(() => writeFileAtomic(f, new Uint8Array(5000))).toThrow(`${f}: cannot write: no space left on device (5000 bytes needed, 1000 bytes free) [ENOSPC]`);
    expect(written).toBe(0);
    expect(readFileSync(f, 'utf8')).toBe('old');
    expect(readdirSync(d)).toEqual(['big.bin']);
  });

  it('treats a write that makes no progress as a full device, and passes other errors through unchanged', () => {
    const d = dir();
    atomicIo.writeSync = () => 0;
    expect(() => writeFileAtomic(path.join(d, 'z'), 'abc')).toThrow(/z: cannot write: no space left on device \(3 bytes needed\) \[ENOSPC\]/);
    atomicIo.writeSync = () => {
      throw new TypeError('a bug, not the disk');
    };
    expect(() => writeFileAtomic(path.join(d, 'z'), 'abc')).toThrow(TypeError);
    expect(readdirSync(d)).toEqual([]);
  });

  it('a spool written and read back through 5-byte syscalls gives the bytes writeSafetensors gives', async () => {
    const d = dir();
    const tensors: Record<string, TensorToWrite> = {
      'a/logits': { dtype: 'F32', shape: [7, 3], data: Float32Array.from({ length: 21 }, (_, i) => Math.sin(i)) },
      'b/logits': { dtype: 'F32', shape: [5, 3], data: Float32Array.from({ length: 15 }, (_, i) => i / 7) },
    };
    const { sha256 } = await writeSafetensors(path.join(d, 'want.safetensors'), tensors, { k: 'v' });
    expect(sha256).toBe(sha256OfFile(path.join(d, 'want.safetensors')));
    shortIo(5);
    const spool = await SafetensorsSpool.create(path.join(d, 'got.safetensors'));
    for (const [n, t] of Object.entries(tensors)) await spool.add(n, t.dtype, t.shape, t.data);
    await spool.finish({ k: 'v' });
    Object.assign(atomicIo, real);
    expect(readFileSync(path.join(d, 'got.safetensors')).equals(readFileSync(path.join(d, 'want.safetensors')))).toBe(true);
    expect(readdirSync(d).sort()).toEqual(['got.safetensors', 'want.safetensors']);
  });

  it('a spool that hits ENOSPC leaves neither output nor spool, and says which file', async () => {
    const d = dir();
    const spool = await SafetensorsSpool.create(path.join(d, 'out.safetensors'));
    await spool.add('a', 'F32', [4], new Float32Array(4));
    injectDisk(10);
    await expect(spool.add('b', 'F32', [100], new Float32Array(100))).rejects.toThrow(`${path.join(d, 'out.safetensors')}.spool: cannot write: no space left on device (416 bytes needed) [ENOSPC]`);
    await spool.abort();
    expect(readdirSync(d)).toEqual([]);
  });

  it('the spill file of frozen features survives short writes and reads, and a failed spill names itself', () => {
    const d = dir();
    shortIo(3);
    const cache = new FeatureCache(4, 0, path.join(d, 'features-train.cache'));
    const rows = [Float32Array.from({ length: 8 }, (_, i) => i + 0.25), Float32Array.from({ length: 12 }, (_, i) => -i)];
    rows.forEach((r, i) => cache.put(i, r));
    expect(readdirSync(d).filter(isTemporaryName)).toHaveLength(1);
    rows.forEach((r, i) => expect(cache.get(i)).toEqual(r));
    injectDisk(0);
    expect(() => cache.put(2, new Float32Array(4))).toThrow(/features-train\.cache: cannot write: no space left on device/);
    cache.close();
    expect(readdirSync(d)).toEqual([]);
  });

  it('copies through the writer, and scratch folders go with the other temporaries', () => {
    const d = dir();
    const src = path.join(d, 'src.bin');
    writeFileSync(src, Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251)));
    shortIo(999);
    copyFileAtomic(src, path.join(d, 'dst.bin'));
    expect(readFileSync(path.join(d, 'dst.bin')).equals(readFileSync(src))).toBe(true);
    const scratch = createScratchDir(d, 'staging');
    writeFileSync(path.join(scratch.path, 'x'), 'x');
    expect(liveTemporaries()).toContain(scratch.path);
    removeLiveTemporaries();
    expect(readdirSync(d).sort()).toEqual(['dst.bin', 'src.bin']);
  });

  it('creates a file only where none exists (lock files)', () => {
    const d = dir();
    const f = path.join(d, '.lock');
    const a = AtomicFile.create(f);
    a.write('first');
    expect(a.commitIfAbsent()).toBe(true);
    const b = AtomicFile.create(f);
    b.write('second');
    expect(b.commitIfAbsent()).toBe(false);
    expect(readFileSync(f, 'utf8')).toBe('first');
    expect(readdirSync(d)).toEqual(['.lock']);
  });
});

