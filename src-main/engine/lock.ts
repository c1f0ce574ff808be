// One writer at a time: a lock file (pid, host, start time, heartbeat) beside what it guards, for
// a training run's folder and for a model's download.
//
// The file is created complete (written under a temporary name, then hard-linked into place,
// which fails atomically when the name is taken). Its holder refreshes `heartbeatAt` every
// `heartbeatMs`. A lock whose holder is gone is taken over, and the caller is told whose it was
// and why it counted as gone; the liveness rule is the run store's rule for interrupted runs:
//
//  - on this host: the recorded process is no longer alive;
//  - on another host (a shared folder): the heartbeat is older than HEARTBEAT_STALE_MS.
//
// Two takers of one stale lock are serialised by a second, short-lived lock (`<file>.takeover`)
// so only one of them replaces it. A holder checks its lock on every heartbeat; if someone took
// it over (a host that lost the shared folder for longer than the stale limit), `lost` says so
// and check() throws, so the old holder stops instead of writing beside the new one.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { AtomicFile, pidAlive, trackOwnedFile, writeFileAtomic } from './atomic.js';

/** A holder on another host whose heartbeat is older than this is gone (the run store's rule). */
export const HEARTBEAT_STALE_MS = 2 * 60_000;

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  heartbeatAt: string;
  /** what holds it, in words ("plmw train", "download of esm2_t6_8M_UR50D") */
  purpose: string;
  /** tells this holder from a later one with the same pid */
  token: string;
}

export interface LivenessProbe {
  now?: number;
  hostname?: string;
  isAlive?: (pid: number) => boolean;
}

/**
 * Is the owner of a record (a lock, a running run.json) still there? `at` is its heartbeat.
 * Returns the reason when it is gone.
 */
export function ownerGone(o: { pid?: number; host?: string; at?: string }, probe: LivenessProbe = {}): string | undefined {
  const host = probe.hostname ?? os.hostname();
  const sameHost = o.host === undefined || o.host === host;
  if (sameHost && typeof o.pid === 'number') {
    return (probe.isAlive ?? pidAlive)(o.pid) ? undefined : `process ${o.pid} is no longer running`;
  }
  const beat = Date.parse(o.at ?? '');
  const age = (probe.now ?? Date.now()) - beat;
  if (Number.isFinite(beat) && age <= HEARTBEAT_STALE_MS) return undefined;
  const where = sameHost ? 'no process id recorded' : `held on ${o.host}`;
  return `${where} and its last heartbeat is ${Number.isFinite(beat) ? `${Math.round(age / 1000)} s old` : 'unreadable'}`;
}

export function describeHolder(h: Pick<LockHolder, 'pid' | 'host' | 'startedAt' | 'purpose'>): string {
  return `${h.purpose || 'another process'} (process ${h.pid} on ${h.host}, since ${h.startedAt})`;
}

/** The lock is held by a live owner. */
export class LockHeldError extends Error {
  override name = 'LockHeldError';
  constructor(
    readonly file: string,
    readonly holder: LockHolder,
    message: string,
  ) {
    super(message);
  }
}

export interface Lock {
  readonly file: string;
  readonly holder: LockHolder;
  /** set when the lock was taken over from a holder that was gone: who it was and why */
  readonly tookOver?: { holder: LockHolder | null; reason: string };
  /** why this process no longer holds the lock (someone took it over), else undefined */
  readonly lost: string | undefined;
  /** refreshes the heartbeat (at most once per heartbeatMs unless forced) */
  beat(force?: boolean): void;
  /** throws when the lock was lost */
  check(): void;
  release(): void;
}

export interface LockOptions {
  purpose: string;
  heartbeatMs?: number;
  probe?: LivenessProbe;
  /** refuse message prefix, e.g. "run runs/x" */
  what?: string;
}

