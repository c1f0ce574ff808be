import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UserError } from '../command.js';
import { type Note, formatNote } from '../../engine/data/errors.js';
import { readDataFile } from '../../engine/data/detect.js';
import { loadModel } from '../../engine/esm2/model.js';
import { METHOD_NAMES } from '../../engine/peft/index.js';
import { parameterCount } from '../../engine/peft/method.js';
import { LabelledDataError, labelledData } from '../../engine/tasks/labelled-data.js';
import { type SsHeadKind, type SsLabels, ssTask } from '../../engine/tasks/secondary-structure/task.js';
import { SP_MAX_LENGTH } from '../../engine/tasks/signal-peptide/labels.js';
import { spTask } from '../../engine/tasks/signal-peptide/task.js';
import type { TaskSpec } from '../../engine/train/task.js';
import { type LabelledSequence, TRAINER_DEFAULTS, type TrainerConfig, prepare, train } from '../../engine/train/trainer.js';
import { parseProviders, progressLine, resolveModelDir, numberOption } from '../options.js';
import { gracefulStop } from '../signals.js';

const TARGET_ALIASES: Record<string, string> = { q: 'query', k: 'key', v: 'value', o: 'attn_out', query: 'query', key: 'key', value: 'value', attn_out: 'attn_out', ffn_in: 'ffn_in', ffn_out: 'ffn_out' };

const usage = `usage: plmw train --model DIR --task ss|sp --train FILE --val FILE --method NAME [options] --epochs N --out RUN_DIR

Fine-tunes ESM-2 with a parameter-efficient method and writes a run directory (run.json,
metrics.jsonl, checkpoints of the trainable tensors). Running the same command again on an
interrupted run resumes it from its last checkpoint.

task and data:
  --task ss            secondary structure (per-residue head)
  --labels ss8|ss3     label set for --task ss (default ss8; FLIP files have ss3 only)
  --head linear|cnn    head for --task ss (default linear; cnn = Conv1d over residues, then Linear)
  --cnn-kernel K --cnn-channels N   CNN head shape (default 7 and 64)
  --task sp            signal peptides: Linear to 37 emissions + SignalP 6.0's constrained CRF
                       over the first ${SP_MAX_LENGTH} residues (longer sequences are cut, noted)
  --no-kingdom         for --task sp: no kingdom input (default: a learned kingdom bias)
  --train, --val FILE  ss: LIFT_SS text, NetSurfP CSV or FLIP files (format detected);
                       sp: SignalP 6.0 3-line files (>ACC|KINGDOM|TYPE|PARTITION)
  --train-partitions LIST, --val-partitions LIST   sp: keep only these partitions (e.g. 0,1)
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
a new head over another run's adapter:
  --backbone RUN_DIR   train only a new head (method probe) over that run's fine-tuned backbone, kept
                       frozen (e.g. an adapter imported with plmw runs import-peft); --model defaults
                       to the run's model
runtime:
  --provider LIST --threads N --name TEXT`;

