// The contract and its one implementation (ApiService), called in process.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_SCHEMAS, REQUEST_SCHEMAS, RESERVED_JOB_KINDS } from '../../src-main/api/contract.js';
import { ApiError } from '../../src-main/api/errors.js';
import { getJobKind, registerJobKind } from '../../src-main/api/job-kinds.js';
import { array, object, string } from '../../src-main/api/schema.js';
import { ApiService } from '../../src-main/api/service.js';
import { JobQueue } from '../../src-main/engine/jobs/queue.js';
import { fixtureModel } from '../helpers/paths.js';
import { writeRun } from '../runs/helpers.js';

let home: string;
let jobs: JobQueue;
let api: ApiService;
beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'plmw-api-'));
  jobs = new JobQueue({ diagnostics: true });
  api = new ApiService({ front: 'cli', jobs, home });
});
afterAll(async () => {
  await jobs.close();
  rmSync(home, { recursive: true, force: true });
});

const err = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e as ApiError;
  }
  throw new Error('expected the call to fail');
};

describe('validation', () => {
  it('every request is checked; a bad one names its field', async () => {
    expect(await err(api.dispatch('runs.compare', { ids: [] }))).toMatchObject({ code: 'bad_request', field: 'ids', message: 'ids: must not be empty' });
    expect(await err(api.dispatch('runs.get', { id: '../../etc' }))).toMatchObject({ field: 'id' });
    expect(await err(api.dispatch('runs.list', { root: '/tmp', extra: 1 }))).toMatchObject({ field: 'extra', message: 'extra: unknown field (expected root)' });
    expect(await err(api.dispatch('runs.list', 'not an object'))).toMatchObject({ field: 'request', message: 'request: must be an object, got \'not an object\'' });
    expect(await err(api.dispatch('fasta.parse', { text: '>a\nM', path: '/x' }))).toMatchObject({ field: 'path', message: 'path: give exactly one of text or path' });
    const seq = await err(api.dispatch('infer', { model: 'm', out: 'o', sequences: [{ id: 'a', sequence: 'M' }, { id: 'b c', sequence: 'K' }] }));
    expect(seq).toMatchObject({ field: 'sequences[1].id', message: 'sequences[1].id: must be a FASTA id: no spaces, no >' });
    expect(await err(api.dispatch('infer', { model: 'm', out: 'o', fasta: 'f', threads: 1.5 }))).toMatchObject({ field: 'threads', message: 'threads: must be a whole number, got 1.5' });
    expect(await err(api.dispatch('infer', { model: 'm', run: 'r', out: 'o', fasta: 'f' }))).toMatchObject({ field: 'run', message: 'run: give exactly one of model or run' });
    expect(await err(api.dispatch('jobs.cancel', { jobId: 'nope' }))).toMatchObject({ code: 'not_found' });
    expect(await err(api.dispatch('__proto__', {}))).toMatchObject({ code: 'unknown_method' });
  });

  it('answers an envelope through handle(), never throwing', async () => {
    expect(await api.handle(42, {})).toEqual({ ok: false, error: { code: 'unknown_method', message: 'method must be a string' } });
    expect(await api.handle('health', undefined)).toMatchObject({ ok: true, result: { name: 'plm-workbench', front: 'cli', jobKinds: ['infer', 'models.download', 'selftest', 'train', 'train.resume', 'train.estimate', 'predict', 'attention', 'export', 'data.download', 'runs.evaluation', 'runs.import-peft'] } });
  });

  it('has a schema for every plain method and every built-in job kind', () => {
    expect(Object.keys(REQUEST_SCHEMAS).sort()).toEqual(
      ['data.list', 'dialog.open', 'fasta.parse', 'health', 'jobs.cancel', 'jobs.list', 'jobs.result', 'models.import', 'models.list', 'models.remove', 'predictions.get', 'predictions.list', 'runs.compare', 'runs.delete', 'runs.get', 'runs.list', 'runs.rename', 'samples.list', 'session.get', 'session.set', 'settings.get', 'settings.set'].sort(),
    );
    for (const k of Object.keys(JOB_SCHEMAS)) expect(getJobKind(k), k).toBeDefined();
  });
});

describe('job kinds are open for the trainer', () => {
  it('a registered kind becomes a method validated by its own validator', async () => {
    expect(RESERVED_JOB_KINDS).toEqual(['train', 'evaluate', 'predict', 'export']);
    registerJobKind('evaluate', {
      validate: (r) => object({ run: string({ minLength: 1 }), formats: array(string(), { minItems: 1 }) }).parse(r, 'request'),
      run: async () => ({}),
    });
    expect(await err(api.dispatch('evaluate', { run: 'r1', formats: [] }))).toMatchObject({ code: 'bad_request', field: 'formats' });
    expect(() => registerJobKind('evaluate', { validate: (r) => r, run: async () => ({}) })).toThrow(/already registered/);
    expect(() => registerJobKind('Bad Name', { validate: (r) => r, run: async () => ({}) })).toThrow(/invalid job kind name/);
  });
});

