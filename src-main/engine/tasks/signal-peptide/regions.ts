// SignalP 6.0's 37 region states, derived from the 3-line labels.
//
// Source: fteufel/signalp-6.0, src/signalp6/training_utils/label_processing_utils.py
// (SP_REGION_VOCAB, process_SP, apply_sliding_hydrophobicity_window, find_twin_arginine) and
// scripts/train_model.py (allowed_transitions, allowed_starts, allowed_ends; the same lists are
// in shuaizengMU/PEFT-SP scripts/model_config.py). State names and the plot legend are from
// prediction_service/make_sequence_plot.py. The state table, transitions and start states
// below are copied from there, not designed here.
//
// Two derived objects, both deterministic:
//  1. `signalp6TagSets`: SignalP 6.0's own region labels, reimplemented exactly (quirks
//     included). They are NOT a single path: several states may be allowed at a residue (e.g. a
//     residue may be n or h), and SignalP 6.0 trains its CRF on the likelihood of all paths
//     through these sets (multi-tag CRF). The split uses a hydrophobicity heuristic:
//       - Kyte-Doolittle scale; a window of 7 residues slides over the signal peptide
//         (starts 0 .. len-8, i.e. the last window is never tried — SignalP's range(len-7); a
//         single window at 0 when len <= 8); the window with the largest sum wins (first one on
//         ties), and its "centre" is start + 4 (ceil(7/2)): `hp`.
//       - Sec/SPI (SP):  n = [0, hp), h = [2, last-2) where last = 0-based index of the last
//         SP residue (so the last 3 SP residues are never h; the end is raised to hp+1 when it
//         is not past hp), c = [hp+1, last].
//       - Sec/SPII (LIPO): n = [0, hp), h = [2, last-1), CS = the last 2 SP residues, C1 = the
//         residue after the SP (+1 Cys), which replaces its I/M/O state.
//       - Tat (TAT, TATLIPO): twin-arginine motif = the last "RR" in the SP, else the last
//         "KR", else the last R with its left neighbour; n before the motif and 1 residue
//         after it, RR on the motif's 2 residues, h from motif+3 to last-1; then c = [hp+1,
//         last] (TAT) or CS + C1 as for LIPO (TATLIPO).
//       - Pilin (PILIN): P on the leader, CS on the 5 residues after it (conserved motif),
//         h from there to the last M residue (exclusive), then I/M/O as labelled.
//       - Mature part: each type has its own I, M, O states; labels I/M/O map to them.
//     Residues outside the Kyte-Doolittle table (X B U Z O) count 0 here; SignalP 6.0 would
//     raise (its data has none).
//  2. `regionPath`: ONE path per record, always allowed by the transition matrix and starting
//     in a start state (tested over every record of the shared training file). It is the
//     constrained Viterbi path, over the record's type's states, that maximises, in this order
//     (lexicographically, by integer weights):
//       a. the number of residues whose state is in SignalP 6.0's tag set,
//       b. the number of residues whose state's letter equals the label letter,
//       c. the Kyte-Doolittle sum over residues placed in an h state (so inside the range
//          SignalP 6.0 leaves open, the h-region is the most hydrophobic contiguous stretch),
//     remaining ties going to the lowest state index. When a path through the tag sets exists
//     (all records but 70 of 13,288 in partitions 0-1) the result is one of those paths.
//
// Known inconsistencies in SignalP 6.0 (why (a) is a maximum, not a constraint):
//   - Pilins: h is tagged up to, not including, the last M residue, which is tagged M only, but
//     h -> M (33 -> 35) is not an allowed transition (only h -> O). 62 of the 63 pilins in
//     partitions 0-1 have no allowed path through their tags.
//   - Tat: when the last RR lies in the c-region, the tags give n, RR, n, then c with no h, but
//     n -> c is not allowed. 8 of 254 TAT records in partitions 0-1.
//   - allowed_ends omits the Sec/SPI mature states 6, 7, 8, so every SP path would be
//     forbidden at its end. SignalP 6.0 survives all three because its constraints are soft
//     (disallowed scores start at -20 and are trainable). Here the end constraint is exported
//     (SIGNALP6_END_STATES) but NOT applied; transitions and starts are.
import { InputError, type Note } from '../../data/errors.js';
import { type SignalPRecord, type SpType, SP_TYPES, TYPE_LETTER } from '../../data/signalp.js';

