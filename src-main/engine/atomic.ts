// The one writer for every file the product writes. A file is either entirely old or entirely
// new: bytes go to a hidden temporary name inside the destination folder, every write is
// looped until all bytes are down (a short count is not success), the data is fsync'd, then
// the temporary is renamed over the target and the folder is fsync'd. On any failure (ENOSPC,
// EIO, a kill signal handled by the caller) the temporary is removed and the old file is left
// as it was; the error names the file and the bytes it needed.
//
// Temporaries are named `.<target>~plmw-<host>-<pid>-<random>.tmp`, so that a later start can
// tell its own leftovers from a live writer's (sweepStaleTemporaries) and signal handlers can
// remove the ones this process has open (removeLiveTemporaries).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The file-system calls the writer uses, gathered so that tests can inject faults (short
 * writes, ENOSPC after N bytes) without touching the real disk's behaviour elsewhere.
 */
export const atomicIo = {
  openSync: fs.openSync,
  writeSync: fs.writeSync as (fd: number, buf: Uint8Array, offset: number, length: number, position: number | null) => number,
  readSync: fs.readSync as (fd: number, buf: Uint8Array, offset: number, length: number, position: number) => number,
  fsyncSync: fs.fsyncSync,
  closeSync: fs.closeSync,
  renameSync: fs.renameSync,
  ftruncateSync: fs.ftruncateSync,
};

/** A write or read that could not complete: names the file, what it needed and the OS reason. */
export class WriteError extends Error {
  override name = 'WriteError';
  constructor(
    readonly file: string,
    readonly code: string,
    message: string,
    readonly bytesNeeded?: number,
  ) {
    super(message);
  }
}

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'no such file or directory',
  EFBIG: 'file too large',
};

function describe(e: unknown): { code: string; reason: string } {
  const code = (e as NodeJS.ErrnoException)?.code ?? 'EIO';
  return { code, reason: REASONS[code] ?? ((e as Error)?.message || String(e)) };
}

/** Turns an OS error into a WriteError naming the file (a WriteError passes through). */
export function writeFailure(file: string, e: unknown, bytesNeeded?: number, verb: 'write' | 'read' = 'write'): WriteError {
  if (e instanceof WriteError) return e;
  const { code, reason } = describe(e);
  const need = bytesNeeded !== undefined ? ` (${bytesNeeded} bytes needed)` : '';
  return new WriteError(file, code, `${file}: cannot ${verb}: ${reason}${need} [${code}]`, bytesNeeded);
}

/** Writes all of `data` at `position` (or the current offset when null), looping on short counts. */
export function writeFully(fd: number, data: Uint8Array, position: number | null, file: string): void {
  let done = 0;
  while (done < data.length) {
    let n: number;
    try {
      n = atomicIo.writeSync(fd, data, done, data.length - done, position === null ? null : position + done);
    } catch (e) {
      throw writeFailure(file, e, data.length);
    }
    // A zero count with no error never makes progress: treat it as a full device.
    if (n <= 0) throw new WriteError(file, 'ENOSPC', `${file}: ${REASONS.ENOSPC} (wrote ${done} of ${data.length} bytes) [ENOSPC]`, data.length);
    done += n;
  }
}

/** Fills `dst` from `position`, looping on short reads; the end of the file before that is an error. */
export function readFully(fd: number, dst: Uint8Array, position: number, file: string): void {
  let done = 0;
  while (done < dst.length) {
    let n: number;
    try {
      n = atomicIo.readSync(fd, dst, done, dst.length - done, position + done);
    } catch (e) {
      throw writeFailure(file, e, undefined, 'read');
    }
    if (n <= 0) throw new WriteError(file, 'EIO', `${file}: unexpected end of file at byte ${position + done} (needed ${dst.length} bytes from ${position})`);
    done += n;
  }
}

const HOST = os.hostname().replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40) || 'host';
const TEMP_RE = /^\..+~plmw-([A-Za-z0-9_]+)-(\d+)-[0-9a-f]+\.tmp$/;

/** The temporary name for `file`: hidden, in the same folder (so the rename stays on one device). */
export function temporaryPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}~plmw-${HOST}-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/** Temporaries this process has open: removed by removeLiveTemporaries on a signal or cancel. */
const live = new Set<string>();

/** Removes every temporary this process still has open (synchronous: safe in a signal handler). */
export function removeLiveTemporaries(): number {
  let n = 0;
  for (const t of [...live]) {
    try {
      fs.rmSync(t, { force: true });
      n++;
    } catch {
      // a temporary that cannot be removed now is swept at the next start
    }
    live.delete(t);
  }
  return n;
}

