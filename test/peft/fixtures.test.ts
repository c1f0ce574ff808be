// Every adapter made by Hugging Face PEFT in ../shared/fixtures/peft, imported as a run, gives
// transformers + PEFT's own outputs (last hidden state and token-classification logits, prompt
// rows dropped as the fixture README documents) within 1e-4: through the engine, through the CLI
// (`plmw runs import-peft`, then `plmw infer --run`) and through the API (runs.import-peft, then
// infer with `run`). The base model is found by the adapter's base_model_name_or_path among the
// installed models.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportPeftResult, InferResult } from '../../src-main/api/contract.js';
import { ApiService } from '../../src-main/api/service.js';
import { Esm2Runner } from '../../src-main/engine/esm2/infer.js';
import { loadModel } from '../../src-main/engine/esm2/model.js';
import { readSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { importPeftAdapter } from '../../src-main/engine/export/peft-import.js';
import { JobQueue } from '../../src-main/engine/jobs/queue.js';
import { importLocalModel } from '../../src-main/engine/models/store.js';
import { createMethod } from '../../src-main/engine/peft/index.js';
import { adaptation } from '../../src-main/engine/train/adapted.js';
import { REPO, fixtureModel } from '../helpers/paths.js';
import { type Diffs, PEFT_FIXTURES, type PeftFixture, SEQUENCES_FASTA, diffToReference, fixtureSequences, peftFixture } from './helpers.js';

const TOL = 1e-4;
const L = 2; // esm2-tiny-random's blocks
let home: string;
const measured: Record<string, Record<string, Diffs>> = { engine: {}, cli: {}, api: {} };

beforeAll(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'plmw-peft-fixtures-'));
  // installed under the name the adapters give as base_model_name_or_path
  await importLocalModel(fixtureModel('tiny'), { home, name: 'esm2-tiny-random', mode: 'copy' });
});
afterAll(() => {
  console.log(`max abs differences to transformers + PEFT:\n${JSON.stringify(measured, null, 1)}`);
  rmSync(home, { recursive: true, force: true });
});

const hasLogits = (name: PeftFixture) => name !== 'lora-all-linear-esmmodel';

function check(name: PeftFixture, d: Diffs) {
  expect(d.hidden).toBeLessThan(TOL);
  if (hasLogits(name)) expect(d.logits).not.toBeNull();
  if (d.logits !== null) expect(d.logits).toBeLessThan(TOL);
}

/** Our infer file's tensors as the comparison wants them. */
const fromInferFile = (file: string) => {
  const f = readSafetensors(file);
  return (id: string, out: 'hidden' | 'logits') => {
    const t = f.tensors.get(`${id}/${out === 'hidden' ? `representations.${L}` : 'logits'}`);
    if (!t) throw new Error(`${file}: no ${id}/${out}`);
    return { shape: t.shape, data: t.toFloat32() };
  };
};