export type RegionLetter = 'S' | 'L' | 'T' | 'P' | 'I' | 'M' | 'O';

export interface RegionState {
  index: number;
  /** SignalP 6.0's SP_REGION_VOCAB key */
  name: string;
  type: SpType;
  /** the 3-line letter a residue in this state is written with */
  letter: RegionLetter;
  /** region kind: n, h, c, rr (twin arginine), cs (conserved pre-cleavage), cys (+1 Cys), p (pilin leader), I, M, O */
  region: 'n' | 'h' | 'c' | 'rr' | 'cs' | 'cys' | 'p' | 'I' | 'M' | 'O';
  /** SignalP 6.0's plot legend */
  description: string;
}

// index: [name, type, letter, region, description]
// Letters: signal-peptide states take their type's letter (TATLIPO is written T in the data);
// the +1 Cys (C1) and the pilin motif (CS) are the first mature residues, written O; the pilin
// h-region is the hydrophobic N-terminal helix of the mature pilin, written M.
const TABLE: [string, SpType, RegionLetter, RegionState['region'], string][] = [
  ['NO_SP_I', 'NO_SP', 'I', 'I', 'Other I'],
  ['NO_SP_M', 'NO_SP', 'M', 'M', 'Other M'],
  ['NO_SP_O', 'NO_SP', 'O', 'O', 'Other O'],
  ['SP_N', 'SP', 'S', 'n', 'Sec/SPI n'],
  ['SP_H', 'SP', 'S', 'h', 'Sec/SPI h'],
  ['SP_C', 'SP', 'S', 'c', 'Sec/SPI c'],
  ['SP_I', 'SP', 'I', 'I', 'Sec/SPI I'],
  ['SP_M', 'SP', 'M', 'M', 'Sec/SPI M'],
  ['SP_O', 'SP', 'O', 'O', 'Sec/SPI O'],
  ['LIPO_N', 'LIPO', 'L', 'n', 'Sec/SPII n'],
  ['LIPO_H', 'LIPO', 'L', 'h', 'Sec/SPII h'],
  ['LIPO_CS', 'LIPO', 'L', 'cs', 'Sec/SPII c'],
  ['LIPO_C1', 'LIPO', 'O', 'cys', 'Sec/SPII cys'],
  ['LIPO_I', 'LIPO', 'I', 'I', 'Sec/SPII I'],
  ['LIPO_M', 'LIPO', 'M', 'M', 'Sec/SPII M'],
  ['LIPO_O', 'LIPO', 'O', 'O', 'Sec/SPII O'],
  ['TAT_N', 'TAT', 'T', 'n', 'Tat/SPI n'],
  ['TAT_RR', 'TAT', 'T', 'rr', 'Tat/SPI RR'],
  ['TAT_H', 'TAT', 'T', 'h', 'Tat/SPI h'],
  ['TAT_C', 'TAT', 'T', 'c', 'Tat/SPI c'],
  ['TAT_I', 'TAT', 'I', 'I', 'Tat/SPI I'],
  ['TAT_M', 'TAT', 'M', 'M', 'Tat/SPI M'],
  ['TAT_O', 'TAT', 'O', 'O', 'Tat/SPI O'],
  ['TATLIPO_N', 'TATLIPO', 'T', 'n', 'Tat/SPII n'],
  ['TATLIPO_RR', 'TATLIPO', 'T', 'rr', 'Tat/SPII RR'],
  ['TATLIPO_H', 'TATLIPO', 'T', 'h', 'Tat/SPII h'],
  ['TATLIPO_CS', 'TATLIPO', 'T', 'cs', 'Tat/SPII c'],
  ['TATLIPO_C1', 'TATLIPO', 'O', 'cys', 'Tat/SPII cys'],
  ['TATLIPO_I', 'TATLIPO', 'I', 'I', 'Tat/SPII I'],
  ['TATLIPO_M', 'TATLIPO', 'M', 'M', 'Tat/SPII M'],
  ['TATLIPO_O', 'TATLIPO', 'O', 'O', 'Tat/SPII O'],
  ['PILIN_P', 'PILIN', 'P', 'p', 'Sec/SPIII P'],
  ['PILIN_CS', 'PILIN', 'O', 'cs', 'Sec/SPIII cons.'],
  ['PILIN_H', 'PILIN', 'M', 'h', 'Sec/SPIII h'],
  ['PILIN_I', 'PILIN', 'I', 'I', 'Sec/SPIII I'],
  ['PILIN_M', 'PILIN', 'M', 'M', 'Sec/SPIII M'],
  ['PILIN_O', 'PILIN', 'O', 'O', 'Sec/SPIII O'],
];