function readHolder(file: string): LockHolder | null | 'missing' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw e;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    return typeof h === 'object' && h !== null && typeof h.pid === 'number' ? h : null;
  } catch {
    return null; // unreadable: only a crash of an older writer leaves this; treated as gone
  }
}

const TAKEOVER_STALE_MS = 30_000;

/** Takes the lock at `file`, taking over a stale one; throws LockHeldError when a live owner has it. */
export function acquireLock(file: string, o: LockOptions): Lock {
  const now = new Date().toISOString();
  const mine: LockHolder = { pid: process.pid, host: os.hostname(), startedAt: now, heartbeatAt: now, purpose: o.purpose, token: randomBytes(8).toString('hex') };
  let tookOver: Lock['tookOver'];
  for (let attempt = 0; attempt < 20; attempt++) {
    const f = AtomicFile.create(file);
    f.write(`${JSON.stringify(mine)}\n`);
    if (f.commitIfAbsent()) return makeLock(file, mine, o, tookOver);
    const current = readHolder(file);
    if (current === 'missing') continue; // released meanwhile: try again
    const gone = current === null ? 'its lock file is unreadable' : ownerGone({ pid: current.pid, host: current.host, at: current.heartbeatAt }, o.probe);
    if (!gone) {
      const h = current as LockHolder;
      throw new LockHeldError(file, h, `${o.what ?? file} is in use by ${describeHolder(h)}`);
    }
    // Stale: replace it under the takeover guard, after checking it is still the same stale lock.
    const guard = `${file}.takeover`;
    const g = AtomicFile.create(guard);
    g.write(`${process.pid}\n`);
    if (!g.commitIfAbsent()) {
      try {
        if (Date.now() - statSync(guard).mtimeMs > TAKEOVER_STALE_MS) rmSync(guard, { force: true });
      } catch {
        // gone already
      }
      continue;
    }
    try {
      const again = readHolder(file);
      if (JSON.stringify(again) === JSON.stringify(current)) {
        rmSync(file, { force: true });
        tookOver = { holder: current, reason: gone };
      }
    } finally {
      rmSync(guard, { force: true });
    }
  }
  throw new Error(`${file}: could not take the lock (it changed hands repeatedly)`);
}

function makeLock(file: string, mine: LockHolder, o: LockOptions, tookOver: Lock['tookOver']): Lock {
  const every = o.heartbeatMs ?? HEARTBEAT_STALE_MS / 4;
  let last = Date.now();
  let lost: string | undefined;
  let released = false;
  const lock: Lock = {
    file,
    holder: mine,
    tookOver,
    get lost() {
      return lost;
    },
    beat(force = false) {
      if (released || lost || (!force && Date.now() - last < every)) return;
      const current = readHolder(file);
      if (current === 'missing' || current === null || current.token !== mine.token) {
        lost = current === 'missing' || current === null ? `${file} was removed` : `${file} was taken over by ${describeHolder(current)}`;
        return;
      }
      last = Date.now();
      mine.heartbeatAt = new Date(last).toISOString();
      writeFileAtomic(file, `${JSON.stringify(mine)}\n`);
    },
    check() {
      if (lost) throw new Error(`lost the lock: ${lost}; stopping so that only one process writes here`);
    },
    release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      trackOwnedFile(file, false);
      try {
        const current = readHolder(file);
        if (current !== 'missing' && current !== null && current.token === mine.token) rmSync(file, { force: true });
      } catch {
        // unreadable now: the next start judges it by its pid and heartbeat
      }
    },
  };
  // Keeps the heartbeat going while the holder waits on I/O; a holder busy in one long native
  // call also calls beat() itself between calls.
  const timer = setInterval(() => {
    try {
      lock.beat();
    } catch {
      // a heartbeat that cannot be written (full disk) is retried on the next tick
    }
  }, every);
  timer.unref();
  // Removed with the process's temporaries when it exits or is signalled (short of a SIGKILL),
  // and by the job queue when the worker thread holding it is terminated.
  trackOwnedFile(file, true);
  return lock;
}
