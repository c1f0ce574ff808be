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
import { type Hash, createHash, randomBytes } from 'node:crypto';
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
  linkSync: fs.linkSync,
  /** free bytes for an unprivileged writer on the file system holding `dir` (undefined: unknown) */
  freeBytes(dir: string): number | undefined {
    try {
      const st = fs.statfsSync(dir);
      return Number(st.bavail) * Number(st.bsize);
    } catch {
      return undefined;
    }
  },
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

const SPACE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** An error the operating system raised (it carries an errno code such as ENOSPC). */
export function isOsError(e: unknown): e is NodeJS.ErrnoException {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
}

/** The sentence for an OS error code ("no space left on device"), else the error's own message. */
export function osReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return (code && REASONS[code]) ?? ((e as Error)?.message || String(e));
}

/**
 * Turns an OS error into a WriteError naming the file (a WriteError passes through). Anything
 * else (a bug, a bad argument) is returned as it is: it is not the disk's fault.
 */
export function writeFailure(file: string, e: unknown, bytesNeeded?: number, verb: 'write' | 'read' = 'write'): Error {
  if (e instanceof WriteError || !isOsError(e)) return e as Error;
  const code = e.code!;
  // The size matters when space ran out; for a missing folder or a permission it is noise.
  const need = bytesNeeded !== undefined && SPACE_CODES.has(code) ? ` (${bytesNeeded} bytes needed)` : '';
  return new WriteError(file, code, `${file}: cannot ${verb}: ${osReason(e)}${need} [${code}]`, bytesNeeded);
}

/**
 * Writes all of `data` at `position` (or the current offset when null), looping on short counts.
 * Throws the OS error as it is (callers name the file and the size through writeFailure); a
 * zero count, which never makes progress, counts as a full device.
 */