export const NUM_REGION_STATES = 37;

export const REGION_STATES: readonly RegionState[] = Object.freeze(
  TABLE.map(([name, type, letter, region, description], index) => Object.freeze({ index, name, type, letter, region, description })),
);

/** State index by SignalP 6.0 name (SP_REGION_VOCAB). */
export const STATE: Readonly<Record<string, number>> = Object.freeze(Object.fromEntries(REGION_STATES.map((s) => [s.name, s.index])));

/** SignalP 6.0's allowed transitions (from, to), verbatim from train_model.py. */
export const ALLOWED_TRANSITION_LIST: readonly (readonly [number, number])[] = Object.freeze([
  // NO_SP: 0 I, 1 M, 2 O
  [0, 0], [0, 1], [1, 1], [1, 2], [1, 0], [2, 1], [2, 2],
  // SP: 3 N, 4 H, 5 C, 6 I, 7 M, 8 O
  [3, 3], [3, 4], [4, 4], [4, 5], [5, 5], [5, 8], [8, 8], [8, 7], [7, 7], [7, 6], [6, 6], [6, 7], [7, 8],
  // LIPO: 9 N, 10 H, 11 CS, 12 C1, 13 I, 14 M, 15 O
  [9, 9], [9, 10], [10, 10], [10, 11], [11, 11], [11, 12], [12, 15], [15, 15], [15, 14], [14, 14], [14, 13], [13, 13], [13, 14], [14, 15],
  // TAT: 16 N, 17 RR, 18 H, 19 C, 20 I, 21 M, 22 O
  [16, 16], [16, 17], [17, 17], [17, 16], [16, 18], [18, 18], [18, 19], [19, 19], [19, 22], [22, 22], [22, 21], [21, 21], [21, 20], [20, 20], [20, 21], [21, 22],
  // TATLIPO: 23 N, 24 RR, 25 H, 26 CS, 27 C1, 28 I, 29 M, 30 O
  [23, 23], [23, 24], [24, 24], [24, 23], [23, 25], [25, 25], [25, 26], [26, 26], [26, 27], [27, 30], [30, 30], [30, 29], [29, 29], [29, 28], [28, 28], [28, 29], [29, 30],
  // PILIN: 31 P, 32 CS, 33 H, 34 I, 35 M, 36 O
  [31, 31], [31, 32], [32, 32], [32, 33], [33, 33], [33, 36], [36, 36], [36, 35], [35, 35], [35, 34], [34, 34], [34, 35], [35, 36],
] as const);

/** allowed[from][to] as a 37x37 boolean matrix. */
export const ALLOWED_TRANSITIONS: readonly (readonly boolean[])[] = (() => {
  const m = Array.from({ length: NUM_REGION_STATES }, () => new Array<boolean>(NUM_REGION_STATES).fill(false));
  for (const [a, b] of ALLOWED_TRANSITION_LIST) m[a][b] = true;
  return Object.freeze(m.map((r) => Object.freeze(r)));
})();

