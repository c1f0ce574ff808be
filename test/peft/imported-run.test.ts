// An imported token-classification adapter used like a trained run through the API: with
// --task ss8 its saved classifier is the SS8 head, so `predict` gives the softmax of PEFT's own
// reference logits (within 1e-4), `export` writes files from that prediction, `evaluate` scores
// it, and the run is listed and compared with the others. Without --task the labels stay
// unnamed (task token-cls): predict says so and points to infer.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportResult, ImportPeftResult, PredictResult } from '../../src-main/api/contract.js';
import { ApiService } from '../../src-main/api/service.js';
import { readSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { JobQueue } from '../../src-main/engine/jobs/queue.js';
import { evaluateRun } from '../../src-main/engine/tasks/evaluate.js';
import { fixtureModel, shared } from '../helpers/paths.js';
import { fixtureSequences, peftFixture } from './helpers.js';

let home: string;
let jobs: JobQueue;
let api: ApiService;
beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'plmw-peft-run-'));
  jobs = new JobQueue({ progressIntervalMs: 0 });
  api = new ApiService({ front: 'cli', jobs, home });
});
afterAll(async () => {
  await jobs.close();
  rmSync(home, { recursive: true, force: true });
});

async function job<T>(method: string, request: unknown): Promise<T> {
  const { jobId } = (await api.dispatch(method, request)) as { jobId: string };
  const j = await jobs.wait(jobId);
  if (j.state !== 'done') throw new Error(`${method}: ${j.state}: ${j.error}`);
  return j.result as T;
}
async function failure(method: string, request: unknown): Promise<string> {
  const { jobId } = (await api.dispatch(method, request)) as { jobId: string };
  const j = await jobs.wait(jobId);
  expect(j.state).toBe('failed');
  return j.error!;
}

describe('an imported adapter as a run', () => {
  it('with --task ss8: predict = softmax of PEFT\'s logits, then export, evaluate, list and compare', async () => {
    const r = await job<ImportPeftResult>('runs.import-peft', { source: peftFixture('lora-layers0-tokencls'), model: fixtureModel('tiny'), task: 'ss8', name: 'PEFT LoRA layer 0' });
    expect(r).toMatchObject({ id: 'peft-PEFT-LoRA-layer-0', task: 'ss-ss8', method: { name: 'lora', layers: [0], targets: ['query', 'key'] }, head: { name: 'linear', classes: 8 } });
    const seqs = fixtureSequences();
    const p = await job<PredictResult>('predict', { run: r.id, sequences: seqs, out: path.join(home, 'pred', 'fx') });
    const ref = readSafetensors(path.join(peftFixture('lora-layers0-tokencls'), 'reference.safetensors'));
    let max = 0;
    p.sequences.forEach((s, i) => {
      const lg = ref.tensors.get(`${seqs[i].id}.logits`)!.toFloat32();
      for (let k = 0; k < s.sequence.length; k++) {
        const z = Array.from(lg.subarray((k + 1) * 8, (k + 2) * 8));
        const m = Math.max(...z);
        const e = z.map((v) => Math.exp(v - m));
        const sum = e.reduce((a, v) => a + v, 0);
        e.forEach((v, c) => (max = Math.max(max, Math.abs(v / sum - s.ss!.p8![k * 8 + c]))));
      }
    });
    expect(max).toBeLessThan(1e-4);
    const ex = await job<ExportResult>('export', { prediction: p.json, formats: ['csv', 'gff3', 'fasta'], outDir: path.join(home, 'exported') });
    expect(ex.files.map((f) => path.basename(f.path)).sort()).toEqual(['fx.fasta', 'fx.gff3', 'fx.residues.csv']);
    const e = await evaluateRun(r.dir, shared('data', 'secondary-structure', 'lift_ss', 'CASP12.txt'), { runtime: { providers: ['cpu'], threads: 1 } });
    expect(e.kind).toBe('ss');
    expect(e.run.method).toMatchObject({ name: 'lora' });
    const cmp = (await api.dispatch('runs.compare', { ids: [r.id] })) as { rows: { method: string; trainableParams: number; adapterSource: string }[] };
    expect(cmp.rows[0]).toMatchObject({ method: 'lora', trainableParams: 2 * (4 * 64 + 64 * 4) + 8 * 64 + 8, adapterSource: 'adapter' });
    const got = (await api.dispatch('runs.get', { id: r.id })) as { run: { imported: { peftType: string } }; adapter: { files: string[] } };
    expect(got.run.imported.peftType).toBe('LORA');
    expect(got.adapter.files).toContain('adapter_model.safetensors');
    expect(JSON.parse(readFileSync(path.join(r.dir, 'run.json'), 'utf8')).status).toBe('completed');
  });

  it('without --task the classifier keeps unnamed labels: predict refuses and says to use infer', async () => {
    const r = await job<ImportPeftResult>('runs.import-peft', { source: peftFixture('ia3-tokencls'), model: fixtureModel('tiny') });
    expect(r.task).toBe('token-cls');
    expect(await failure('predict', { run: r.id, sequences: fixtureSequences().slice(0, 1) })).toMatch(/the labels of this imported classifier are not known \(task token-cls\): import it again with --task ss3, ss8 or sp/);
    // a wrong --task is refused with the label count
    expect(await failure('runs.import-peft', { source: peftFixture('ia3-tokencls'), model: fixtureModel('tiny'), task: 'ss8' })).toMatch(/--task ss8: needs 8 labels, the adapter's classifier has 3/);
    // and a request the contract refuses names the field
    await expect(api.dispatch('runs.import-peft', { source: peftFixture('ia3-tokencls'), task: 'ss9' })).rejects.toMatchObject({ code: 'bad_request', field: 'task' });
    await expect(api.dispatch('runs.import-peft', { source: '' })).rejects.toMatchObject({ code: 'bad_request', field: 'source' });
  });
});
