// Lock files: created complete, refused while their holder lives, taken over when it is gone,
// and a holder whose lock was taken over notices on its next heartbeat and stops.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { liveTemporaries } from '../../src-main/engine/atomic.js';
import { LockHeldError, acquireLock, ownerGone } from '../../src-main/engine/lock.js';
import { testDir } from '../helpers/scratch.js';

const lockFile = () => path.join(testDir('plmw-lock'), '.lock');

describe('locks', () => {
  it('refuses a second holder while the first lives, and frees the file on release', () => {
    const f = lockFile();
    const a = acquireLock(f, { purpose: 'a test' });
    expect(JSON.parse(readFileSync(f, 'utf8'))).toMatchObject({ pid: process.pid, host: os.hostname(), purpose: 'a test' });
    expect(liveTemporaries()).toContain(f); // removed with the temporaries if the process ends first
    expect(() => acquireLock(f, { purpose: 'another', what: 'the thing' })).toThrow(LockHeldError);
    expect(() => acquireLock(f, { purpose: 'another', what: 'the thing' })).toThrow(`the thing is in use by a test (process ${process.pid} on ${os.hostname()}, since ${a.holder.startedAt})`);
    a.release();
    expect(existsSync(f)).toBe(false);
    expect(liveTemporaries()).not.toContain(f);
    acquireLock(f, { purpose: 'again' }).release();
  });

  it('takes over an unreadable lock file, saying so', () => {
    const f = lockFile();
    writeFileSync(f, '{"pid": 12');
    const l = acquireLock(f, { purpose: 'x' });
    expect(l.tookOver).toEqual({ holder: null, reason: 'its lock file is unreadable' });
    l.release();
  });

  it('a holder whose lock was taken over finds out on its next heartbeat, stops, and leaves the new lock alone', () => {
    const f = lockFile();
    const a = acquireLock(f, { purpose: 'old holder' });
    const other = { pid: 4242, host: 'node-3', startedAt: new Date().toISOString(), heartbeatAt: new Date().toISOString(), purpose: 'new holder', token: 'b' };
    writeFileSync(f, JSON.stringify(other));
    expect(a.lost).toBeUndefined();
    a.beat(true);
    expect(a.lost).toBe(`${f} was taken over by new holder (process 4242 on node-3, since ${other.startedAt})`);
    expect(() => a.check()).toThrow(/^lost the lock: .* stopping so that only one process writes here$/);
    a.release();
    expect(JSON.parse(readFileSync(f, 'utf8'))).toEqual(other);
  });

  it('judges owners by the run store rule: pid on this host, heartbeat elsewhere', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    expect(ownerGone({ pid: 7, host: 'h' }, { hostname: 'h', isAlive: () => true })).toBeUndefined();
    expect(ownerGone({ pid: 7, host: 'h' }, { hostname: 'h', isAlive: () => false })).toBe('process 7 is no longer running');
    expect(ownerGone({ pid: 7, host: 'far', at: '2026-12-01T11:59:00Z' }, { hostname: 'h', now })).toBeUndefined();
    expect(ownerGone({ pid: 7, host: 'far', at: '2026-12-01T11:57:00Z' }, { hostname: 'h', now })).toBe('held on far and its last heartbeat is 180 s old');
  });
});
