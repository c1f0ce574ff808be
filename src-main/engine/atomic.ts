// Files that are either entirely old or entirely new: written to a unique temporary name in the
// same folder, flushed to disk, then renamed over the target. A crash or kill never leaves a
// half-written file under the real name.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

const tempPathFor = (file: string) => path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = tempPathFor(file);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * writeFileAtomic for content produced in pieces (files larger than memory): `produce` gets a
 * function that appends a chunk; the file appears under its name only once `produce` resolves.
 */
export async function writeFileAtomicStream(file: string, produce: (write: (chunk: Uint8Array) => void) => Promise<void> | void): Promise<void> {
  const tmp = tempPathFor(file);
  const fd = openSync(tmp, 'w');
  let ok = false;
  try {
    await produce((chunk) => {
      for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done, chunk.length - done);
    });
    fsyncSync(fd);
    ok = true;
  } finally {
    closeSync(fd);
    if (ok) renameSync(tmp, file);
    else rmSync(tmp, { force: true });
  }
}
