// Checks an adapter_config.json against what Hugging Face PEFT releases accept, from
// ../shared/fixtures/peft/peft-config-fields.json (the dataclass fields of each release's config
// classes, recorded from PEFT itself): every key must be a field of the config class of its
// peft_type (0.7.1 and 0.10.0 refuse any other key, 0.14.0 drops it with a warning, so a clean
// load means none), each value must fit the field's type, and the loaders' own rules hold
// (a regex target_modules with layers_to_transform/layers_pattern is refused; IA3's
// feedforward_modules must be a subset of target_modules).
import { readFileSync } from 'node:fs';
import { shared } from '../helpers/paths.js';

export const RELEASES = ['0.7.1', '0.10.0', '0.14.0'] as const;
export type Release = (typeof RELEASES)[number];

interface FieldsFile {
  versions: Record<Release, { classes: Record<string, { field_names: string[]; fields: { name: string; type: string; default: unknown }[] }> }>;
}

export const FIELDS = JSON.parse(readFileSync(shared('fixtures', 'peft', 'peft-config-fields.json'), 'utf8')) as FieldsFile;
export const CLASS_OF: Record<string, string> = { LORA: 'LoraConfig', IA3: 'IA3Config', PROMPT_TUNING: 'PromptTuningConfig' };

/** Does a JSON value fit a Python type annotation as the dataclass field records it? */
function fits(type: string, v: unknown): boolean {
  const t = type.replace(/typing\./g, '');
  const alts: boolean[] = [];
  if (/Optional|NoneType|None\b/.test(t)) alts.push(v === null);
  if (/\bbool\b/.test(t)) alts.push(typeof v === 'boolean');
  if (/\bint\b/.test(t)) alts.push(Number.isInteger(v) && typeof v === 'number');
  if (/\bfloat\b/.test(t)) alts.push(typeof v === 'number');
  if (/\bstr\b|PeftType|TaskType|PromptTuningInit|Literal/.test(t)) alts.push(typeof v === 'string');
  if (/\b[Ll]ist\b/.test(t)) alts.push(Array.isArray(v));
  if (/\bdict\b|Config\b/.test(t)) alts.push(typeof v === 'object' && v !== null && !Array.isArray(v));
  return alts.some(Boolean);
}

/** The problems a release's loader has with a config (empty = it loads cleanly). */
export function configProblems(c: Record<string, unknown>, release: Release): string[] {
  const out: string[] = [];
  const cls = CLASS_OF[c.peft_type as string];
  if (!cls) return [`peft_type ${JSON.stringify(c.peft_type)} has no config class`];
  const fields = new Map(FIELDS.versions[release].classes[cls].fields.map((f) => [f.name, f]));
  for (const [k, v] of Object.entries(c)) {
    const f = fields.get(k);
    if (!f) out.push(`${k}: not a field of ${release} ${cls}`);
    else if (!fits(f.type, v)) out.push(`${k}: ${JSON.stringify(v)} does not fit ${f.type}`);
  }
  if (typeof c.target_modules === 'string' && (c.layers_to_transform != null || c.layers_pattern != null)) out.push('regex target_modules with layers_to_transform/layers_pattern');
  if (c.peft_type === 'IA3' && Array.isArray(c.feedforward_modules) && Array.isArray(c.target_modules)) {
    const t = new Set(c.target_modules as string[]);
    if (!(c.feedforward_modules as string[]).every((x) => t.has(x))) out.push('feedforward_modules is not a subset of target_modules');
  }
  return out;
}