describe('PEFT fixtures reproduce transformers + PEFT within 1e-4', () => {
  it.each(PEFT_FIXTURES)('%s, through the engine', async (name) => {
    const model = await loadModel(fixtureModel('tiny'));
    const a = importPeftAdapter(peftFixture(name), model);
    const { name: m, ...opts } = a.method;
    const method = createMethod(m, model.config, opts, model.source, []);
    const runner = await Esm2Runner.create(model, ['logits', 'representations'], { providers: ['cpu'], threads: 1 }, adaptation(model.config, method, a.head, a.params));
    try {
      const outs = new Map<string, ReturnType<Esm2Runner['unpad']>>();
      for (const s of fixtureSequences()) outs.set(s.id, runner.unpad(await runner.runBatch([s.sequence]), 0, s.sequence.length));
      const d = diffToReference(name, (id, out) => outs.get(id)!.find((t) => t.name === (out === 'hidden' ? `representations.${L}` : 'logits'))!);
      measured.engine[name] = d;
      check(name, d);
      // the adapter does change the outputs: the base model is far from the reference
      const base = await Esm2Runner.create(model, ['representations'], { providers: ['cpu'], threads: 1 });
      const s = fixtureSequences()[2];
      const plain = base.unpad(await base.runBatch([s.sequence]), 0, s.sequence.length).find((t) => t.name === `representations.${L}`)!;
      await base.release();
      const d0 = diffToReference(name, (id, out) => (id === s.id && out === 'hidden' ? plain : outs.get(id)!.find((t) => t.name === (out === 'hidden' ? `representations.${L}` : 'logits'))!));
      expect(d0.hidden).toBeGreaterThan(0.05);
    } finally {
      await runner.release();
    }
  });

  it('through the CLI: plmw runs import-peft, then plmw infer --run', () => {
    const env = { ...process.env, PLMW_HOME: home };
    const plmw = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', ...args], { cwd: REPO, encoding: 'utf8', env });
    for (const name of PEFT_FIXTURES) {
      const imp = plmw('runs', 'import-peft', peftFixture(name), '--name', `cli-${name}`, '--json');
      expect(imp.status, imp.stderr).toBe(0);
      const info = JSON.parse(imp.stdout) as { id: string; task: string; imported: { peftType: string; baseClass: string } };
      expect(info.id).toBe(`peft-cli-${name}`);
      expect(info.task).toBe(hasLogits(name) ? 'token-cls' : 'backbone');
      expect(info.imported.baseClass).toBe(name === 'lora-all-linear-esmmodel' ? 'EsmModel' : 'EsmForTokenClassification');
      const out = path.join(home, `${name}.safetensors`);
      const inf = plmw('infer', '--run', info.id, '--fasta', SEQUENCES_FASTA, '--out', out, '--repr-layers', 'all', '--provider', 'cpu');
      expect(inf.status, inf.stderr).toBe(0);
      const f = readSafetensors(out);
      // the names of plain `plmw infer`: representations 0..L and logits
      expect([...f.tensors.keys()].filter((k) => k.startsWith('len12/')).sort()).toEqual(['len12/logits', ...Array.from({ length: L + 1 }, (_, k) => `len12/representations.${k}`)].sort());
      expect(f.metadata.run).toBe(path.join(home, 'runs', info.id));
      const d = diffToReference(name, fromInferFile(out));
      measured.cli[name] = d;
      check(name, d);
      if (!hasLogits(name)) expect(f.tensors.get('len12/logits')!.shape).toEqual([14, 33]); // no head: the MLM head's logits
    }
    const list = plmw('runs', 'list', '--json');
    expect((JSON.parse(list.stdout) as { id: string; status: string }[]).filter((r) => r.id.startsWith('peft-cli-')).map((r) => r.status)).toEqual(PEFT_FIXTURES.map(() => 'completed'));
  }, 240_000);

  it('through the API: runs.import-peft, then infer with run', async () => {
    const jobs = new JobQueue({ progressIntervalMs: 0 });
    const api = new ApiService({ front: 'cli', jobs, home });
    const run = async <T>(method: string, request: unknown): Promise<T> => {
      const { jobId } = (await api.dispatch(method, request)) as { jobId: string };
      const j = await jobs.wait(jobId);
      if (j.state !== 'done') throw new Error(`${method}: ${j.state}: ${j.error}`);
      return j.result as T;
    };
    try {
      for (const name of PEFT_FIXTURES) {
        const r = await run<ImportPeftResult>('runs.import-peft', { source: peftFixture(name), id: `api-${name}` });
        expect(r.id).toBe(`api-${name}`);
        expect(r.imported.source).toBe(peftFixture(name));
        const out = path.join(home, `api-${name}.safetensors`);
        const inf = await run<InferResult>('infer', { run: r.id, fasta: SEQUENCES_FASTA, out, reprLayers: Array.from({ length: L + 1 }, (_, k) => k), providers: ['cpu'] });
        expect(inf.sequences).toBe(5);
        const d = diffToReference(name, fromInferFile(out));
        measured.api[name] = d;
        check(name, d);
        // the same bytes as the CLI wrote for the same run content (only the run folder differs)
        const cli = readSafetensors(path.join(home, `${name}.safetensors`));
        const mine = readSafetensors(out);
        for (const [k, t] of cli.tensors) expect(Buffer.from(mine.tensors.get(k)!.toFloat32().buffer).equals(Buffer.from(t.toFloat32().buffer)), k).toBe(true);
      }
      const listed = (await api.dispatch('runs.list', {})) as { runs: { id: string; task?: string }[] };
      expect(listed.runs.filter((x) => x.id.startsWith('api-')).length).toBe(PEFT_FIXTURES.length);
      expect(readFileSync(path.join(home, 'runs', 'api-prompt-tokencls', 'adapter', 'adapter_config.json'), 'utf8')).toBe(readFileSync(path.join(peftFixture('prompt-tokencls'), 'adapter_config.json'), 'utf8'));
    } finally {
      await jobs.close();
    }
  }, 240_000);
});