/** Allowed first states (science.md / SignalP 6.0 allowed_starts). */
export const START_STATES: readonly number[] = Object.freeze([0, 2, 3, 9, 16, 23, 31]);

/** SignalP 6.0's allowed_ends, verbatim. Omits 6, 7, 8 (see the header); not applied here. */
export const SIGNALP6_END_STATES: readonly number[] = Object.freeze([0, 1, 2, 13, 14, 15, 20, 21, 22, 28, 29, 30, 34, 35, 36]);

/** States of each type, in SP_TYPES order (SignalP 6.0's SIGNALP6_CLASS_LABEL_MAP). */
export const TYPE_STATES: Readonly<Record<SpType, readonly number[]>> = Object.freeze({
  NO_SP: [0, 1, 2],
  SP: [3, 4, 5, 6, 7, 8],
  LIPO: [9, 10, 11, 12, 13, 14, 15],
  TAT: [16, 17, 18, 19, 20, 21, 22],
  TATLIPO: [23, 24, 25, 26, 27, 28, 29, 30],
  PILIN: [31, 32, 33, 34, 35, 36],
});

/** TYPE_STATES as a list in SP_TYPES index order. */
export const CLASS_STATE_MAP: readonly (readonly number[])[] = Object.freeze(SP_TYPES.map((t) => TYPE_STATES[t]));

/** Kyte & Doolittle (1982) hydropathy, SignalP 6.0's KYTE_DOOLITTE table. */
export const KYTE_DOOLITTLE: Readonly<Record<string, number>> = Object.freeze({
  I: 4.5, V: 4.2, L: 3.8, F: 2.8, C: 2.5, M: 1.9, A: 1.8, G: -0.4, T: -0.7, S: -0.8,
  W: -0.9, Y: -1.3, P: -1.6, H: -3.2, E: -3.5, Q: -3.5, D: -3.5, N: -3.5, K: -3.9, R: -4.5,
});

/** Kyte-Doolittle in tenths as exact integers (for the tie-break in `regionPath`). */
function kd10(res: string): number {
  const v = KYTE_DOOLITTLE[res];
  return v === undefined ? 0 : Math.round(v * 10);
}

const WINDOW = 7;

/**
 * SignalP 6.0's apply_sliding_hydrophobicity_window (window 7), reproduced exactly: the same
 * start positions, the same left-to-right float summation, first maximum wins, and the
 * returned "centre" is start + ceil(7/2) = start + 4.
 */
export function mostHydrophobicPosition(residues: string): number {
  let best = -100000000000000000;
  let pos = -1;
  const starts = residues.length > WINDOW ? residues.length - WINDOW : 1;
  for (let s = 0; s < starts; s++) {
    let score = 0;
    for (const r of residues.slice(s, s + WINDOW)) score += KYTE_DOOLITTLE[r] ?? 0;
    if (score > best) {
      best = score;
      pos = s + Math.ceil(WINDOW / 2);
    }
  }
  return pos;
}

/** SignalP 6.0's find_twin_arginine: [start, end] of the last RR, else last KR, else around the last R. */
export function findTwinArginine(sp: string): [number, number] {
  let start = sp.lastIndexOf('RR');
  let end = start + 1;
  if (start === -1) {
    start = sp.lastIndexOf('KR');
    end = start + 1;
  }
  if (start === -1) {
    const r = sp.lastIndexOf('R');
    start = r - 1;
    end = r + 1;
  }
  return [start, end];
}

/** Python slice bounds [a:b] on a sequence of length n (negative indices wrap, then clamp). */
function pySlice(a: number | undefined, b: number | undefined, n: number): [number, number] {
  const norm = (x: number | undefined, dflt: number) => {
    if (x === undefined) return dflt;
    if (x < 0) x += n;
    return Math.min(Math.max(x, 0), n);
  };
  return [norm(a, 0), norm(b, n)];
}