/** Every note on stderr (nothing is skipped silently). */
function printNotes(notes: readonly Note[]): void {
  for (const n of notes) console.error(formatNote(n));
}

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
        name: { type: 'string' }, out: { type: 'string' }, head: { type: 'string' }, 'cnn-kernel': { type: 'string' }, 'cnn-channels': { type: 'string' },
        'no-kingdom': { type: 'boolean' }, 'train-partitions': { type: 'string' }, 'val-partitions': { type: 'string' }, backbone: { type: 'string' },
      },
    });
    if (a.backbone !== undefined) {
      if (a.method !== undefined && a.method !== 'probe') throw new UserError(`--backbone trains a new head over a frozen adapter: the method is probe, not '${a.method}'`, 2);
      a.method = 'probe';
      if (!existsSync(path.join(a.backbone, 'run.json'))) throw new UserError(`--backbone: ${a.backbone} is not a run folder (no run.json)`, 2);
      a.model ??= (JSON.parse(readFileSync(path.join(a.backbone, 'run.json'), 'utf8')) as { model: { dir: string } }).model.dir;
    }
    for (const k of ['model', 'task', 'train', 'val', 'method', 'epochs', 'out'] as const) if (!a[k]) throw new UserError(`--${k} is required\n\n${usage}`, 2);
    const num = (k: keyof typeof a, whole = false) => numberOption(k, a[k] as string | undefined, { whole });
    if (a.task !== 'ss' && a.task !== 'sp') throw new UserError(`--task must be ss (secondary structure) or sp (signal peptides), got '${a.task}'`, 2);
    const labels = (a.labels ?? 'ss8') as SsLabels;
    if (labels !== 'ss8' && labels !== 'ss3') throw new UserError(`--labels must be ss8 or ss3, got '${labels}'`, 2);
    const headKind = (a.head ?? 'linear') as SsHeadKind;
    if (headKind !== 'linear' && headKind !== 'cnn') throw new UserError(`--head must be linear or cnn, got '${a.head}'`, 2);
    if (a.task === 'sp' && (a.head || a.labels || a['cnn-kernel'] || a['cnn-channels'])) throw new UserError('--head, --cnn-*, --labels are options of --task ss', 2);
    if (a.task === 'ss' && (a['no-kingdom'] || a['train-partitions'] || a['val-partitions'])) throw new UserError('--no-kingdom and --*-partitions are options of --task sp', 2);
    const cnnKernel = num('cnn-kernel', true);
    if (cnnKernel !== undefined && cnnKernel % 2 === 0) throw new UserError(`--cnn-kernel must be odd, got ${cnnKernel}`, 2);
    const task: TaskSpec = a.task === 'sp'
      ? spTask({ kingdom: !a['no-kingdom'] })
      : ssTask(labels, { head: headKind, kernel: cnnKernel, channels: num('cnn-channels', true) });
    const partitions = (k: 'train-partitions' | 'val-partitions'): Set<number> | null => {
      const v = a[k];
      if (v === undefined) return null;
      const list = v.split(',').map((x) => x.trim());
      if (list.some((x) => !/^\d+$/.test(x))) throw new UserError(`--${k}: expected a comma-separated list of partition numbers, got '${v}'`, 2);
      return new Set(list.map(Number));
    };

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
      model: path.resolve(resolveModelDir(a.model!)), task: task.name, method: a.method!, methodOptions,
      epochs: num('epochs', true)!, batchSize: num('batch', true) ?? TRAINER_DEFAULTS.batchSize, accumulate: num('accumulate', true) ?? 1,
      lr: num('lr') ?? TRAINER_DEFAULTS.lr, optimizer: (a.optimizer ?? 'adamw') as 'adamw' | 'adamax', weightDecay: num('weight-decay') ?? TRAINER_DEFAULTS.weightDecay,
      maxGradNorm: num('clip') ?? TRAINER_DEFAULTS.maxGradNorm, warmupSteps: num('warmup', true) ?? 0,
      schedule: (a.schedule ?? 'linear') as TrainerConfig['schedule'], patience: num('patience', true) ?? TRAINER_DEFAULTS.patience,
      seed: num('seed', true) ?? 1, reuse: !a['no-reuse'], checkpointEvery: num('checkpoint-every', true) ?? 0, logEvery: num('log-every', true) ?? 0,
      threads: num('threads', true), providers: parseProviders(a.provider), name: a.name,
      ...(a.backbone !== undefined ? { backbone: path.resolve(a.backbone) } : {}),
    };
    if (!['adamw', 'adamax'].includes(cfg.optimizer)) throw new UserError(`--optimizer must be adamw or adamax`, 2);
    if (!['constant', 'linear', 'cosine'].includes(cfg.schedule)) throw new UserError(`--schedule must be constant, linear or cosine`, 2);
    if (cfg.batchSize < 1 || cfg.accumulate < 1 || cfg.epochs < 1) throw new UserError('--batch, --accumulate and --epochs must be at least 1', 2);

    const load = async (file: string, which: 'train' | 'val'): Promise<LabelledSequence[]> => {
      const d = await readDataFile(file);
      printNotes(d.result.notes);
      try {
        const r = labelledData(d, file, { task: a.task as 'ss' | 'sp', labels, partitions: partitions(which === 'train' ? 'train-partitions' : 'val-partitions'), taskName: '--task sp' });
        printNotes(r.notes);
        if (r.inexact) console.error(`plmw train: ${file}: ${r.inexact} record(s) trained on their derived region path (no allowed path fits SignalP 6.0's region tags)`);
        return r.items;
      } catch (e) {
        if (e instanceof LabelledDataError) throw new UserError(e.message);
        throw e;
      }
    };
    const data = { train: await load(a.train!, 'train'), val: await load(a.val!, 'val') };
    if (data.train.length === 0 || data.val.length === 0) throw new UserError(`no ${data.train.length === 0 ? 'training' : 'validation'} sequences left (check --train-partitions / --val-partitions)`);
    const model = await loadModel(cfg.model);
    const prep = prepare(cfg, task, model);
    console.error(`plmw train: ${prep.method.name} ${JSON.stringify(prep.method.options)}: ${parameterCount(prep.params).toLocaleString('en-US')} trainable parameters ` +
      `(method ${parameterCount(prep.method.params).toLocaleString('en-US')}, head ${parameterCount(prep.head.params).toLocaleString('en-US')}); ` +
      `${data.train.length} training and ${data.val.length} validation sequences`);
    try {
      const rec = await train(a.out!, cfg, task, data, {
        signal: gracefulStop(),
        onProgress: (p) => progressLine(`${p.phase} epoch ${p.epoch + 1}/${cfg.epochs} ${p.done}/${p.total}${p.loss !== undefined ? ` loss ${p.loss.toFixed(4)}` : ''}${p.sequencesPerSecond ? ` ${p.sequencesPerSecond.toFixed(1)} seq/s` : ''}`),
        onMetrics: (row) => row.split === 'val' && console.error(`\nepoch ${Number(row.epoch) + 1}: ${Object.entries(row).filter(([k]) => !['step', 'epoch', 'split'].includes(k)).map(([k, v]) => `${k} ${typeof v === 'number' ? v.toFixed(4) : v}`).join(', ')}`),
        onNote: (message) => console.error(`plmw train: ${message}`),
      });
      progressLine('');
      console.error(`plmw train: ${rec.status}; best ${rec.best?.metric} ${rec.best?.value.toFixed(4)} at epoch ${(rec.best?.epoch ?? 0) + 1}; run in ${a.out}`);
      return 0;
    } catch (e) {
      progressLine('');
      if ((e as Error)?.name === 'AbortError') console.error(`plmw train: the run is recorded as cancelled; run the same command to resume it from its last checkpoint`);
      throw e;
    }
  },
};
