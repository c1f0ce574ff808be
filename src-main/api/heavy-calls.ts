// The API methods whose work can be heavy: parsing an uploaded FASTA (hundreds of MB) and
// importing a model folder (validating, hashing and copying gigabytes). Every front runs them
// through the call worker (src-main/engine/jobs/calls.ts) when it has one, so the main thread
// stays free; the handlers are defined once, here, for the worker and for in-process use.
import { parseFasta, readFastaFile } from '../engine/data/fasta.js';
import { importLocalModel } from '../engine/models/store.js';
import type { ApiMethods } from './contract.js';

export const HEAVY_METHODS = ['fasta.parse', 'models.import'] as const;
export type HeavyMethod = (typeof HEAVY_METHODS)[number];

export interface HeavyContext {
  /** store root for models (the settings' model folder, else home) */
  modelHome: string;
}

type Handlers = { [M in HeavyMethod]: (req: ApiMethods[M]['request'], ctx: HeavyContext) => Promise<ApiMethods[M]['response']> };

export const HEAVY_CALLS: Handlers = {
  'fasta.parse': async (r) => {
    if (r.path !== undefined) return { file: r.path, ...(await readFastaFile(r.path, { allowGaps: r.allowGaps })) };
    return { file: '<text>', ...parseFasta(r.text!, { file: '<text>', allowGaps: r.allowGaps }) };
  },
  'models.import': async (r, ctx) => importLocalModel(r.dir, { home: ctx.modelHome, name: r.name, mode: r.mode, overwrite: r.overwrite }),
};

export const isHeavyMethod = (m: string): m is HeavyMethod => (HEAVY_METHODS as readonly string[]).includes(m);