/** Python single index (negative wraps); out of range throws like Python's IndexError. */
function pyIndex(i: number, n: number): number {
  const j = i < 0 ? i + n : i;
  if (j < 0 || j >= n) throw new RangeError(`index ${i} is out of range for length ${n}`);
  return j;
}

/**
 * SignalP 6.0's region tag sets (process_SP with stochastic_n_region_len=False), as a row-major
 * [length x 37] 0/1 matrix. Throws RangeError where SignalP 6.0 itself would fail (no residue
 * after a lipoprotein SP, a pilin without an M residue, a residue left without any state).
 */
export function signalp6TagSets(sequence: string, labels: string, type: SpType): Uint8Array {
  const n = labels.length;
  if (sequence.length !== n) throw new RangeError(`sequence has ${sequence.length} residues, labels ${n}`);
  const T = NUM_REGION_STATES;
  const tags = new Uint8Array(n * T);
  const setRange = (a: number | undefined, b: number | undefined, state: number) => {
    const [lo, hi] = pySlice(a, b, n);
    for (let i = lo; i < hi; i++) tags[i * T + state] = 1;
  };
  const setAt = (i: number, state: number) => {
    tags[pyIndex(i, n) * T + state] = 1;
  };
  const clearRow = (i: number) => {
    const j = pyIndex(i, n);
    tags.fill(0, j * T, (j + 1) * T);
  };
  const byLetter = (iState: number, mState: number, oState: number) => {
    for (let i = 0; i < n; i++) {
      const c = labels[i];
      if (c === 'I') tags[i * T + iState] = 1;
      else if (c === 'M') tags[i * T + mState] = 1;
      else if (c === 'O') tags[i * T + oState] = 1;
    }
  };
  const token = type === 'NO_SP' ? 'I' : TYPE_LETTER[type]!;
  const last = labels.lastIndexOf(token);
  const sp = sequence.slice(0, last + 1);
  const hp = mostHydrophobicPosition(sp);

  switch (type) {
    case 'NO_SP':
      byLetter(0, 1, 2);
      break;
    case 'SP': {
      byLetter(6, 7, 8);
      let hEnd = last - 2; // the last 3 SP residues are always c
      if (hEnd <= hp) hEnd = hp + 1; // very short SPs: keep hp in h
      setRange(undefined, hp, 3);
      setRange(2, hEnd, 4);
      setRange(hp + 1, last + 1, 5);
      break;
    }
    case 'LIPO':
      byLetter(13, 14, 15);
      setRange(undefined, hp, 9);
      setRange(2, last - 1, 10);
      setRange(last - 1, last + 1, 11);
      clearRow(last + 1);
      setAt(last + 1, 12);
      break;
    case 'TAT':
    case 'TATLIPO': {
      const lipo = type === 'TATLIPO';
      const [N, RR, H] = lipo ? [23, 24, 25] : [16, 17, 18];
      if (lipo) byLetter(28, 29, 30);
      else byLetter(20, 21, 22);
      const [rr] = findTwinArginine(sequence.slice(0, last + 1));
      setRange(undefined, rr, N);
      setRange(rr, rr + 2, RR);
      setAt(rr + 2, N); // the residue after the motif is n
      setRange(rr + 3, last - 1, H);
      if (lipo) {
        setRange(last - 1, last + 1, 26);
        clearRow(last + 1);
        setAt(last + 1, 27);
      } else {
        setRange(hp + 1, last + 1, 19);
      }
      break;
    }
    case 'PILIN': {
      const motifEnd = last + 6; // the 5 residues after the leader are a conserved motif
      setRange(undefined, last + 1, 31);
      setRange(last + 1, motifEnd, 32);
      byLetter(34, 35, 36);
      const lastM = labels.lastIndexOf('M');
      if (lastM < 0) throw new RangeError('pilin labels have no M residue (SignalP 6.0 takes the h-region end from the last M)');
      setRange(motifEnd, lastM, 33);
      break;
    }
  }
  for (let i = 0; i < n; i++) {
    let any = 0;
    for (let s = 0; s < T; s++) any |= tags[i * T + s];
    if (!any) throw new RangeError(`residue ${i + 1} has no region state (SignalP 6.0's labelling fails here)`);
  }
  return tags;
}

