import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { jsonText, writeFileAtomic } from '../../engine/atomic.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from '../command.js';
import { UserError } from '../command.js';
import { benchInference, benchTraining } from '../../engine/bench.js';
import { parseProviders, resolveModelDir } from '../options.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_MODEL = path.resolve(here, '../../../../shared/fixtures/esm2/esm2-t6-shape-random');

export const benchCommand: Command = {
  name: 'bench',
  summary: 'measure inference and training throughput against the PyTorch reference',
  usage: `usage: plmw bench [--model DIR] [--only inference|training] [--threads N] [--provider LIST] [--json FILE]

Default model: the esm2_t6_8M-shaped fixture (../shared/fixtures/esm2/esm2-t6-shape-random).
Inference: batches 64 x 70, 8 x 256, 1 x 1000 (residues/s). Training: LoRA r=8 on q,k,v,o + a
linear head, AdamW, batch 16 x 70, all blocks and the top 2 blocks with reuse of frozen outputs
(sequences/s, epoch after the first). Each figure is printed with its ratio to PyTorch 1.13.`,
  async run(argv) {
    const { values: a } = parseArgs({ args: argv, strict: true, options: { model: { type: 'string' }, only: { type: 'string' }, threads: { type: 'string' }, provider: { type: 'string' }, json: { type: 'string' } } });
    const model = a.model ? resolveModelDir(a.model) : DEFAULT_MODEL;
    if (!existsSync(model)) throw new UserError(`model folder ${model} not found; pass --model`);
    const threads = a.threads ? Number(a.threads) : undefined;
    const opts = { threads, providers: parseProviders(a.provider), log: (s: string) => console.log(s) };
    console.log(`plmw bench: ${model}`);
    const results = [];
    if (a.only !== 'training') results.push(...(await benchInference(model, opts)));
    if (a.only !== 'inference') results.push(...(await benchTraining(model, opts)));
    if (a.json) writeFileAtomic(a.json, jsonText(results));
    return 0;
  },
};
