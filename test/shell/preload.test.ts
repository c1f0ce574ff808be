// The preload with `electron` mocked: it exposes exactly call / onEvent / pathForFile, forwards
// calls to the one IPC channel, never hands the IPC event object to the page, and turns dropped
// FASTA/structure files into a files.opened event.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApiEvent, PlmwBridge } from '../../src-main/api/contract.js';

const h = vi.hoisted(() => ({
  exposed: {} as Record<string, unknown>,
  invoked: [] as unknown[][],
  listeners: new Map<string, ((...a: unknown[]) => void)[]>(),
}));

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (k: string, v: unknown) => (h.exposed[k] = v) },
  ipcRenderer: {
    invoke: async (...a: unknown[]) => (h.invoked.push(a), { ok: true, result: 'pong' }),
    on: (ch: string, fn: (...a: unknown[]) => void) => h.listeners.set(ch, [...(h.listeners.get(ch) ?? []), fn]),
    removeListener: (ch: string, fn: (...a: unknown[]) => void) => h.listeners.set(ch, (h.listeners.get(ch) ?? []).filter((f) => f !== fn)),
  },
  webUtils: { getPathForFile: (f: { name: string }) => `/dropped/${f.name}` },
}));

let bridge: PlmwBridge;
beforeAll(async () => {
  (globalThis as { window?: unknown }).window = new EventTarget();
  await import('../../src-preload/index.js');
  bridge = h.exposed.plmw as PlmwBridge;
});

describe('preload', () => {
  it('exposes exactly the typed API', () => {
    expect(Object.keys(h.exposed)).toEqual(['plmw']);
    expect(Object.keys(bridge).sort()).toEqual(['call', 'onEvent', 'pathForFile']);
  });

  it('forwards calls to the plmw:call channel', async () => {
    expect(await bridge.call('runs.list', {})).toEqual({ ok: true, result: 'pong' });
    expect(h.invoked).toEqual([['plmw:call', 'runs.list', {}]]);
  });

  it('delivers events without the IPC event object, and unsubscribes', () => {
    const got: ApiEvent[] = [];
    const off = bridge.onEvent((e) => got.push(e));
    const ev: ApiEvent = { type: 'job.cancelled', jobId: 'j', kind: 'infer' };
    for (const l of h.listeners.get('plmw:event')!) l({ sender: 'secret' }, ev);
    expect(got).toEqual([ev]);
    off();
    expect(h.listeners.get('plmw:event')).toEqual([]);
  });

  it('turns dropped files into files.opened events by kind', () => {
    const got: ApiEvent[] = [];
    const off = bridge.onEvent((e) => got.push(e));
    const drop = new Event('drop', { cancelable: true });
    Object.defineProperty(drop, 'dataTransfer', { value: { types: ['Files'], files: [{ name: 'a.fasta' }, { name: '1ubq.pdb' }, { name: 'b.fa' }, { name: 'x.docx' }] } });
    window.dispatchEvent(drop);
    expect(drop.defaultPrevented).toBe(true);
    expect(got).toEqual([
      { type: 'files.opened', kind: 'fasta', paths: ['/dropped/a.fasta', '/dropped/b.fa'] },
      { type: 'files.opened', kind: 'structure', paths: ['/dropped/1ubq.pdb'] },
    ]);
    off();
  });
});