/** Does the path start in a start state and use only allowed transitions? First bad position (0-based) or -1. */
export function firstDisallowed(path: ArrayLike<number>): number {
  if (path.length === 0) return -1;
  if (!START_STATES.includes(path[0])) return 0;
  for (let i = 1; i < path.length; i++) if (!ALLOWED_TRANSITIONS[path[i - 1]][path[i]]) return i;
  return -1;
}

/** Is there a path through the tag sets that starts in a start state and uses only allowed transitions? */
export function tagSetsFeasible(tags: Uint8Array, length: number): boolean {
  const T = NUM_REGION_STATES;
  let reach = new Uint8Array(T);
  for (const s of START_STATES) reach[s] = tags[s];
  for (let i = 1; i < length; i++) {
    const next = new Uint8Array(T);
    for (const [a, b] of ALLOWED_TRANSITION_LIST) if (reach[a] && tags[i * T + b]) next[b] = 1;
    reach = next;
  }
  return reach.some((x) => x === 1);
}

export interface RegionPath {
  /** one state index per residue */
  path: Uint8Array;
  /** residues whose state is outside SignalP 6.0's tag set (0 when a path through the tags exists) */
  tagDisagreements: number;
  /** residues whose state's letter differs from the label letter */
  letterDisagreements: number;
}

/**
 * The deterministic region path of a labelled record (see the header): constrained Viterbi over
 * the type's states maximising tag agreement, then letter agreement, then the Kyte-Doolittle
 * sum of the h-region. `tags` = SignalP 6.0's tag sets, or null to skip tier (a).
 */
export function regionPath(sequence: string, labels: string, type: SpType, tags: Uint8Array | null): RegionPath {
  const n = labels.length;
  if (sequence.length !== n) throw new RangeError(`sequence has ${sequence.length} residues, labels ${n}`);
  if (n === 0) return { path: new Uint8Array(0), tagDisagreements: 0, letterDisagreements: 0 };
  const T = NUM_REGION_STATES;
  const states = TYPE_STATES[type];
  const k = states.length;
  // Integer weights make the three tiers lexicographic and every score exact in float64.
  const w2 = 2 * 45 * n + 1; // > any difference of Kyte-Doolittle sums (|kd10| <= 45)
  const w1 = (n + 1) * w2; // > any difference of letter counts plus KD sums
  const isH = states.map((s) => REGION_STATES[s].region === 'h');
  const emit = (i: number, j: number) => {
    const s = states[j];
    let v = 0;
    if (tags && tags[i * T + s]) v += w1;
    if (REGION_STATES[s].letter === labels[i]) v += w2;
    if (isH[j]) v += kd10(sequence[i]);
    return v;
  };
  const NEG = -Infinity;
  let score = new Float64Array(k).fill(NEG);
  const back = new Int8Array(n * k).fill(-1);
  for (let j = 0; j < k; j++) if (START_STATES.includes(states[j])) score[j] = emit(0, j);
  for (let i = 1; i < n; i++) {
    const next = new Float64Array(k).fill(NEG);
    for (let j = 0; j < k; j++) {
      let best = NEG;
      let arg = -1;
      for (let p = 0; p < k; p++) {
        if (score[p] === NEG || !ALLOWED_TRANSITIONS[states[p]][states[j]]) continue;
        if (score[p] > best) {
          best = score[p];
          arg = p;
        }
      }
      if (arg >= 0) {
        next[j] = best + emit(i, j);
        back[i * k + j] = arg;
      }
    }
    score = next;
  }
  let end = -1;
  for (let j = 0; j < k; j++) if (score[j] !== NEG && (end < 0 || score[j] > score[end])) end = j;
  if (end < 0) throw new RangeError(`no allowed ${type} path of length ${n}`);
  const local = new Int8Array(n);
  local[n - 1] = end;
  for (let i = n - 1; i > 0; i--) local[i - 1] = back[i * k + local[i]];
  const path = new Uint8Array(n);
  let tagDisagreements = 0;
  let letterDisagreements = 0;
  for (let i = 0; i < n; i++) {
    const s = states[local[i]];
    path[i] = s;
    if (tags && !tags[i * T + s]) tagDisagreements++;
    if (REGION_STATES[s].letter !== labels[i]) letterDisagreements++;
  }
  return { path, tagDisagreements, letterDisagreements };
}