describe('methods', () => {
  it('fasta.parse returns records and the located validation report, from text or a file', async () => {
    const r = await api.call('fasta.parse', { text: '>a one\nmkv\n>b\nMK1\n>a\nMM\n' });
    expect(r.records.map((x) => [x.id, x.sequence])).toEqual([['a', 'MKV']]);
    expect(r.notes.map((n) => [n.kind, n.loc.line])).toEqual([['changed', 1], ['rejected', 4], ['rejected', 5]]);
    const f = path.join(home, 'x.fasta');
    writeFileSync(f, '>p\nMKV*\n');
    const fromFile = await api.call('fasta.parse', { path: f });
    expect(fromFile.file).toBe(f);
    expect(fromFile.records[0].sequence).toBe('MKV');
    expect(await err(api.dispatch('fasta.parse', { path: path.join(home, 'missing.fasta') }))).toMatchObject({ code: 'not_found' });
    expect(await err(api.dispatch('fasta.parse', { text: 'hello\n>a\nM' }))).toMatchObject({ code: 'bad_request', message: "<text>:1:1: text before the first '>' header: not a FASTA file?" });
  });

  it('models.import installs a local folder; models.list shows it beside the registry', async () => {
    const src = path.join(home, 'src', 'tiny');
    mkdirSync(src, { recursive: true });
    for (const f of ['config.json', 'model.safetensors', 'vocab.txt']) copyFileSync(path.join(fixtureModel('tiny'), f), path.join(src, f));
    const m = await api.call('models.import', { dir: src, name: 'tiny-test' });
    expect(m).toMatchObject({ name: 'tiny-test', status: 'ready' });
    const list = await api.call('models.list', {});
    expect(list.home).toBe(home);
    expect(list.installed.map((x) => x.name)).toEqual(['tiny-test']);
    expect(list.registry.map((x) => x.name)).toContain('esm2_t6_8M_UR50D');
    expect(await err(api.dispatch('models.import', { dir: src, name: 'tiny-test' }))).toMatchObject({ code: 'failed', message: expect.stringMatching(/already installed/) });
  });

  it('an infer job finds an installed model by name and applies the settings\' defaults', async () => {
    await api.call('settings.set', { providers: ['cpu'], threads: 1 });
    const out = path.join(home, 'by-name.safetensors');
    const { jobId } = await api.call('infer', { model: 'tiny-test', sequences: [{ id: 's1', sequence: 'MKTAYIAK' }], out, emit: ['logits'] });
    const done = await jobs.wait(jobId);
    expect(done.state, done.error).toBe('done');
    expect(done.result).toMatchObject({ out, sequences: 1, tensors: 1, provider: 'cpu' });
  });

  it('runs.* read the run store under <home>/runs', async () => {
    writeRun(path.join(home, 'runs'), 'r1');
    expect((await api.call('runs.list', {})).runs.map((r) => r.id)).toEqual(['r1']);
    expect((await api.call('runs.rename', { id: 'r1', name: 'renamed' })).name).toBe('renamed');
    expect((await api.call('runs.get', { id: 'r1' })).run.name).toBe('renamed');
    expect((await api.call('runs.compare', { ids: ['r1'] })).rows[0].method).toBe('lora');
    expect(await err(api.dispatch('runs.get', { id: 'r2' }))).toMatchObject({ code: 'not_found' });
    await api.call('runs.delete', { id: 'r1' });
    expect((await api.call('runs.list', {})).runs).toEqual([]);
  });

  it('settings persist; a damaged file falls back to the defaults and says why', async () => {
    const file = path.join(home, 'settings.json');
    await api.call('settings.set', { modelFolder: home, threads: 3 });
    const again = new ApiService({ front: 'cli', jobs, home });
    expect((await again.call('settings.get', {})).settings).toEqual({ modelFolder: home, threads: 3 });
    writeFileSync(file, '{"threads": "many"}');
    const damaged = new ApiService({ front: 'cli', jobs, home });
    const s = await damaged.call('settings.get', {});
    expect(s.settings).toEqual({});
    expect(s.problem).toMatch(/settings\.json: threads: must be a whole number, got 'many'; using the defaults/);
    again.dispose();
    damaged.dispose();
  });
});
