// The Train form: its fields, their defaults, the request they make, and the checks a person
// sees next to each field (in the words of the form, not the request's keys).
import type { DataInput, TrainRequest } from '../../../src-main/api/contract.js';
import { TRAIN_METHODS } from '../../../src-main/api/contract.js';

export type Method = (typeof TRAIN_METHODS)[number];

export interface TrainForm {
  model: string;
  task: 'ss' | 'sp';
  labels: 'ss8' | 'ss3';
  head: 'linear' | 'cnn';
  kingdomInput: boolean;
  method: Method;
  topK: number | '';
  r: number | '';
  alpha: number | '';
  dropout: number | '';
  loraTargets: string[];
  ia3Targets: string[];
  variant: 'houlsby' | 'pfeiffer' | 'parallel';
  size: number | '';
  activation: 'relu' | 'gelu' | 'tanh';
  tokens: number | '';
  deep: boolean;
  epochs: number | '';
  batchSize: number | '';
  lr: number | '';
  seed: number | '';
  name: string;
}

export function defaultForm(model = ''): TrainForm {
  return {
    model, task: 'ss', labels: 'ss8', head: 'linear', kingdomInput: true, method: 'lora', topK: '', r: 8, alpha: 8, dropout: 0.1,
    loraTargets: ['query', 'value'], ia3Targets: ['key', 'value', 'ffn'], variant: 'houlsby', size: 64, activation: 'relu', tokens: 10, deep: false,
    epochs: 3, batchSize: 8, lr: 0.001, seed: 1, name: '',
  };
}

/** Training or validation data: a picked file's text, or a path on this machine; one of them. */
export interface DataChoice {
  text?: string;
  /** the picked file's name */
  name?: string;
  path: string;
}

export const dataInput = (d: DataChoice): DataInput | undefined => (d.text ? { text: d.text, name: d.name } : d.path.trim() ? { path: d.path.trim() } : undefined);

/** What each request field is called in the form (for engine messages that name a field). */
export const FIELD_LABELS: Record<string, string> = {
  model: 'Model', task: 'Task', labels: 'Labels', head: 'Head', noKingdom: 'kingdom input', method: 'PEFT method',
  'options.topK': 'Top-k blocks', 'options.r': 'rank r', 'options.alpha': 'alpha', 'options.dropout': 'dropout', 'options.targets': 'targets',
  'options.variant': 'variant', 'options.size': 'bottleneck size', 'options.activation': 'activation', 'options.tokens': 'virtual tokens', 'options.deep': 'deep',
  batchSize: 'batch', epochs: 'epochs', lr: 'learning rate', seed: 'seed', name: 'Run name', id: 'Run name',
  train: 'Training data', 'train.text': 'Training data', 'train.path': 'Training data', val: 'Validation data', 'val.text': 'Validation data', 'val.path': 'Validation data',
};

/** An engine message "field: reason" with the field in the form's words. */
export function inFormWords(message: string, field?: string): string {
  const f = field && FIELD_LABELS[field] ? field : Object.keys(FIELD_LABELS).sort((a, b) => b.length - a.length).find((k) => message.startsWith(`${k}:`));
  if (!f) return message;
  return message.startsWith(`${f}:`) ? `${FIELD_LABELS[f]}:${message.slice(f.length + 1)}` : `${FIELD_LABELS[f]}: ${message}`;
}

type Check = (v: number) => string | null;
const whole = (min: number, max = Number.MAX_SAFE_INTEGER): Check => (v) => (!Number.isInteger(v) ? 'must be a whole number' : v < min ? `must be at least ${min}` : v > max ? `must be at most ${max}` : null);
const between = (min: number, max: number, open = false): Check => (v) => (open ? v <= min : v < min) ? `must be ${open ? 'more than' : 'at least'} ${min}` : v > max ? `must be at most ${max}` : null;

/** Problems with the form, by form field; empty when it can start. */
export function formErrors(f: TrainForm): Record<string, string> {
  const out: Record<string, string> = {};
  const num = (key: keyof TrainForm, check: Check, optional = false) => {
    const v = f[key];
    if (v === '' || v === null || v === undefined) {
      if (!optional) out[key] = 'is required';
      return;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) out[key] = 'must be a number';
    else {
      const e = check(v);
      if (e) out[key] = e;
    }
  };
  if (!f.model.trim()) out.model = 'choose a model (installed name or folder)';
  num('epochs', whole(1, 10_000));
  num('batchSize', whole(1, 4096));
  num('lr', between(0, 10, true));
  num('seed', whole(0, 2 ** 31 - 1));
  if (f.method !== 'probe' && f.method !== 'prompt') num('topK', whole(0, 1000), true);
  if (f.method === 'lora' || f.method === 'dora') {
    num('r', whole(1, 4096));
    num('alpha', between(0, 1e6));
    num('dropout', between(0, 0.99));
    if (!f.loraTargets.length) out.loraTargets = 'choose at least one target';
  }
  if (f.method === 'ia3' && !f.ia3Targets.length) out.ia3Targets = 'choose at least one target';
  if (f.method === 'adapter') num('size', whole(1, 65536));
  if (f.method === 'prompt' || f.method === 'prefix') num('tokens', whole(1, 1000));
  return out;
}

export function methodOptions(f: TrainForm): NonNullable<TrainRequest['options']> {
  const o: NonNullable<TrainRequest['options']> = {};
  const n = (v: number | '') => (v === '' ? undefined : Number(v));
  if (f.topK !== '' && f.method !== 'probe' && f.method !== 'prompt') o.topK = Number(f.topK);
  if (f.method === 'lora' || f.method === 'dora') Object.assign(o, { r: n(f.r), alpha: n(f.alpha), dropout: n(f.dropout), targets: f.loraTargets });
  if (f.method === 'ia3') o.targets = f.ia3Targets as NonNullable<typeof o.targets>;
  if (f.method === 'adapter') Object.assign(o, { variant: f.variant, size: n(f.size), activation: f.activation });
  if (f.method === 'prompt') Object.assign(o, { tokens: n(f.tokens), deep: f.deep });
  if (f.method === 'prefix') o.tokens = n(f.tokens);
  return o;
}

export const taskFields = (f: TrainForm) =>
  f.task === 'ss' ? { task: 'ss' as const, labels: f.labels, head: f.head } : { task: 'sp' as const, ...(f.kingdomInput ? {} : { noKingdom: true }) };

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 60);
}

export function newRunId(f: TrainForm, d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
  return `${slug(f.name) || `${f.method}-${f.task}`}-${stamp}`;
}
