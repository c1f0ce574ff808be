// The trainer on the tiny fixture model: the loss goes down, the same seed gives the same
// metrics.jsonl, a SIGKILLed run resumes to the same end, reuse of frozen outputs changes no
// number, and trainable parameter counts are as each method defines them.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isTemporaryName } from '../../src-main/engine/atomic.js';
import { loadModel } from '../../src-main/engine/esm2/model.js';
import { ssTask } from '../../src-main/engine/tasks/secondary-structure/task.js';
import { listRuns } from '../../src-main/engine/runs/store.js';
import { RunDir } from '../../src-main/engine/train/run-dir.js';
import { type LabelledSequence, prepare, train } from '../../src-main/engine/train/trainer.js';
import { REPO, fixtureModel } from '../helpers/paths.js';
import { ssSubset } from '../helpers/ss-data.js';
import { tinyLora, withoutTiming, writeSsFile } from '../helpers/train-files.js';

const MODEL = fixtureModel('tiny');
const task = ssTask('ss8');
const tmp = (p: string) => mkdtempSync(path.join(tmpdir(), `plmw-${p}-`));

let data: { train: LabelledSequence[]; val: LabelledSequence[] };
beforeAll(async () => {
  data = { train: await ssSubset('CB433.txt', 48), val: await ssSubset('CASP12.txt', 12, 200) };
});

const config = tinyLora;