export interface DerivedRegions {
  /** SignalP 6.0's tag sets [length x 37], or null where its labelling fails on this record */
  tags: Uint8Array | null;
  /** whether an allowed path through `tags` exists (false when tags is null) */
  tagsFeasible: boolean;
  path: Uint8Array;
  tagDisagreements: number;
  letterDisagreements: number;
  /** warnings about this record (tags infeasible or failing, letters changed) */
  notes: Note[];
}

/** Region tags and path of a labelled SignalP record; an unlabelled record is an InputError. */
export function deriveRegions(rec: SignalPRecord): DerivedRegions {
  if (rec.labels === null) throw new InputError('record has no label line; region states need labels', rec.loc);
  const notes: Note[] = [];
  let tags: Uint8Array | null = null;
  try {
    tags = signalp6TagSets(rec.sequence, rec.labels, rec.type);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    notes.push({ kind: 'warning', message: `SignalP 6.0's region labelling fails on this record (${e.message}); path derived from the letters`, loc: rec.loc });
  }
  const feasible = tags !== null && tagSetsFeasible(tags, rec.labels.length);
  const r = regionPath(rec.sequence, rec.labels, rec.type, tags);
  if (tags !== null && !feasible) {
    notes.push({
      kind: 'warning',
      message: `no path allowed by SignalP 6.0's transitions fits its region tags; the derived path departs from them at ${r.tagDisagreements} residue(s)`,
      loc: rec.loc,
    });
  }
  if (r.letterDisagreements > 0) {
    notes.push({ kind: 'warning', message: `the derived region path's letters differ from the label line at ${r.letterDisagreements} residue(s)`, loc: rec.loc });
  }
  return { tags, tagsFeasible: feasible, path: r.path, tagDisagreements: r.tagDisagreements, letterDisagreements: r.letterDisagreements, notes };
}

/**
 * Training target for a multi-tag CRF likelihood: SignalP 6.0's tag sets where an allowed path
 * runs through them, otherwise the one-hot derived path (so a hard-constrained CRF never gets
 * an impossible target). `exact` says which one was used.
 */
export function trainingTagSets(d: DerivedRegions): { tags: Uint8Array; exact: boolean } {
  if (d.tags !== null && d.tagsFeasible) return { tags: d.tags, exact: true };
  const n = d.path.length;
  const t = new Uint8Array(n * NUM_REGION_STATES);
  for (let i = 0; i < n; i++) t[i * NUM_REGION_STATES + d.path[i]] = 1;
  return { tags: t, exact: false };
}

/** 3-line letters of a state path. */
export function pathLetters(path: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < path.length; i++) s += REGION_STATES[path[i]].letter;
  return s;
}

/** Type of a path = type of its first state (an allowed path never changes type). */
export function pathType(path: ArrayLike<number>): SpType | null {
  return path.length === 0 ? null : REGION_STATES[path[0]].type;
}

/**
 * Cleavage site of a path: 1-based index of the last residue of the leading run of
 * signal-peptide states (letters S L T P), null if the path does not start with one. On an
 * allowed path this is the last SP_C / LIPO_CS / TAT_C / TATLIPO_CS / PILIN_P residue, which is
 * SignalP 6.0's definition (states 5, 11, 19, 26, 31 in train_model.py).
 */
export function cleavageSiteOfPath(path: ArrayLike<number>): number | null {
  let k = 0;
  while (k < path.length && 'SLTP'.includes(REGION_STATES[path[k]].letter)) k++;
  return k === 0 ? null : k;
}
