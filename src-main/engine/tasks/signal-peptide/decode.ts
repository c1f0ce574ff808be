// Prediction split: the graph gives emissions and the CRF parameters (head.ts packs both into
// its `probs` output); everything read off the CRF — Viterbi path, posterior marginals, the six
// SP-type probabilities and the cleavage site — is computed here in TypeScript, in float64, by
// crf-reference.ts (the same code the in-graph CRF is tested against). Validation during
// training, `plmw evaluate` and `plmw predict` all go through `decodeSp`.
import type { Kingdom, SpType } from '../../data/signalp.js';
import { type CrfParams, type Emissions, predictSignalP } from './crf-reference.js';
import { SIGNALP6_CRF, crfParamSizes, crfParamsFromVectors } from './crf-graph.js';
import { SP_PACK_ROWS, spOutputWidth, spPackWidth } from './head.js';
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

/** Emissions [len x 37] and the CRF parameters from one sequence's packed output rows [len+2, 37+K]. */
export function unpackSpRows(rows: ArrayLike<number>, length: number): { emissions: Emissions; params: CrfParams } {
  const W = spOutputWidth();
  const C = NUM_REGION_STATES;
  if (rows.length !== (length + 2) * W) throw new Error(`signal-peptide output: ${rows.length} values for ${length} residues, expected ${(length + 2) * W}`);
  const data = new Float64Array(length * C);
  for (let i = 0; i < length; i++) for (let j = 0; j < C; j++) data[i * C + j] = rows[(i + 1) * W + j];
  const K = spPackWidth();
  const total = crfParamSizes(SIGNALP6_CRF).total;
  const flat = new Float64Array(SP_PACK_ROWS * K);
  for (let r = 0; r < SP_PACK_ROWS; r++) for (let c = 0; c < K; c++) flat[r * K + c] = rows[r * W + C + c];
  return { emissions: { length, numTags: C, data }, params: crfParamsFromVectors(SIGNALP6_CRF, flat.subarray(0, total)) };
}

export function decodeSp(rows: ArrayLike<number>, length: number, kingdom: Kingdom | null): SpDecoded {
  const { emissions, params } = unpackSpRows(rows, length);
  const p = predictSignalP(emissions, params, kingdom);
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
