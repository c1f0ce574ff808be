// The one writer: short writes are looped, a failure leaves the old file and no temporary,
// appends are all or nothing, and stale temporaries of dead owners are swept.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AtomicFile, WriteError, appendFileDurable, atomicIo, liveTemporaries, removeLiveTemporaries, sweepStaleTemporaries, temporaryPath, writeFileAtomic } from '../../src-main/engine/atomic.js';

const realWrite = atomicIo.writeSync;
afterEach(() => {
  atomicIo.writeSync = realWrite;
});

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
});
