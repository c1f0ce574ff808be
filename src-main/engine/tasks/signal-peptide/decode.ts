// Prediction split: the graph gives the emissions, the run gives the trained CRF tensors;
// everything read off the CRF — Viterbi path, posterior marginals, the six
// SP-type probabilities and the cleavage site — is computed here in TypeScript, in float64, by
// crf-reference.ts (the same code the in-graph CRF is tested against). Validation during
// training, `plmw evaluate` and `plmw predict` all go through `decodeSp`.
import type { Kingdom, SpType } from '../../data/signalp.js';
import { type CrfParams, type Emissions, predictSignalP } from './crf-reference.js';
import { SIGNALP6_CRF, crfParamsFromVectors } from './crf-graph.js';
import { NUM_REGION_STATES, pathLetters } from './regions.js';

export interface SpDecoded {
  /** residues decoded (the input after the cut to 70) */
  length: number;
  kingdom: Kingdom | null;
  type: SpType;
  /** SP_TYPES order; for EUKARYA the SP types are folded into SP (SignalP 6.0) */
  typeProbs: Float64Array;
  /** 1-based last residue of the predicted signal peptide (Viterbi path); null without SP */
  cleavageSite: number | null;
  /** Viterbi state per residue */
  path: Int32Array;
  /** the path's 3-line letters (S L T P I M O) */
  letters: string;
  /** posterior marginals [length x 37] */
  marginals: Float64Array;
}

/** Emissions [len x 37] from one sequence's output rows [len+2, 37] (row 0 = <cls>). */
export function emissionsOf(rows: ArrayLike<number>, length: number): Emissions {
  const C = NUM_REGION_STATES;
  if (rows.length !== (length + 2) * C) throw new Error(`signal-peptide output: ${rows.length} values for ${length} residues, expected ${(length + 2) * C}`);
  const data = new Float64Array(length * C);
  for (let i = 0; i < length * C; i++) data[i] = rows[C + i];
  return { length, numTags: C, data };
}

/** The CRF parameters from a run's trained tensors (head.crf.transitions, .start, .end). */
export function crfParamsOf(trained: ReadonlyMap<string, ArrayLike<number>>): CrfParams {
  const parts = ['head.crf.transitions', 'head.crf.start', 'head.crf.end'].map((n) => {
    const t = trained.get(n);
    if (!t) throw new Error(`no trained tensor '${n}': not a signal-peptide CRF run`);
    return Array.from(t);
  });
  return crfParamsFromVectors(SIGNALP6_CRF, parts.flat());
}

export function decodeSp(rows: ArrayLike<number>, length: number, kingdom: Kingdom | null, crf: CrfParams): SpDecoded {
  const p = predictSignalP(emissionsOf(rows, length), crf, kingdom);
  return {
    length,
    kingdom,
    type: p.type,
    typeProbs: p.typeProbs,
    cleavageSite: p.type === 'NO_SP' ? null : p.cleavageSite,
    path: p.viterbi,
    letters: pathLetters(p.viterbi),
    marginals: p.marginals,
  };
}
