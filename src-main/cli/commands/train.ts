import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UserError } from '../command.js';
import { formatNote } from '../../engine/data/errors.js';
import { readDataFile } from '../../engine/data/detect.js';
import type { SsRecord } from '../../engine/data/labels-ss.js';
import { loadModel } from '../../engine/esm2/model.js';
import { METHOD_NAMES } from '../../engine/peft/index.js';
import { parameterCount } from '../../engine/peft/method.js';
import { type SsLabels, ssLabelled, ssTask } from '../../engine/tasks/secondary-structure/task.js';
import { type LabelledSequence, TRAINER_DEFAULTS, type TrainerConfig, prepare, train } from '../../engine/train/trainer.js';
import { parseProviders, progressLine, resolveModelDir } from '../options.js';

const TARGET_ALIASES: Record<string, string> = { q: 'query', k: 'key', v: 'value', o: 'attn_out', query: 'query', key: 'key', value: 'value', attn_out: 'attn_out', ffn_in: 'ffn_in', ffn_out: 'ffn_out' };

const usage = `usage: plmw train --model DIR --task ss --train FILE --val FILE --method NAME [options] --epochs N --out RUN_DIR

Fine-tunes ESM-2 with a parameter-efficient method and writes a run directory (run.json,
metrics.jsonl, checkpoints of the trainable tensors). Running the same command again on an
interrupted run resumes it from its last checkpoint.

task and data:
  --task ss            secondary structure (per-residue head)
  --labels ss8|ss3     label set for --task ss (default ss8; FLIP files have ss3 only)
  --train, --val FILE  LIFT_SS text, NetSurfP CSV or FLIP files (format detected)
method (${METHOD_NAMES.join(', ')}):
  --top-k K            only the top K blocks get the method ("lightweight" tuning)
  --r N --alpha N --dropout P --targets q,k,v,o,ffn_in,ffn_out     lora, dora
  --ia3-targets key,value,ffn                                      ia3
  --variant houlsby|pfeiffer|parallel --size N --activation relu|gelu|tanh   adapter
  --tokens N [--deep]                                              prompt, prefix
optimisation:
  --epochs N --batch N (16) --accumulate N (1) --lr X (1e-3) --optimizer adamw|adamax
  --weight-decay X (0.01) --clip X (1.0, 0 = off) --warmup N (0) --schedule constant|linear|cosine
  --patience N (5, 0 = no early stopping) --seed N (1) --no-reuse --checkpoint-every N --log-every N
runtime:
  --provider LIST --threads N --name TEXT`;

