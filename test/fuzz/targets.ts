// The formats the product reads, each with real seed files and the reader the product calls on
// such a file (file readers get the bytes written to a scratch file first, so strict decoding
// and streaming are part of what is fuzzed).
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readDataFile, type DataFormat } from '../../src-main/engine/data/detect.js';
import { readFastaFile } from '../../src-main/engine/data/fasta.js';
import { readEsm2Config } from '../../src-main/engine/esm2/config.js';
import { parseSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { loadModel, type LoadedModel } from '../../src-main/engine/esm2/model.js';
import { importPeftAdapter } from '../../src-main/engine/export/peft-import.js';
import { annotateParsed, chainBreaks, parseStructure, polymerChains, resolveChain } from '../../src-main/engine/export/structure/index.js';
import { REPO, shared } from '../helpers/paths.js';
import type { MutateOptions } from './mutate.js';

export interface Target {
  /** seed files: real files of the format, or excerpts of them cut at a record boundary */
  seeds: () => Uint8Array[];
  mutate?: MutateOptions;
  /** read one input as the product does; `strict` alternates between inputs */
  run: (bytes: Uint8Array, o: { strict: boolean; scratch: string; pick: number; seed: number }) => unknown;
}

const read = (p: string) => new Uint8Array(readFileSync(p));
/** The first `records` '>' records of a file. */
const records = (p: string, n: number) => {
  const text = readFileSync(p, 'latin1');
  let at = 0;
  for (let k = 0; k <= n && at >= 0; k++) at = text.indexOf('\n>', at + 1);
  return new Uint8Array(Buffer.from(at < 0 ? text : text.slice(0, at + 1), 'latin1'));
};
/** The first `n` lines of a file. */
const lines = (p: string, n: number) => new Uint8Array(Buffer.from(`${readFileSync(p, 'latin1').split('\n').slice(0, n).join('\n')}\n`, 'latin1'));

const scratchFile = (scratch: string, name: string, bytes: Uint8Array) => {
  const f = path.join(scratch, name);
  writeFileSync(f, bytes);
  return f;
};

const labelled = (format: Exclude<DataFormat, 'unknown' | 'fasta'>, seeds: () => Uint8Array[]): Target => ({
  seeds,
  // Half the inputs go through format detection, half name their format (as `--format` does).
  run: (bytes, o) => readDataFile(scratchFile(o.scratch, 'data.txt', bytes), { strict: o.strict, format: o.pick % 2 ? format : undefined }),
});

const structure = (name: string): Target['run'] => (bytes) => {
  const s = parseStructure(bytes, name);
  for (const chain of polymerChains(s).slice(0, 2)) {
    const { residues } = resolveChain(s, chain);
    chainBreaks(s, residues);
    annotateParsed(s, { chain, prediction: { scores: residues.map((_, k) => (k % 10) / 10) } });
  }
  return s;
};

const sp6 = (f: string) => shared('data', 'signalp6', f);
const ss = (...p: string[]) => shared('data', 'secondary-structure', ...p);
const pdb = (f: string) => shared('fixtures', 'pdb', f);
const esm2 = (...p: string[]) => shared('fixtures', 'esm2', ...p);
let tiny: LoadedModel | undefined;
const tinyModel = async () => (tiny ??= await loadModel(esm2('esm2-tiny-random')));
const ADAPTERS = ['lora-qv-tokencls', 'lora-all-linear-esmmodel', 'lora-layers0-tokencls', 'ia3-tokencls', 'prompt-tokencls', 'lora-dora-tokencls'];

export const TARGETS: Record<string, Target> = {
  fasta: {
    seeds: () => [
      read(path.join(REPO, 'resources', 'samples', 'proteins.fasta')),
      read(path.join(REPO, 'resources', 'samples', 'bad-record.fasta')),
      read(shared('fixtures', 'peft', 'sequences.fasta')),
    ],
    run: (bytes, o) => readFastaFile(scratchFile(o.scratch, 'in.fasta', bytes), { strict: o.strict, allowGaps: o.pick % 3 === 0 }),
  },
  signalp: labelled('signalp', () => [records(sp6('small_dataset_10.partitions-0-1.fasta'), 30), read(sp6('prediction_testcase.partitions-0-1.fasta'))]),
  'lift-ss': labelled('lift-ss', () => [records(ss('lift_ss', 'CASP12.txt'), 12), records(ss('lift_ss', 'CB433.txt'), 6)]),
  'netsurfp-csv': labelled('netsurfp-csv', () => [lines(ss('netsurfp', 'CASP12_HHblits.csv'), 6), lines(ss('netsurfp', 'TS115_HHblits.csv'), 4)]),
  flip: labelled('flip', () => [records(ss('flip', 'val.ss3.txt'), 12)]),
  pdb: {
    seeds: () => [read(pdb('1ubq.pdb')), read(pdb('AF-P61626-F1-model_v4.pdb')), lines(pdb('1t8a.pdb'), 600)],
    run: structure('input.pdb'),
  },
  mmcif: {
    seeds: () => [read(path.join(REPO, 'test', 'structure', 'fixtures', 'quoted.cif')), lines(pdb('1gbt.cif'), 900)],
    run: structure('input.cif'),
  },
  safetensors: {
    seeds: () => [read(esm2('esm2-tiny-random', 'model.safetensors')), ...ADAPTERS.slice(0, 3).map((a) => read(shared('fixtures', 'peft', a, 'adapter_model.safetensors')))],
    mutate: { safetensors: true },
    run: (bytes) => {
      const f = parseSafetensors(bytes, 'model.safetensors');
      for (const t of f.tensors.values()) t.toFloat32();
      return f;
    },
  },
  'config.json': {
    seeds: () => [
      read(esm2('esm2-tiny-random', 'config.json')),
      read(esm2('esm2-t6-shape-random', 'config.json')),
      ...['esm2_t6_8M_UR50D', 'esm2_t12_35M_UR50D', 'esm2_t30_150M_UR50D'].map((m) => read(esm2('hf-configs', m, 'config.json'))),
    ],
    mutate: { json: true },
    run: (bytes, o) => readEsm2Config(scratchFile(o.scratch, 'config.json', bytes)),
  },
  'adapter_config.json': {
    seeds: () => ADAPTERS.map((a) => read(shared('fixtures', 'peft', a, 'adapter_config.json'))),
    mutate: { json: true },
    // The whole import, as `plmw runs import-peft` does it: the mutated config beside the seed adapter's own weights.
    run: async (bytes, o) => {
      const dir = path.join(o.scratch, `adapter-${o.seed}`);
      if (!existsSync(dir)) {
        mkdirSync(dir);
        copyFileSync(shared('fixtures', 'peft', ADAPTERS[o.seed], 'adapter_model.safetensors'), path.join(dir, 'adapter_model.safetensors'));
      }
      writeFileSync(path.join(dir, 'adapter_config.json'), bytes);
      return importPeftAdapter(dir, await tinyModel());
    },
  },
};
