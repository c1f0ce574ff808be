// The signal-peptide head (PEFT-SP / SignalP 6.0): one Linear from the backbone's per-residue
// features to 37 CRF emission scores, an optional learned kingdom embedding added to them, and
// a constrained linear-chain CRF whose multi-tag negative log-likelihood is the training loss.
// Every tensor here is a head parameter, so it is trained with every PEFT method (probe, LoRA,
// adapters, prompts, full).
//
// Kingdom input: `head.kingdom` [4, 37] is a learned bias per kingdom (KINGDOMS order) added to
// the emissions at every residue, i.e. the same as concatenating a one-hot kingdom to the
// features in front of the Linear. SignalP 6.0 feeds the kingdom too. An unknown kingdom is an
// all-zero one-hot: no kingdom term.
//
// Graph inputs besides the backbone's (all fed by labelFeeds):
//   crf_valid  [B, L]      1 at the residues of each sequence (L = maxLength, 70)
//   crf_tags   [B, L, 37]  1 where a state is allowed (all 1 where a residue is unscored)
//   crf_scored [B]         1 for sequences with at least one scored residue
//   kingdom    [B, 4]      one-hot kingdom (when the kingdom input is on)
// Loss: mean over scored sequences of  log Z - log Z(tags)  (crf-graph.ts).
//
// Output `probs` [B, T, 37] (T = tokens, row 0 = <cls>, row i = residue i): the emission scores.
// Viterbi, marginals, type probabilities and the cleavage site are computed from them and the
// trained CRF tensors in TypeScript by crf-reference.ts (decode.ts).
import * as ort from 'onnxruntime-node';
import { type Tensor, ops } from '../../graph/index.js';
import type { Head } from '../../train/head.js';
import { KINGDOMS } from '../../data/signalp.js';
import { SIGNALP6_CRF, crfGraphParams, crfParamSizes, crfTagSetNll } from './crf-graph.js';
import { SP_MAX_LENGTH, allowedStates, kingdomOf } from './labels.js';
import { NUM_REGION_STATES } from './regions.js';

export interface SpHeadOptions {
  /** learned kingdom embedding added to the emissions (default true) */
  kingdom?: boolean;
  /** residues the CRF is unrolled over (default 70) */
  maxLength?: number;
}

export function spHead(hidden: number, o: SpHeadOptions = {}): Head {
  const C = NUM_REGION_STATES;
  const useKingdom = o.kingdom ?? true;
  const Lmax = o.maxLength ?? SP_MAX_LENGTH;
  const sizes = crfParamSizes(SIGNALP6_CRF);
  const params: Head['params'] = [
    { name: 'head.weight', shape: [C, hidden], init: { kind: 'normal', std: 0.02 } },
    { name: 'head.bias', shape: [C], init: { kind: 'zeros' }, decay: false },
  ];
  if (useKingdom) params.push({ name: 'head.kingdom', shape: [KINGDOMS.length, C], init: { kind: 'zeros' }, decay: false });
  params.push(
    { name: 'head.crf.transitions', shape: [sizes.transitions], init: { kind: 'zeros' }, decay: false },
    { name: 'head.crf.start', shape: [sizes.start], init: { kind: 'zeros' }, decay: false },
    { name: 'head.crf.end', shape: [sizes.end], init: { kind: 'zeros' }, decay: false },
  );
  return {
    name: 'crf',
    options: { states: C, kingdom: useKingdom, maxLength: Lmax },
    numClasses: C,
    params,
    build(ctx, features, dtype) {
      const g = ctx.graph;
      let em: Tensor = ops.linear(features, ctx.param('head.weight'), ctx.param('head.bias')); // [B, T, C]
      if (useKingdom) {
        const k = g.input('kingdom', dtype, ['B', KINGDOMS.length]);
        em = ops.add(em, ops.unsqueeze(ops.matmul(k, ctx.param('head.kingdom')), [1]));
      }
      // residues 1..Lmax as a static [B, Lmax, C] (zeros past the last token; masked anyway)
      const pad = ops.constantOfShape(g, ops.shapeTensor(g, ['B', Lmax, C]), ['B', Lmax, C], 0, dtype);
      const emR = ops.slice(ops.concat([em, pad], 1), [1], [1 + Lmax], [1]);
      const valid = ops.greater(g.input('crf_valid', dtype, ['B', Lmax]), 0.5);
      const tags = ops.greater(g.input('crf_tags', dtype, ['B', Lmax, C]), 0.5);
      const scored = g.input('crf_scored', dtype, ['B']);
      const crf = crfGraphParams(g, SIGNALP6_CRF, ctx.param('head.crf.transitions'), ctx.param('head.crf.start'), ctx.param('head.crf.end'));
      const nll = crfTagSetNll(emR, valid, tags, crf);
      const loss = ops.div(ops.sumAll(ops.mul(nll, scored)), ops.maximum(ops.sumAll(scored), 1));

      return { loss, outputs: { probs: em } };
    },
    labelFeeds(batch, _T, dtype) {
      const B = batch.labels.length;
      const Arr = dtype === 'float64' ? Float64Array : Float32Array;
      const valid = new Arr(B * Lmax);
      const tags = new Arr(B * Lmax * C).fill(1);
      const scored = new Arr(B);
      const kingdom = new Arr(B * KINGDOMS.length);
      batch.labels.forEach((lab, b) => {
        if (lab.length > Lmax) throw new Error(`signal-peptide head reads at most ${Lmax} residues; a sequence of ${lab.length} reached it uncut`);
        if (lab.length === 0) throw new Error('signal-peptide head: empty sequence');
        for (let i = 0; i < lab.length; i++) {
          valid[b * Lmax + i] = 1;
          const states = allowedStates(lab[i]);
          if (!states) continue;
          scored[b] = 1;
          const row = (b * Lmax + i) * C;
          tags.fill(0, row, row + C);
          for (const s of states) tags[row + s] = 1;
        }
        const k = kingdomOf(lab);
        if (k !== null) kingdom[b * KINGDOMS.length + KINGDOMS.indexOf(k)] = 1;
      });
      const t = (data: Float32Array | Float64Array, dims: number[]) => new ort.Tensor(dtype as 'float32', data, dims);
      const feeds: Record<string, ort.Tensor> = {
        crf_valid: t(valid, [B, Lmax]),
        crf_tags: t(tags, [B, Lmax, C]),
        crf_scored: t(scored, [B]),
      };
      if (useKingdom) feeds.kingdom = t(kingdom, [B, KINGDOMS.length]);
      return feeds;
    },
  };
}
