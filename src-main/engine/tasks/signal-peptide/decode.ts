// Prediction split: the graph gives the emissions, the run gives the trained CRF tensors;
// everything read off the CRF — posterior marginals, the six SP-type probabilities, the region
// path, the cleavage site and its probability — is computed here in TypeScript, in float64, by
// crf-reference.ts (the same code the in-graph CRF is tested against). Validation during
// training, `plmw evaluate` and `plmw predict` all go through `decodeSp`.
//
// One answer per sequence, consistent with itself:
//   type          argmax of the type probabilities (SignalP 6.0: marginals summed per type;
//                 EUKARYA folds every signal-peptide type into Sec/SPI);
//   path          the most probable region path AMONG THE STATES OF THAT TYPE (a Viterbi run with
//                 the other types' states removed), so its letters always match the type: no
//                 lipoprotein letters under a Tat/SPI call, no all-cytoplasm path under Sec/SPI;
//   cleavage site the end of the path's signal peptide (1-based last residue); none for NO_SP, and
//                 none when the signal peptide runs to the last residue read (the cleavage site
//                 is then not inside the window; flagged, never written as `1 70`).
// Cleavage-site probabilities: on every allowed path the signal-peptide states (letters S L T P)
// form one leading run, so P(signal peptide ends after residue i) = P(z_i in SP) - P(z_i+1 in
// SP), exactly, from the marginals (the last entry is the mass of paths still in a signal
// peptide at the window's end).
// Flags say what a SignalP 6.0 reader would doubt: a type below probability 0.5, a best overall
// path of another type than the one reported, a cleavage site below probability 0.5, a signal
// peptide that does not end inside the window.
import type { Kingdom, SpType } from '../../data/signalp.js';
import { SP_TYPES } from '../../data/signalp.js';
import { type CrfParams, type Emissions, marginals, predictSpType, typeProbabilities, viterbi } from './crf-reference.js';
import { SIGNALP6_CRF, crfParamsFromVectors } from './crf-graph.js';
import { NUM_REGION_STATES, REGION_STATES, TYPE_STATES, cleavageSiteOfPath, pathLetters, pathType } from './regions.js';

export type SpFlagCode = 'low-type-probability' | 'path-type-differs' | 'low-cs-probability' | 'cs-beyond-window';

export interface SpFlag {
  code: SpFlagCode;
  message: string;
}

export interface SpDecoded {
  /** residues decoded (the input after the cut to 70) */
  length: number;
  kingdom: Kingdom | null;
  type: SpType;
  /** SP_TYPES order; for EUKARYA the SP types are folded into SP (SignalP 6.0) */
  typeProbs: Float64Array;
  /** 1-based last residue of the predicted signal peptide; null without one inside the window */
  cleavageSite: number | null;
  /** csProbs at the cleavage site; null without a cleavage site */
  cleavageSiteProbability: number | null;
  /** [length]: P(the signal peptide ends after residue i + 1), any SP type */
  csProbs: Float64Array;
  /** most probable path among the states of `type` */
  path: Int32Array;
  /** the path's 3-line letters (S L T P I M O) */
  letters: string;
  /** type of the most probable path over all states (may differ from `type`: flagged) */
  bestPathType: SpType;
  /** posterior marginals [length x 37] */
  marginals: Float64Array;
  flags: SpFlag[];
}

/** Below this, a type or cleavage-site probability is flagged as uncertain. */
export const SP_CONFIDENT = 0.5;

const SP_LETTERS = 'SLTP';
const IS_SP_STATE = REGION_STATES.map((s) => SP_LETTERS.includes(s.letter));

export const SP_TYPE_LABEL: Readonly<Record<SpType, string>> = Object.freeze({
  NO_SP: 'Other (no signal peptide)', SP: 'Sec/SPI', LIPO: 'Sec/SPII (lipoprotein)', TAT: 'Tat/SPI', TATLIPO: 'Tat/SPII', PILIN: 'Sec/SPIII (pilin)',
});

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

/** The most probable path using only `states` (other states' emissions removed). */
export function viterbiWithin(em: Emissions, p: CrfParams, states: readonly number[]): Int32Array {
  const keep = new Uint8Array(em.numTags);
  for (const s of states) keep[s] = 1;
  const data = Float64Array.from(em.data, (v, k) => (keep[k % em.numTags] ? v : -Infinity));
  return viterbi({ length: em.length, numTags: em.numTags, data }, p).path;
}

/** P(signal peptide ends after residue i + 1) from marginals [length x 37]. */
export function cleavageSiteProbabilities(marg: Float64Array, length: number): Float64Array {
  const T = NUM_REGION_STATES;
  const inSp = new Float64Array(length + 1);
  for (let i = 0; i < length; i++) {
    let s = 0;
    for (let j = 0; j < T; j++) if (IS_SP_STATE[j]) s += marg[i * T + j];
    inSp[i] = s;
  }
  return Float64Array.from({ length }, (_, i) => Math.max(0, inSp[i] - inSp[i + 1]));
}

const pct = (p: number) => p.toFixed(2);

export function decodeSp(rows: ArrayLike<number>, length: number, kingdom: Kingdom | null, crf: CrfParams): SpDecoded {
  const em = emissionsOf(rows, length);
  const marg = marginals(em, crf);
  const { type, probs } = predictSpType(typeProbabilities(marg, length, crf.numTags), kingdom);
  const path = viterbiWithin(em, crf, TYPE_STATES[type]);
  const best = pathType(viterbi(em, crf).path)!;
  const csProbs = cleavageSiteProbabilities(marg, length);
  let cs = cleavageSiteOfPath(path);
  const flags: SpFlag[] = [];
  const pType = probs[SP_TYPES.indexOf(type)];
  if (pType < SP_CONFIDENT) flags.push({ code: 'low-type-probability', message: `the most probable type, ${SP_TYPE_LABEL[type]}, has probability ${pct(pType)}` });
  // Eukaryotes: every signal-peptide type is reported as Sec/SPI (folded), so a best path of another SP type agrees.
  const bestReported = kingdom === 'EUKARYA' && best !== 'NO_SP' ? 'SP' : best;
  if (bestReported !== type) flags.push({ code: 'path-type-differs', message: `the single most probable region path is ${SP_TYPE_LABEL[best]}; the type sums the probability of all paths` });
  if (cs !== null && cs >= length) {
    flags.push({ code: 'cs-beyond-window', message: `the signal peptide runs to residue ${length}, the last one read: no cleavage site inside the window` });
    cs = null;
  }
  const csP = cs === null ? null : csProbs[cs - 1];
  if (csP !== null && csP < SP_CONFIDENT) flags.push({ code: 'low-cs-probability', message: `cleavage site after residue ${cs} has probability ${pct(csP)}` });
  return {
    length, kingdom, type, typeProbs: probs, cleavageSite: cs, cleavageSiteProbability: csP, csProbs,
    path, letters: pathLetters(path), bestPathType: best, marginals: marg, flags,
  };
}