export const trainCommand: Command = {
  name: 'train',
  summary: 'fine-tune ESM-2 with a PEFT method on a labelled data set',
  usage,
  async run(argv) {
    const { values: a } = parseArgs({
      args: argv,
      strict: true,
      options: {
        model: { type: 'string' }, task: { type: 'string' }, labels: { type: 'string' }, train: { type: 'string' }, val: { type: 'string' },
        method: { type: 'string' }, 'top-k': { type: 'string' }, r: { type: 'string' }, alpha: { type: 'string' }, dropout: { type: 'string' },
        targets: { type: 'string' }, 'ia3-targets': { type: 'string' }, variant: { type: 'string' }, size: { type: 'string' }, activation: { type: 'string' },
        tokens: { type: 'string' }, deep: { type: 'boolean' }, epochs: { type: 'string' }, batch: { type: 'string' }, accumulate: { type: 'string' },
        lr: { type: 'string' }, optimizer: { type: 'string' }, 'weight-decay': { type: 'string' }, clip: { type: 'string' }, warmup: { type: 'string' },
        schedule: { type: 'string' }, patience: { type: 'string' }, seed: { type: 'string' }, 'no-reuse': { type: 'boolean' },
        'checkpoint-every': { type: 'string' }, 'log-every': { type: 'string' }, provider: { type: 'string' }, threads: { type: 'string' },
        name: { type: 'string' }, out: { type: 'string' },
      },
    });
    for (const k of ['model', 'task', 'train', 'val', 'method', 'epochs', 'out'] as const) if (!a[k]) throw new UserError(`--${k} is required\n\n${usage}`, 2);
    const num = (k: keyof typeof a, int = false): number | undefined => {
      const s = a[k] as string | undefined;
      if (s === undefined) return undefined;
      const n = Number(s);
      if (!Number.isFinite(n) || (int && !Number.isInteger(n)) || n < 0) throw new UserError(`--${k}: expected a ${int ? 'whole ' : ''}number >= 0, got '${s}'`, 2);
      return n;
    };
    if (a.task !== 'ss') throw new UserError(`--task '${a.task}': only 'ss' is available in this version (the signal-peptide head is not built yet)`, 2);
    const labels = (a.labels ?? 'ss8') as SsLabels;
    if (labels !== 'ss8' && labels !== 'ss3') throw new UserError(`--labels must be ss8 or ss3, got '${labels}'`, 2);

    const methodOptions: Record<string, unknown> = {};
    const set = (k: string, v: unknown) => v !== undefined && (methodOptions[k] = v);
    set('topK', num('top-k', true));
    set('r', num('r', true));
    set('alpha', num('alpha'));
    set('dropout', num('dropout'));
    set('size', num('size', true));
    set('tokens', num('tokens', true));
    set('variant', a.variant);
    set('activation', a.activation);
    set('deep', a.deep);
    if (a.targets) {
      methodOptions.targets = a.targets.split(',').map((t) => {
        const full = TARGET_ALIASES[t.trim()];
        if (!full) throw new UserError(`--targets: unknown module '${t}' (q, k, v, o, ffn_in, ffn_out)`, 2);
        return full;
      });
    }
    if (a['ia3-targets']) methodOptions.targets = a['ia3-targets'].split(',').map((t) => t.trim());

    const cfg: TrainerConfig = {
      ...TRAINER_DEFAULTS,
      model: resolveModelDir(a.model!), task: `ss-${labels}`, method: a.method!, methodOptions,
      epochs: num('epochs', true)!, batchSize: num('batch', true) ?? TRAINER_DEFAULTS.batchSize, accumulate: num('accumulate', true) ?? 1,
      lr: num('lr') ?? TRAINER_DEFAULTS.lr, optimizer: (a.optimizer ?? 'adamw') as 'adamw' | 'adamax', weightDecay: num('weight-decay') ?? TRAINER_DEFAULTS.weightDecay,
      maxGradNorm: num('clip') ?? TRAINER_DEFAULTS.maxGradNorm, warmupSteps: num('warmup', true) ?? 0,
      schedule: (a.schedule ?? 'linear') as TrainerConfig['schedule'], patience: num('patience', true) ?? TRAINER_DEFAULTS.patience,
      seed: num('seed', true) ?? 1, reuse: !a['no-reuse'], checkpointEvery: num('checkpoint-every', true) ?? 0, logEvery: num('log-every', true) ?? 0,
      threads: num('threads', true), providers: parseProviders(a.provider), name: a.name,
    };
    if (!['adamw', 'adamax'].includes(cfg.optimizer)) throw new UserError(`--optimizer must be adamw or adamax`, 2);
    if (!['constant', 'linear', 'cosine'].includes(cfg.schedule)) throw new UserError(`--schedule must be constant, linear or cosine`, 2);
    if (cfg.batchSize < 1 || cfg.accumulate < 1 || cfg.epochs < 1) throw new UserError('--batch, --accumulate and --epochs must be at least 1', 2);

    const load = async (file: string): Promise<LabelledSequence[]> => {
      const d = await readDataFile(file);
      if (d.format === 'signalp' || d.format === 'fasta') throw new UserError(`${file}: ${d.format} data has no secondary-structure labels`);
      for (const n of d.result.notes) console.error(formatNote(n));
      const rejected = d.result.notes.filter((n) => n.kind === 'rejected').length;
      if (rejected) throw new UserError(`${file}: ${rejected} record(s) rejected; fix them first`);
      return ssLabelled(d.result.records as SsRecord[], labels);
    };
    const data = { train: await load(a.train!), val: await load(a.val!) };
    const task = ssTask(labels);
    const model = loadModel(cfg.model);
    const prep = prepare(cfg, task, model);
    console.error(`plmw train: ${prep.method.name} ${JSON.stringify(prep.method.options)}: ${parameterCount(prep.params).toLocaleString('en-US')} trainable parameters ` +
      `(method ${parameterCount(prep.method.params).toLocaleString('en-US')}, head ${parameterCount(prep.head.params).toLocaleString('en-US')}); ` +
      `${data.train.length} training and ${data.val.length} validation sequences`);
    const ctrl = new AbortController();
    const onSignal = () => ctrl.abort();
    process.once('SIGINT', onSignal);
    try {
      const rec = await train(a.out!, cfg, task, data, {
        signal: ctrl.signal,
        onProgress: (p) => progressLine(`${p.phase} epoch ${p.epoch + 1}/${cfg.epochs} ${p.done}/${p.total}${p.loss !== undefined ? ` loss ${p.loss.toFixed(4)}` : ''}${p.sequencesPerSecond ? ` ${p.sequencesPerSecond.toFixed(1)} seq/s` : ''}`),
        onMetrics: (row) => row.split === 'val' && console.error(`\nepoch ${Number(row.epoch) + 1}: ${Object.entries(row).filter(([k]) => !['step', 'epoch', 'split'].includes(k)).map(([k, v]) => `${k} ${typeof v === 'number' ? v.toFixed(4) : v}`).join(', ')}`),
      });
      progressLine('');
      console.error(`plmw train: ${rec.status}; best ${rec.best?.metric} ${rec.best?.value.toFixed(4)} at epoch ${(rec.best?.epoch ?? 0) + 1}; run in ${a.out}`);
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
};
