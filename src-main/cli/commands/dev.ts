import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UserError } from '../command.js';
import { ESM2_SHAPES, type Esm2ShapeName, type RandomDtype, writeRandomCheckpoint } from '../../engine/esm2/random-checkpoint.js';
import { numberOption, progressLine } from '../options.js';

const usage = `usage: plmw dev random-model --shape t6|t12|t30|t33|t36 --out DIR [--seed N] [--dtype f32|f16|bf16]

Writes a Hugging Face-format ESM-2 checkpoint (config.json, model.safetensors, vocab.txt) of a
published shape with seeded random weights, for benchmarks at real sizes without downloads:
t6 8M, t12 35M, t30 150M, t33 650M (2.6 GB in float32), t36 3B (11.4 GB). The same seed gives
the same bytes. The weights are generated and written in pieces; the file appears only when
complete.`;

const DTYPES: Record<string, RandomDtype> = { f32: 'F32', f16: 'F16', bf16: 'BF16' };

export const devCommand: Command = {
  name: 'dev',
  summary: 'developer tools: random-weight checkpoints of real ESM-2 shapes',
  usage,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub !== 'random-model') throw new UserError(usage, 2);
    const { values: a } = parseArgs({ args: rest, strict: true, options: { shape: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, dtype: { type: 'string' } } });
    if (!a.shape || !(a.shape in ESM2_SHAPES)) throw new UserError(`--shape: expected one of ${Object.keys(ESM2_SHAPES).join(', ')}${a.shape ? `, got '${a.shape}'` : ''}`, 2);
    if (!a.out) throw new UserError('--out DIR is required', 2);
    const dtype = DTYPES[(a.dtype ?? 'f32').toLowerCase()];
    if (!dtype) throw new UserError(`--dtype: expected f32, f16 or bf16, got '${a.dtype}'`, 2);
    const shape = ESM2_SHAPES[a.shape as Esm2ShapeName];
    const ctrl = new AbortController();
    const stop = () => ctrl.abort();
    process.once('SIGINT', stop);
    try {
      const n = await writeRandomCheckpoint(a.out, shape, {
        seed: numberOption('seed', a.seed, { whole: true }), dtype, signal: ctrl.signal,
        onProgress: (done, total) => progressLine(`writing model.safetensors: ${((100 * done) / total).toFixed(0)} % of ${(total / 1e9).toFixed(2)} GB`),
      });
      progressLine('');
      console.log(`wrote a random-weight ${a.shape} checkpoint (${(n / 1e6).toFixed(0)}M parameters, ${dtype}, shape of ${shape.hub}) to ${a.out}`);
      return 0;
    } catch (e) {
      progressLine('');
      if (e instanceof DOMException && e.name === 'AbortError') throw new UserError('cancelled; nothing was written');
      throw e;
    } finally {
      process.off('SIGINT', stop);
    }
  },
};