export function writeFully(fd: number, data: Uint8Array, position: number | null, file: string): void {
  let done = 0;
  while (done < data.length) {
    const n = atomicIo.writeSync(fd, data, done, data.length - done, position === null ? null : position + done);
    if (n <= 0) throw Object.assign(new Error(`${file}: wrote ${done} of ${data.length} bytes, then the device took no more`), { code: 'ENOSPC' });
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

/** Reads a whole file in checked 4 MB pieces (one reused buffer), handing each piece to `f`. */
export function forEachPiece(file: string, f: (piece: Uint8Array) => void): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw writeFailure(file, e, undefined, 'read');
  }
  try {
    const size = fs.fstatSync(fd).size;
    const buf = new Uint8Array(Math.min(size, 1 << 22) || 1);
    for (let done = 0; done < size; ) {
      const piece = buf.subarray(0, Math.min(buf.length, size - done));
      readFully(fd, piece, done, file);
      f(piece);
      done += piece.length;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** sha256 (hex) of a file's content. */
export function sha256OfFile(file: string): string {
  const h = createHash('sha256');
  forEachPiece(file, (piece) => h.update(piece));
  return h.digest('hex');
}

const HOST = os.hostname().replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40) || 'host';
const TEMP_RE = /^\..+~plmw-([A-Za-z0-9_]+)-(\d+)-[0-9a-f]+\.tmp$/;

/** Bytes of the target's name kept in its temporary's name (file names are limited to 255 bytes). */
const NAME_BYTES = 160;

/** The temporary name for `file`: hidden, in the same folder (so the rename stays on one device). */
export function temporaryPath(file: string): string {
  let base = path.basename(file);
  while (Buffer.byteLength(base) > NAME_BYTES) base = base.slice(0, -1);
  return path.join(path.dirname(file), `.${base}~plmw-${HOST}-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/** Is `name` (a bare file name) one of the writer's temporaries? */
export function isTemporaryName(name: string): boolean {
  return TEMP_RE.test(name);
}

/**
 * Temporaries this process has open: removed by removeLiveTemporaries on a signal, a cancel or
 * at exit. A worker thread has its own copy of this module; the job queue adopts the worker's
 * temporaries into the main thread's set (watchTemporaries + adoptTemporary), so a worker that
 * is terminated, or a process that is signalled while a worker writes, leaves nothing behind.
 */
const live = new Set<string>();
const watchers = new Set<(file: string, open: boolean) => void>();

/**
 * Counts a file as one that must not outlive this process's work (a temporary, a lock file):
 * removed by removeLiveTemporaries on a signal or at exit, and by the job queue when the worker
 * thread that held it dies. `open` false: it was published or released, forget it.
 */
export function trackOwnedFile(file: string, open: boolean): void {
  if (open) live.add(file);
  else live.delete(file);
  for (const w of watchers) w(file, open);
}
const track = trackOwnedFile;

/** Calls `f` whenever a temporary is created (open) or committed/removed (closed). */
export function watchTemporaries(f: (file: string, open: boolean) => void): () => void {
  watchers.add(f);
  return () => watchers.delete(f);
}

/** Counts another thread's temporary as this process's own (or forgets it: `open` false). */
export function adoptTemporary(file: string, open = true): void {
  if (open) live.add(file);
  else live.delete(file);
}

/** Removes the given temporaries (or every one this process still has open); synchronous, so safe in a signal or exit handler. */
export function removeLiveTemporaries(only?: Iterable<string>): number {
  let n = 0;
  for (const t of only ? [...only] : [...live]) {
    try {
      fs.rmSync(t, { force: true, recursive: true });
      n++;
    } catch {
      // a temporary that cannot be removed now is swept at the next start
    }
    live.delete(t);
  }
  return n;
}

// Whatever way the process ends normally (including process.exit from a signal handler), no
// temporary outlives it. A SIGKILL is the one case left to sweepStaleTemporaries.
process.on('exit', () => removeLiveTemporaries());

/** Paths of the temporaries this process has open (for tests and diagnostics). */
export function liveTemporaries(): string[] {
  return [...live];
}

/** Is a process with this id alive on this host? (EPERM: alive but not ours.) */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
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

const formatBytes = (n: number): string => (n < 10_000 ? `${n} bytes` : n < 10_000_000 ? `${(n / 1e3).toFixed(0)} kB` : `${(n / 1e6).toFixed(0)} MB`);

/**
 * Refuses, before anything is written, a file of `bytes` that cannot fit in the free space of
 * `dir`'s file system (a write that would fill the disk to the last byte fails anyway, after
 * costing the time to write and leaving other programs without space).
 */
export function assertSpaceFor(file: string, bytes: number): void {
  const free = atomicIo.freeBytes(path.dirname(file));
  if (free === undefined || bytes <= free) return;
  throw new WriteError(file, 'ENOSPC', `${file}: cannot write: no space left on device (${bytes} bytes needed, ${formatBytes(free)} free) [ENOSPC]`, bytes);
}

export interface AtomicFileOptions {
  /** the final size when known: checked against the free space first, and named in errors */
  expectedBytes?: number;
  /** keep a sha256 of the bytes appended with write() (see digest()) */
  hash?: boolean;
}

/**
 * A file being written: appended to (or written at positions) under its temporary name, and
 * published by commit(). abort() (or any failed write) removes the temporary.
 */
export class AtomicFile {
  private fd: number | null;
  private written = 0;
  private readonly hash: Hash | undefined;

  private constructor(
    readonly target: string,
    readonly temporary: string,
    fd: number,
    private readonly expectedBytes: number | undefined,
    hash: boolean,
  ) {
    this.fd = fd;
    this.hash = hash ? createHash('sha256') : undefined;
  }

  /** Starts writing `target` (nothing changes at that path until commit). */
  static create(target: string, o: AtomicFileOptions = {}): AtomicFile {
    if (o.expectedBytes !== undefined) assertSpaceFor(target, o.expectedBytes);
    const tmp = temporaryPath(target);
    let fd: number;
    try {
      fd = atomicIo.openSync(tmp, 'w+');
    } catch (e) {
      throw writeFailure(target, e, o.expectedBytes);
    }
    track(tmp, true);
    return new AtomicFile(target, tmp, fd, o.expectedBytes, o.hash === true);
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
    this.guard(() => writeFully(this.handle(), bytes, this.written, this.target), this.written + bytes.length);
    this.written += bytes.length;
    this.hash?.update(bytes);
  }

  /** sha256 (hex) of everything appended with write(); only with the `hash` option and without writeAt. */
  digest(): string {
    if (!this.hash) throw new Error(`${this.target}: created without the hash option`);
    return this.hash.copy().digest('hex');
  }

  /** Writes at an absolute position (for formats whose header is known last). */
  writeAt(data: Uint8Array, position: number): void {
    if (this.hash) throw new Error(`${this.target}: writeAt on a hashed file`);
    this.guard(() => writeFully(this.handle(), data, position, this.target), Math.max(this.written, position + data.length));
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
      keepMode(fd, this.target);
      atomicIo.closeSync(fd);
      this.fd = null;
      atomicIo.renameSync(this.temporary, this.target);
    }, this.written);
    track(this.temporary, false);
    fsyncDir(path.dirname(this.target));
  }

  /**
   * Publishes the file only if nothing exists at the target yet (a hard link is atomic and
   * fails when the name is taken): returns false, and removes the temporary, when it does.
   * Lock files are created this way, complete from their first instant.
   */
  commitIfAbsent(): boolean {
    const fd = this.handle();
    let created = false;
    this.guard(() => {
      atomicIo.fsyncSync(fd);
      atomicIo.closeSync(fd);
      this.fd = null;
      try {
        atomicIo.linkSync(this.temporary, this.target);
        created = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }, this.written);
    this.abort();
    if (created) fsyncDir(path.dirname(this.target));
    return created;
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
    track(this.temporary, false);
  }

  private guard(f: () => void, bytesNeeded?: number): void {
    try {
      f();
    } catch (e) {
      this.abort();
      throw writeFailure(this.target, e, this.expectedBytes ?? bytesNeeded);
    }
  }
}

/** A replaced file keeps its permissions (a private settings file stays private). */
function keepMode(fd: number, target: string): void {
  let mode: number;
  try {
    mode = fs.statSync(target).mode & 0o7777;
  } catch {
    return; // a new file: the process's umask decides
  }
  fs.fchmodSync(fd, mode);
}

/** Writes a whole file atomically. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const bytes = toBytes(data);
  const f = AtomicFile.create(file, { expectedBytes: bytes.length });
  f.write(bytes);
  f.commit();
}

/** Pretty-printed JSON with a final newline, as every JSON file of the product is written. */
export const jsonText = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** Writes pretty-printed JSON atomically (async signature kept for existing callers). */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  writeFileAtomic(file, jsonText(value));
}

/**
 * Copies a file to `to` through the writer (the copy appears complete or not at all; reads and
 * writes are checked), in 4 MB pieces so memory does not grow with the file.
 */
export function copyFileAtomic(from: string, to: string): void {
  let size: number;
  try {
    size = fs.statSync(from).size;
  } catch (e) {
    throw writeFailure(from, e, undefined, 'read');
  }
  const out = AtomicFile.create(to, { expectedBytes: size });
  try {
    forEachPiece(from, (piece) => out.write(piece));
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
}

/**
 * Appends to a file in place (logs such as metrics.jsonl) so that the append is all or nothing:
 * on a failed or short write the file is cut back to its previous length, never left with a
 * torn record, and the error names the file.
 */
export function appendFileDurable(file: string, data: string | Uint8Array): void {
  const bytes = toBytes(data);
  const existed = fs.existsSync(file);
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
  if (!existed) fsyncDir(path.dirname(file));
}

/**
 * A scratch file that is never published (spill caches, spools): created under the writer's
 * temporary naming in `dir`, so that signal handlers and the next start's sweep remove it.
 * Call abort() to remove it when done.
 */
export function createScratchFile(dir: string, name: string): AtomicFile {
  return AtomicFile.create(path.join(dir, name));
}

/**
 * A scratch folder under the writer's temporary naming in `dir` (staging for a model import,
 * a command's intermediate files): removed with the process's other temporaries on a signal or
 * at exit, and by the next start's sweep after a SIGKILL. remove() deletes it when done;
 * publish(target) renames it into place.
 */
export function createScratchDir(dir: string, name: string): { path: string; remove(): void; publish(target: string): void } {
  const p = temporaryPath(path.join(dir, name));
  try {
    fs.mkdirSync(p, { recursive: true });
  } catch (e) {
    throw writeFailure(p, e);
  }
  track(p, true);
  return {
    path: p,
    remove: () => removeLiveTemporaries([p]),
    publish(target: string) {
      try {
        atomicIo.renameSync(p, target);
      } catch (e) {
        throw writeFailure(target, e);
      }
      track(p, false);
      fsyncDir(path.dirname(target));
    },
  };
}
