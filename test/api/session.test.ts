// State that survives a reload: session parts kept in the data folder through the API, checked
// requests, atomic files; and the other light methods the workbench pages read at start:
// samples.list, data.list, models.remove.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiService } from '../../src-main/api/service.js';
import { JobQueue } from '../../src-main/engine/jobs/queue.js';
import { REPO, fixtureModel } from '../helpers/paths.js';

let home: string;
let jobs: JobQueue;
let api: ApiService;
beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'plmw-session-'));
  jobs = new JobQueue();
  api = new ApiService({ front: 'web', jobs, home });
});
afterAll(async () => {
  await jobs.close();
  rmSync(home, { recursive: true, force: true });
});

const bad = (method: string, request: unknown) => api.handle(method, request).then((r) => (r.ok ? null : r.error));

describe('session', () => {
  it('keeps each part in the data folder and gives every part back, as a new service would read it', async () => {
    expect((await api.call('session.get', {})).parts).toEqual({});
    const sequences = { source: 'mine.fasta', records: [{ id: 'P1|EUKARYA|SP|0', description: '', sequence: 'MKV', line: 1 }], selected: ['P1|EUKARYA|SP|0'] };
    const saved = await api.call('session.set', { part: 'sequences', value: sequences });
    expect(saved.bytes).toBeGreaterThan(20);
    await api.call('session.set', { part: 'train-form', value: { epochs: 3, lr: 0.001, method: 'lora' } });
    await api.call('session.set', { part: 'train-form', value: { epochs: 4, lr: 0.001, method: 'ia3' } });
    // a reload: another service over the same folder
    const again = new ApiService({ front: 'web', jobs, home });
    const s = await again.call('session.get', {});
    expect(s.parts.sequences.value).toEqual(sequences);
    expect(s.parts['train-form'].value).toEqual({ epochs: 4, lr: 0.001, method: 'ia3' });
    expect(s.parts.sequences.savedAt).toBe(saved.savedAt);
    expect(s.problems).toEqual([]);
    // written atomically: no temporary files left
    expect(readdirSync(path.join(home, 'session')).sort()).toEqual(['sequences.json', 'train-form.json']);
  });

  it('refuses bad part names and values that are not JSON data, and reports a damaged part', async () => {
    expect(await bad('session.set', { part: '../x', value: {} })).toMatchObject({ code: 'bad_request', field: 'part' });
    expect(await bad('session.set', { part: 'x', value: { n: Infinity } })).toMatchObject({ code: 'bad_request', field: 'value' });
    expect(await bad('session.set', { part: 'x', value: { when: new Date() } })).toMatchObject({ code: 'bad_request', field: 'value' });
    expect(await bad('session.set', { part: 'x' })).toMatchObject({ code: 'bad_request', field: 'value' });
    writeFileSync(path.join(home, 'session', 'broken.json'), '{"savedAt": "2026-');
    const s = await api.call('session.get', {});
    expect(s.parts.broken).toBeUndefined();
    expect(s.problems).toEqual([expect.stringMatching(/broken\.json: .*JSON/)]);
  });
});

describe('what the pages list at start', () => {
  it('lists the shipped samples with their paths and licences', async () => {
    const s = await api.call('samples.list', {});
    expect(s.dir).toBe(path.join(REPO, 'resources', 'samples'));
    expect(s.samples.map((x) => x.use)).toEqual(expect.arrayContaining(['sequences', 'ss-train', 'ss-val', 'sp-train', 'sp-val', 'structure']));
    for (const x of s.samples) expect(existsSync(x.path)).toBe(true);
  });

  it('lists the data sets with their licences, none installed yet', async () => {
    const d = await api.call('data.list', {});
    expect(d.root).toBe(path.join(home, 'data'));
    expect(d.sets.find((x) => x.name === 'signalp6-train')).toMatchObject({ task: 'sp', licence: { open: false } });
    expect(d.sets.every((x) => x.installed === undefined)).toBe(true);
  });

  it('removes an installed model, and says so when there is none of that name', async () => {
    await api.call('models.import', { dir: fixtureModel('tiny'), name: 'tiny', mode: 'copy' });
    expect((await api.call('models.list', {})).installed.map((m) => m.name)).toEqual(['tiny']);
    expect(await api.call('models.remove', { name: 'tiny' })).toEqual({ removed: 'tiny' });
    expect((await api.call('models.list', {})).installed).toEqual([]);
    expect(await bad('models.remove', { name: 'tiny' })).toMatchObject({ code: 'not_found' });
  });
});