/** Paths of the temporaries this process has open (for tests and diagnostics). */
export function liveTemporaries(): string[] {
  return [...live];
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the writer's temporaries in `dir` whose owner is gone: a dead pid on this host, or
 * (written from another host, e.g. a cluster node) untouched for longer than `foreignAgeMs`.
 * Returns the paths removed.
 */
export function sweepStaleTemporaries(dir: string, o: { foreignAgeMs?: number } = {}): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_RE.exec(name);
    if (!m) continue;
    const file = path.join(dir, name);
    if (live.has(file)) continue;
    let stale: boolean;
    if (m[1] === HOST) stale = Number(m[2]) !== process.pid && !pidAlive(Number(m[2]));
    else {
      try {
        stale = Date.now() - fs.statSync(file).mtimeMs > (o.foreignAgeMs ?? 24 * 3600_000);
      } catch {
        continue;
      }
    }
    if (!stale) continue;
    fs.rmSync(file, { force: true, recursive: true });
    removed.push(file);
  }
  return removed;
}

function fsyncDir(dir: string): void {
  // Makes the rename itself durable; not every file system allows opening a folder.
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

const toBytes = (data: string | Uint8Array): Uint8Array => (typeof data === 'string' ? Buffer.from(data, 'utf8') : data);

/**
 * A file being written: appended to (or written at positions) under its temporary name, and
 * published by commit(). abort() (or any failed write) removes the temporary.
 */
export class AtomicFile {
  private fd: number | null;
  private written = 0;

  private constructor(
    readonly target: string,
    readonly temporary: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** Starts writing `target` (nothing changes at that path until commit). */
  static create(target: string): AtomicFile {
    const tmp = temporaryPath(target);
    let fd: number;
    try {
      fd = atomicIo.openSync(tmp, 'w+');
    } catch (e) {
      throw writeFailure(target, e);
    }
    live.add(tmp);
    return new AtomicFile(target, tmp, fd);
  }

  /** Bytes appended so far (the file's size unless writeAt went past it). */
  get size(): number {
    return this.written;
  }

  private handle(): number {
    if (this.fd === null) throw new Error(`${this.target}: write after commit or abort`);
    return this.fd;
  }

  /** Appends data; on failure the temporary is removed and a WriteError names the target. */
  write(data: string | Uint8Array): void {
    const bytes = toBytes(data);
    this.guard(() => writeFully(this.handle(), bytes, this.written, this.target), bytes.length);
    this.written += bytes.length;
  }

  /** Writes at an absolute position (for formats whose header is known last). */
  writeAt(data: Uint8Array, position: number): void {
    this.guard(() => writeFully(this.handle(), data, position, this.target), data.length);
    this.written = Math.max(this.written, position + data.length);
  }

  /** Reads back bytes already written (spool files). */
  readAt(dst: Uint8Array, position: number): void {
    this.guard(() => readFully(this.handle(), dst, position, this.temporary));
  }

  /** Flushes, renames over the target and makes the rename durable. */
  commit(): void {
    const fd = this.handle();
    this.guard(() => {
      atomicIo.fsyncSync(fd);
      atomicIo.closeSync(fd);
      this.fd = null;
      atomicIo.renameSync(this.temporary, this.target);
    }, this.written);
    live.delete(this.temporary);
    fsyncDir(path.dirname(this.target));
  }

  /** Drops the temporary; the target is untouched. Safe to call twice. */
  abort(): void {
    if (this.fd !== null) {
      try {
        atomicIo.closeSync(this.fd);
      } catch {
        // already failing; the removal below is what matters
      }
      this.fd = null;
    }
    fs.rmSync(this.temporary, { force: true });
    live.delete(this.temporary);
  }

  private guard(f: () => void, bytesNeeded?: number): void {
    try {
      f();
    } catch (e) {
      this.abort();
      throw writeFailure(this.target, e, bytesNeeded);
    }
  }
}

/** Writes a whole file atomically. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const f = AtomicFile.create(file);
  f.write(data);
  f.commit();
}

/** Writes pretty-printed JSON atomically (async signature kept for existing callers). */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Appends to a file in place (logs such as metrics.jsonl) so that the append is all or nothing:
 * on a failed or short write the file is cut back to its previous length, never left with a
 * torn record, and the error names the file.
 */
export function appendFileDurable(file: string, data: string | Uint8Array): void {
  const bytes = toBytes(data);
  let fd: number;
  try {
    fd = atomicIo.openSync(file, 'a+');
  } catch (e) {
    throw writeFailure(file, e, bytes.length);
  }
  try {
    const before = fs.fstatSync(fd).size;
    try {
      writeFully(fd, bytes, before, file);
      atomicIo.fsyncSync(fd);
    } catch (e) {
      try {
        atomicIo.ftruncateSync(fd, before);
        atomicIo.fsyncSync(fd);
      } catch {
        // the reader's torn-last-line rule still protects the file's earlier records
      }
      throw writeFailure(file, e, bytes.length);
    }
  } finally {
    atomicIo.closeSync(fd);
  }
}

/**
 * A scratch file that is never published (spill caches, spools): created under the writer's
 * temporary naming in `dir`, so that signal handlers and the next start's sweep remove it.
 * Call abort() to remove it when done.
 */
export function createScratchFile(dir: string, name: string): AtomicFile {
  return AtomicFile.create(path.join(dir, name));
}
