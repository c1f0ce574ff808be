// The PEFT fixtures of ../shared/fixtures/peft (adapters made by Hugging Face PEFT, with
// transformers + PEFT reference outputs) and small writers for adapters the tests make themselves.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readSafetensors, writeSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { shared } from '../helpers/paths.js';

export const PEFT_FIXTURES = ['lora-qv-tokencls', 'lora-all-linear-esmmodel', 'lora-layers0-tokencls', 'ia3-tokencls', 'prompt-tokencls', 'lora-dora-tokencls'] as const;
export type PeftFixture = (typeof PEFT_FIXTURES)[number];
export const peftFixture = (name: PeftFixture) => shared('fixtures', 'peft', name);
export const SEQUENCES_FASTA = shared('fixtures', 'peft', 'sequences.fasta');

/** The fixture proteins, in file order. */
export function fixtureSequences(): { id: string; sequence: string }[] {
  return readFileSync(SEQUENCES_FASTA, 'utf8').split('>').slice(1).map((r) => {
    const [header, ...lines] = r.split('\n');
    return { id: header.split(/\s/)[0], sequence: lines.join('').trim() };
  });
}

/** Prompt rows that come first in a fixture's reference outputs (PEFT puts them before <cls>). */
export function promptRows(name: PeftFixture): number {
  const c = JSON.parse(readFileSync(path.join(peftFixture(name), 'adapter_config.json'), 'utf8')) as { num_virtual_tokens?: number };
  return c.num_virtual_tokens ?? 0;
}

export interface Diffs {
  hidden: number;
  logits: number | null;
}

/**
 * Max |ours - reference| over every sequence, for the last hidden state and (token
 * classification fixtures) the logits; `get(id, name)` returns our tensor. The reference's
 * prompt rows are dropped first, as the fixture README documents.
 */
export function diffToReference(name: PeftFixture, get: (id: string, output: 'hidden' | 'logits') => { shape: number[]; data: Float32Array }): Diffs {
  const ref = readSafetensors(path.join(peftFixture(name), 'reference.safetensors'));
  const P = promptRows(name);
  const d: Diffs = { hidden: 0, logits: null };
  for (const s of fixtureSequences()) {
    for (const out of ['hidden', 'logits'] as const) {
      const r = ref.tensors.get(`${s.id}.${out === 'hidden' ? 'last_hidden' : 'logits'}`);
      if (!r) {
        if (out === 'hidden') throw new Error(`${name}: no reference last_hidden for ${s.id}`);
        continue;
      }
      const [rows, width] = r.shape;
      if (rows !== s.sequence.length + 2 + P) throw new Error(`${name}/${s.id}: reference has ${rows} rows`);
      const mine = get(s.id, out);
      if (mine.shape[0] !== s.sequence.length + 2 || mine.shape[1] !== width) throw new Error(`${name}/${s.id} ${out}: shape [${mine.shape}], expected [${s.sequence.length + 2}, ${width}]`);
      const want = r.toFloat32().subarray(P * width);
      let m = 0;
      for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(mine.data[i] - want[i]));
      if (out === 'hidden') d.hidden = Math.max(d.hidden, m);
      else d.logits = Math.max(d.logits ?? 0, m);
    }
  }
  return d;
}

/** Writes an adapter folder as PEFT's save_pretrained lays it out. */
export async function writeAdapter(dir: string, config: Record<string, unknown>, tensors: Record<string, { shape: number[]; data: Float32Array }>): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify(config, null, 2));
  const t: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [k, v] of Object.entries(tensors)) t[k] = { dtype: 'F32', shape: v.shape, data: v.data };
  await writeSafetensors(path.join(dir, 'adapter_model.safetensors'), t, { format: 'pt' });
  return dir;
}

/** A copy of a fixture adapter with its config changed (and optionally tensors added or removed). */
export async function variantOf(name: PeftFixture, dir: string, change: (c: Record<string, unknown>) => void, tensors?: (t: Record<string, { shape: number[]; data: Float32Array }>) => void): Promise<string> {
  const c = JSON.parse(readFileSync(path.join(peftFixture(name), 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
  change(c);
  const f = readSafetensors(path.join(peftFixture(name), 'adapter_model.safetensors'));
  const t: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [k, v] of f.tensors) t[k] = { shape: v.shape, data: v.toFloat32() };
  tensors?.(t);
  return writeAdapter(dir, c, t);
}