describe('trainer', () => {
  it('lowers the loss, writes run.json, metrics.jsonl and checkpoints of trainable tensors only', async () => {
    const dir = tmp('run');
    const rec = await train(dir, config({ logEvery: 2 }), task, data);
    expect(rec.status).toBe('completed');
    const rows = new RunDir(dir).readMetrics();
    const train1 = rows.filter((r) => r.split === 'train' && r.epoch === 0).at(-1)!;
    const trainN = rows.filter((r) => r.split === 'train').at(-1)!;
    expect(Number(trainN.loss)).toBeLessThan(Number(train1.loss));
    for (const r of rows) for (const k of ['step', 'epoch', 'split', 'loss', 'elapsed_s', 'sequences_per_s']) expect(r, k).toHaveProperty(k);
    expect(rows.filter((r) => r.split === 'val')).toHaveLength(3);
    expect(rows.find((r) => r.split === 'val')).toHaveProperty('q8');
    const json = JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8'));
    expect(json).toMatchObject({ status: 'completed', seed: 1, method: { name: 'lora', r: 4 }, params: { trainable: 2 * 2 * (4 * 64 + 64 * 4) + 8 * 64 + 8 } });
    expect(json.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(json.versions['onnxruntime-node']).toBe('1.30.0');
    expect(json.provider).toBe('cpu');
    const ckpt = readFileSync(path.join(dir, 'checkpoints', 'best.safetensors'));
    expect(ckpt.byteLength).toBeLessThan(20_000); // trainable tensors only, not the 430 kB backbone
  });

  it('gives byte-identical metrics.jsonl (timing aside) for the same seed, and different ones for another seed', async () => {
    const [a, b, c] = [tmp('seed'), tmp('seed'), tmp('seed')];
    await train(a, config(), task, data);
    await train(b, config(), task, data);
    await train(c, config({ seed: 2 }), task, data);
    expect(withoutTiming(path.join(a, 'metrics.jsonl'))).toEqual(withoutTiming(path.join(b, 'metrics.jsonl')));
    expect(withoutTiming(path.join(a, 'metrics.jsonl'))).not.toEqual(withoutTiming(path.join(c, 'metrics.jsonl')));
  });

  it('gives the same numbers with and without reuse of frozen-block outputs (top-k)', async () => {
    const over = { methodOptions: { r: 4, alpha: 8, dropout: 0, targets: ['query', 'value'], topK: 1 } };
    const [a, b] = [tmp('reuse'), tmp('noreuse')];
    await train(a, config({ ...over, reuse: true }), task, data);
    await train(b, config({ ...over, reuse: false }), task, data);
    const ra = new RunDir(a).readMetrics();
    const rb = new RunDir(b).readMetrics();
    expect(ra.length).toBe(rb.length);
    ra.forEach((r, i) => expect(Number(r.loss)).toBeCloseTo(Number(rb[i].loss), 4));
  });

  it('reports the trainable-parameter count of every method before training', async () => {
    const model = await loadModel(MODEL);
    const count = (method: string, methodOptions: Record<string, unknown>) =>
      prepare(config({ method, methodOptions }), task, model).method.params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
    // tiny: d 64, 2 layers, ffn 256, 4 heads
    expect(count('lora', { r: 8, targets: ['query', 'key', 'value', 'attn_out'] })).toBe(2 * 4 * (8 * 64 + 64 * 8));
    expect(count('ia3', {})).toBe(2 * (64 + 64 + 256));
    expect(count('adapter', { variant: 'houlsby', size: 16 })).toBe(2 * 2 * (16 * 64 + 16 + 64 * 16 + 64));
    expect(count('prompt', { tokens: 10 })).toBe(10 * 64);
    expect(count('prefix', { tokens: 5, topK: 1 })).toBe(2 * 5 * 64);
    expect(count('probe', {})).toBe(0);
    expect(count('dora', { r: 2, targets: ['query'] })).toBe(2 * (2 * 64 + 64 * 2 + 64));
  });
});

const KILL_TRIALS = Number(process.env.PLMW_KILL_TRIALS ?? 1);

describe('crash safety', () => {
  it('resumes a SIGKILLed run from its last checkpoint and ends with the same metrics', async () => {
    const dir = tmp('kill');
    const files = { train: path.join(dir, 'train.txt'), val: path.join(dir, 'val.txt') };
    writeSsFile(files.train, data.train);
    writeSsFile(files.val, data.val);
    const args = (out: string) => ['--import', 'tsx', 'src-main/cli/main.ts', 'train', '--model', MODEL, '--task', 'ss', '--train', files.train, '--val', files.val,
      '--method', 'lora', '--r', '4', '--epochs', '4', '--batch', '4', '--lr', '0.005', '--checkpoint-every', '2', '--log-every', '1', '--threads', '1', '--provider', 'cpu', '--out', out];
    const run = (out: string, killAfterLines?: number) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, args(out), { cwd: REPO, stdio: 'ignore' });
        let timer: NodeJS.Timeout | undefined;
        if (killAfterLines !== undefined) {
          timer = setInterval(() => {
            const f = path.join(out, 'metrics.jsonl');
            if (existsSync(f) && readFileSync(f, 'utf8').split('\n').length > killAfterLines) child.kill('SIGKILL');
          }, 5);
        }
        child.on('exit', (code) => {
          clearInterval(timer);
          resolve(code);
        });
      });
    const straight = path.join(dir, 'straight');
    expect(await run(straight)).toBe(0);
    // One trial in the suite; PLMW_KILL_TRIALS=N runs N (the README's figures).
    for (let t = 0; t < KILL_TRIALS; t++) {
      const killed = path.join(dir, `killed-${t}`);
      const killAt = 8 + Math.floor(Math.random() * 20);
      expect(await run(killed, killAt)).toBeNull(); // died by signal
      const mid = JSON.parse(readFileSync(path.join(killed, 'run.json'), 'utf8'));
      expect(mid.status).toBe('running'); // what a kill leaves behind
      new RunDir(killed).readMetrics(); // still readable
      // the run store (what the app lists after a restart) shows it as interrupted
      const listed = (await listRuns(dir)).find((r) => r.id === `killed-${t}`);
      expect(listed?.status).toBe('interrupted');
      expect(await run(killed)).toBe(0);
      expect((await listRuns(dir)).find((r) => r.id === `killed-${t}`)?.status).toBe('completed');
      expect(withoutTiming(path.join(killed, 'metrics.jsonl')), `kill after ${killAt} lines`).toEqual(withoutTiming(path.join(straight, 'metrics.jsonl')));
      expect(JSON.parse(readFileSync(path.join(killed, 'run.json'), 'utf8')).final).toEqual(JSON.parse(readFileSync(path.join(straight, 'run.json'), 'utf8')).final);
      // whatever the kill left half written, the resume swept away
      for (const d of [killed, path.join(killed, 'checkpoints')]) expect(readdirSync(d).filter(isTemporaryName)).toEqual([]);
    }
  }, Math.max(120_000, 60_000 * KILL_TRIALS));
});
