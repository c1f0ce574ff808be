import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UserError } from '../command.js';
import { InputError } from '../../engine/data/errors.js';
import { type CvScheme, type MethodSpec, ProtocolError, parseMethodSpec, runProtocol } from '../../engine/protocol/protocol.js';
import { EvaluationInputError } from '../../engine/tasks/evaluate.js';
import type { TrainerConfig } from '../../engine/train/trainer.js';
import { parseProviders, resolveModelDir, numberOption } from '../options.js';

const usage = `usage: plmw protocol --task sp --model DIR --data FILE --method SPEC [--method SPEC ...] --out DIR [options]
       plmw protocol --task ss --model DIR --train FILE --val FILE --test FILE --method SPEC [...] --out DIR [options]

Trains and scores one model with each PEFT method under the same split and writes
OUT/comparison.md, OUT/comparison.csv (metrics, trainable parameters, wall time, peak memory per
method) and OUT/protocol.json (every fold and metric); runs go to OUT/runs/<method>/<fold>.
A completed run found there is scored again instead of retrained.

split:
  --task sp   cross-validation over the partitions present in the SignalP file (--data):
              --cv simple   one fold per partition t: train on the others, select the epoch on
                            t and report t (optimistic; partitions 0,1: 0->1 and 1->0)
              --cv nested   per ordered pair (test t, validation v): train on the rest, select
                            on v, report t (needs >= 3 partitions; PEFT-SP/SignalP 6.0 style)
              --cv auto     nested with >= 3 partitions, else simple (default)
              --no-kingdom  no kingdom input in the head
  --task ss   --train, --val, --test files; --labels ss8|ss3 (ss8); --head linear|cnn (linear)
methods (repeat --method):
  NAME[:KEY=VALUE,...]  e.g. lora:r=8,alpha=8,targets=q+k+v+o   adapter:variant=houlsby,size=16
                        ia3   prompt:tokens=10   probe   full   (top-k=K restricts to the top K
                        blocks; label=TEXT names the row)
training (shared by every run):
  --epochs N (3) --batch N (16) --lr X (1e-3) --optimizer adamw|adamax --weight-decay X
  --clip X --patience N --seed N --threads N --provider LIST`;

export const protocolCommand: Command = {
  name: 'protocol',
  summary: 'compare PEFT methods under one split (cross-validation or train/val/test)',
  usage,
  async run(argv) {
    const { values: a } = parseArgs({
      args: argv,
      strict: true,
      options: {
        task: { type: 'string' }, model: { type: 'string' }, data: { type: 'string' }, train: { type: 'string' }, val: { type: 'string' }, test: { type: 'string' },
        method: { type: 'string', multiple: true }, out: { type: 'string' }, cv: { type: 'string' }, 'no-kingdom': { type: 'boolean' }, labels: { type: 'string' },
        head: { type: 'string' }, epochs: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' }, optimizer: { type: 'string' },
        'weight-decay': { type: 'string' }, clip: { type: 'string' }, patience: { type: 'string' }, seed: { type: 'string' }, threads: { type: 'string' },
        provider: { type: 'string' },
      },
    });
    if (!a.task || !a.model || !a.out || !a.method?.length) throw new UserError(`--task, --model, --method and --out are required\n\n${usage}`, 2);
    if (a.task !== 'sp' && a.task !== 'ss') throw new UserError(`--task must be sp or ss, got '${a.task}'`, 2);
    if (a.task === 'sp' && !a.data) throw new UserError('--task sp needs --data FILE (a SignalP 3-line file)', 2);
    if (a.task === 'ss' && (!a.train || !a.val || !a.test)) throw new UserError('--task ss needs --train, --val and --test', 2);
    const cv = (a.cv ?? 'auto') as CvScheme;
    if (!['auto', 'simple', 'nested'].includes(cv)) throw new UserError(`--cv must be auto, simple or nested, got '${a.cv}'`, 2);
    if (a.labels && a.labels !== 'ss8' && a.labels !== 'ss3') throw new UserError(`--labels must be ss8 or ss3`, 2);
    if (a.head && a.head !== 'linear' && a.head !== 'cnn') throw new UserError(`--head must be linear or cnn`, 2);
    if (a.optimizer && a.optimizer !== 'adamw' && a.optimizer !== 'adamax') throw new UserError('--optimizer must be adamw or adamax', 2);
    const num = (k: keyof typeof a, whole = false) => numberOption(k, a[k] as string | undefined, { whole });
    let methods: MethodSpec[];
    try {
      methods = a.method.map(parseMethodSpec);
    } catch (e) {
      throw new UserError((e as Error).message, 2);
    }
    const trainer: Partial<TrainerConfig> = {};
    const set = <K extends keyof TrainerConfig>(k: K, v: TrainerConfig[K] | undefined) => v !== undefined && (trainer[k] = v);
    set('epochs', num('epochs', true));
    set('batchSize', num('batch', true));
    set('lr', num('lr'));
    set('optimizer', a.optimizer as TrainerConfig['optimizer'] | undefined);
    set('weightDecay', num('weight-decay'));
    set('maxGradNorm', num('clip'));
    set('patience', num('patience', true));
    set('seed', num('seed', true));
    set('threads', num('threads', true));
    set('providers', parseProviders(a.provider));
    try {
      const r = await runProtocol({
        task: a.task, model: resolveModelDir(a.model), methods, out: a.out, trainer, data: a.data, cv, kingdom: !a['no-kingdom'],
        train: a.train, val: a.val, test: a.test, labels: a.labels as 'ss8' | 'ss3' | undefined, head: a.head as 'linear' | 'cnn' | undefined,
        onLog: (l) => console.error(`plmw protocol: ${l}`),
      });
      console.error(`plmw protocol: ${r.scheme}; wrote ${r.files.markdown}, ${r.files.csv}, ${r.files.json}`);
      return 0;
    } catch (e) {
      if (e instanceof InputError || e instanceof ProtocolError || e instanceof EvaluationInputError) throw new UserError(e.message);
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError((e as Error).message);
      throw e;
    }
  },
};
