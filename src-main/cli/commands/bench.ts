import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { jsonText, writeFileAtomic } from '../../engine/atomic.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from '../command.js';
import { UserError } from '../command.js';
import { defaultCases, formatReport, parseCases, runBench } from '../../engine/bench.js';
import { numberOption, parseProviders, resolveModelDir } from '../options.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_MODEL = path.resolve(here, '../../../../shared/fixtures/esm2/esm2-t6-shape-random');

export const benchCommand: Command = {
  name: 'bench',
  summary: 'measure throughput, load time and peak RSS, optionally beside fair-esm in PyTorch',
  usage: `usage: plmw bench [--model DIR] [--peer] [--cases LIST] [--rounds N] [--repeats N] [--threads N] [--provider LIST] [--json FILE]

Each case runs in a fresh process; its throughput (median of --repeats timed runs after a first
one), the model's load time and the first batch, and the process's peak RSS are reported as
medians (min-max) over --rounds rounds (default 3).

--peer     also run fair-esm (facebookresearch/esm) in PyTorch on the same checkpoint, interleaved
           with plmw (A B A B), in its strong settings: torch.inference_mode(), the same threads,
           OPENBLAS_CORETYPE set to the kernel OpenBLAS detects for this CPU, OMP_WAIT_POLICY=PASSIVE,
           frozen lower blocks computed once for top-k training. Needs python3 with torch and
           fair-esm: FAIR_ESM=<checkout> or an installed esm package (PLMW_PYTHON picks the python).
           Ratios are printed only against the peer measured in the same run.
--cases    comma-separated infer:BxL and train:BxL[:topK], e.g. infer:1x1000,train:4x70:top4.
           Training is LoRA r=8 on q,k,v,o (dropout 0.1) + a linear SS8 head, AdamW; top-k reuses
           the frozen lower blocks' outputs. Default: infer:64x70 (models up to d=320),
           infer:8x256, infer:1x1000, train:16x70, train:16x70:top2.
Default model: the esm2_t6_8M-shaped fixture (../shared/fixtures/esm2/esm2-t6-shape-random);
\`plmw dev random-model --shape t33 --out DIR\` writes a random-weight checkpoint of a real shape.`,
  async run(argv) {
    const { values: a } = parseArgs({
      args: argv, strict: true,
      options: {
        model: { type: 'string' }, peer: { type: 'boolean' }, cases: { type: 'string' }, rounds: { type: 'string' }, repeats: { type: 'string' },
        threads: { type: 'string' }, provider: { type: 'string' }, json: { type: 'string' },
      },
    });
    const model = a.model ? resolveModelDir(a.model) : DEFAULT_MODEL;
    if (!existsSync(model)) throw new UserError(`model folder ${model} not found; pass --model`);
    let cases;
    try {
      cases = a.cases ? parseCases(a.cases) : defaultCases(model);
    } catch (e) {
      throw new UserError(`--cases: ${(e as Error).message}`, 2);
    }
    console.log(`plmw bench: ${model}`);
    const report = await runBench({
      model, cases, peer: a.peer, rounds: numberOption('rounds', a.rounds, { whole: true, min: 1 }), repeats: numberOption('repeats', a.repeats, { whole: true, min: 1 }),
      threads: numberOption('threads', a.threads, { whole: true, min: 1 }), providers: parseProviders(a.provider), log: (s) => console.log(s),
    });
    console.log(formatReport(report));
    if (a.json) writeFileAtomic(a.json, jsonText(report));
    return 0;
  },
};
