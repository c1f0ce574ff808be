// Global alignment of a predicted sequence (a) to a structure chain (b): Needleman-Wunsch with
// affine gaps (Gotoh), BLOSUM62, gap open 10 / extend 0.5 and end gaps free -- the defaults of
// EMBOSS needle, the usual tool for this job. End gaps are free because tags, signal peptides
// and disordered termini missing from the coordinates are the normal case, not a penalty.
//
// One addition: opening a gap in the chain (sequence residues with no coordinates) costs only
// `extend` where the chain is physically broken (see chainBreaks). Missing loops then land
// exactly at the break, instead of anywhere among equal-scoring positions when the residues
// around the gap repeat (e.g. deleting one G of "GG").

// NCBI BLOSUM62 (1/2-bit units), order below; U, O, J and anything unknown score as X.
const ORDER = 'ARNDCQEGHILKMFPSTWYVBZX*';
const B62 = [
  [4, -1, -2, -2, 0, -1, -1, 0, -2, -1, -1, -1, -1, -2, -1, 1, 0, -3, -2, 0, -2, -1, 0, -4],
  [-1, 5, 0, -2, -3, 1, 0, -2, 0, -3, -2, 2, -1, -3, -2, -1, -1, -3, -2, -3, -1, 0, -1, -4],
  [-2, 0, 6, 1, -3, 0, 0, 0, 1, -3, -3, 0, -2, -3, -2, 1, 0, -4, -2, -3, 3, 0, -1, -4],
  [-2, -2, 1, 6, -3, 0, 2, -1, -1, -3, -4, -1, -3, -3, -1, 0, -1, -4, -3, -3, 4, 1, -1, -4],
  [0, -3, -3, -3, 9, -3, -4, -3, -3, -1, -1, -3, -1, -2, -3, -1, -1, -2, -2, -1, -3, -3, -2, -4],
  [-1, 1, 0, 0, -3, 5, 2, -2, 0, -3, -2, 1, 0, -3, -1, 0, -1, -2, -1, -2, 0, 3, -1, -4],
  [-1, 0, 0, 2, -4, 2, 5, -2, 0, -3, -3, 1, -2, -3, -1, 0, -1, -3, -2, -2, 1, 4, -1, -4],
  [0, -2, 0, -1, -3, -2, -2, 6, -2, -4, -4, -2, -3, -3, -2, 0, -2, -2, -3, -3, -1, -2, -1, -4],
  [-2, 0, 1, -1, -3, 0, 0, -2, 8, -3, -3, -1, -2, -1, -2, -1, -2, -2, 2, -3, 0, 0, -1, -4],
  [-1, -3, -3, -3, -1, -3, -3, -4, -3, 4, 2, -3, 1, 0, -3, -2, -1, -3, -1, 3, -3, -3, -1, -4],
  [-1, -2, -3, -4, -1, -2, -3, -4, -3, 2, 4, -2, 2, 0, -3, -2, -1, -2, -1, 1, -4, -3, -1, -4],
  [-1, 2, 0, -1, -3, 1, 1, -2, -1, -3, -2, 5, -1, -3, -1, 0, -1, -3, -2, -2, 0, 1, -1, -4],
  [-1, -1, -2, -3, -1, 0, -2, -3, -2, 1, 2, -1, 5, 0, -2, -1, -1, -1, -1, 1, -3, -1, -1, -4],
  [-2, -3, -3, -3, -2, -3, -3, -3, -1, 0, 0, -3, 0, 6, -4, -2, -2, 1, 3, -1, -3, -3, -1, -4],
  [-1, -2, -2, -1, -3, -1, -1, -2, -2, -3, -3, -1, -2, -4, 7, -1, -1, -4, -3, -2, -2, -1, -2, -4],
  [1, -1, 1, 0, -1, 0, 0, 0, -1, -2, -2, 0, -1, -2, -1, 4, 1, -3, -2, -2, 0, 0, 0, -4],
  [0, -1, 0, -1, -1, -1, -1, -2, -2, -1, -1, -1, -1, -2, -1, 1, 5, -2, -2, 0, -1, -1, 0, -4],
  [-3, -3, -4, -4, -2, -2, -3, -2, -2, -3, -2, -3, -1, 1, -4, -3, -2, 11, 2, -3, -4, -3, -2, -4],
  [-2, -2, -2, -3, -2, -1, -2, -3, 2, -1, -1, -2, -1, 3, -3, -2, -2, 2, 7, -1, -3, -2, -1, -4],
  [0, -3, -3, -3, -1, -2, -2, -3, -3, 3, 1, -2, 1, -1, -2, -2, 0, -3, -1, 4, -3, -2, -1, -4],
  [-2, -1, 3, 4, -3, 0, 1, -1, 0, -3, -4, 0, -3, -3, -2, 0, -1, -4, -3, -3, 4, 1, -1, -4],
  [-1, 0, 0, 1, -3, 3, 4, -2, 0, -3, -3, 1, -1, -3, -1, 0, -1, -3, -2, -2, 1, 4, -1, -4],
  [0, -1, -1, -1, -2, -1, -1, -1, -1, -1, -1, -1, -1, -1, -2, 0, 0, -2, -1, -1, -1, -1, -1, -4],
  [-4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, 1],
];

const X_INDEX = ORDER.indexOf('X');
const letterIndex = (c: string) => {
  const k = ORDER.indexOf(c.toUpperCase());
  return k < 0 ? X_INDEX : k;
};

export function blosum62(a: string, b: string): number {
  return B62[letterIndex(a)]![letterIndex(b)]!;
}

export const GAP_OPEN = 10;
export const GAP_EXTEND = 0.5;

/** One alignment column: a position in each sequence (0-based), or -1 for a gap. */
export interface Column {
  a: number;
  b: number;
}

export interface Alignment {
  columns: Column[];
  score: number;
}

const NEG = -1e30;
// traceback: 2 bits per state, the state the best predecessor was in
const FROM_M = 0, FROM_X = 1, FROM_Y = 2;

/**
 * Align a (rows) with b (columns). `breakAfterB[j]` true means chain residue j and j+1 are not
 * joined, so a run of a-residues placed between them costs only `extend` per residue.
 */
export function alignGlobal(a: string, b: string, breakAfterB?: readonly boolean[]): Alignment {
  const n = a.length, m = b.length;
  if (n === 0 || m === 0) return { columns: padEnds([], n, m, 0, 0), score: 0 };
  const ai = Array.from(a, letterIndex), bi = Array.from(b, letterIndex);
  const W = m + 1;
  const trace = new Uint8Array((n + 1) * W);
  // rolling rows of the three states: M (a_i with b_j), X (a_i against a gap), Y (b_j against a gap)
  let pM = new Float64Array(W).fill(NEG), pX = new Float64Array(W).fill(NEG), pY = new Float64Array(W).fill(NEG);
  let cM = new Float64Array(W), cX = new Float64Array(W), cY = new Float64Array(W);
  pM[0] = 0;
  for (let j = 1; j <= m; j++) pY[j] = 0; // leading chain residues without sequence: free
  let best = NEG, bestI = 0, bestJ = m, bestState = FROM_Y;
  const consider = (v: number, i: number, j: number, s: number) => {
    if (v > best) (best = v), (bestI = i), (bestJ = j), (bestState = s);
  };
  for (let i = 1; i <= n; i++) {
    cM[0] = NEG;
    cX[0] = 0; // leading sequence residues before the chain: free
    cY[0] = NEG;
    const row = B62[ai[i - 1]!]!;
    for (let j = 1; j <= m; j++) {
      let t = 0;
      // M: diagonal from any state
      let v = pM[j - 1]!, s = FROM_M;
      if (pX[j - 1]! > v) (v = pX[j - 1]!), (s = FROM_X);
      if (pY[j - 1]! > v) (v = pY[j - 1]!), (s = FROM_Y);
      cM[j] = v + row[bi[j - 1]!]!;
      t |= s;
      // X: a_i unaligned, sitting after chain residue j (between b_j and b_j+1)
      const open = j < m && breakAfterB?.[j - 1] ? GAP_EXTEND : GAP_OPEN;
      v = pM[j]! - open;
      s = FROM_M;
      if (pX[j]! - GAP_EXTEND > v) (v = pX[j]! - GAP_EXTEND), (s = FROM_X);
      if (pY[j]! - open > v) (v = pY[j]! - open), (s = FROM_Y);
      cX[j] = v;
      t |= s << 2;
      // Y: b_j unaligned
      v = cM[j - 1]! - GAP_OPEN;
      s = FROM_M;
      if (cX[j - 1]! - GAP_OPEN > v) (v = cX[j - 1]! - GAP_OPEN), (s = FROM_X);
      if (cY[j - 1]! - GAP_EXTEND > v) (v = cY[j - 1]! - GAP_EXTEND), (s = FROM_Y);
      cY[j] = v;
      t |= s << 4;
      trace[i * W + j] = t;
    }
    // trailing chain residues after the last sequence residue (i = n), or trailing sequence
    // residues after the last chain residue (j = m), are free: any such cell can end the alignment
    if (i === n) for (let j = 1; j <= m; j++) consider(cM[j]!, i, j, FROM_M), consider(cX[j]!, i, j, FROM_X), consider(cY[j]!, i, j, FROM_Y);
    else consider(cM[m]!, i, m, FROM_M), consider(cX[m]!, i, m, FROM_X), consider(cY[m]!, i, m, FROM_Y);
    [pM, cM] = [cM, pM];
    [pX, cX] = [cX, pX];
    [pY, cY] = [cY, pY];
  }
  // traceback from the best end cell
  const rev: Column[] = [];
  let i = bestI, j = bestJ, state = bestState;
  while (i > 0 && j > 0) {
    const t = trace[i * W + j]!;
    if (state === FROM_M) {
      rev.push({ a: i - 1, b: j - 1 });
      state = t & 3;
      i--, j--;
    } else if (state === FROM_X) {
      rev.push({ a: i - 1, b: -1 });
      state = (t >> 2) & 3;
      i--;
    } else {
      rev.push({ a: -1, b: j - 1 });
      state = (t >> 4) & 3;
      j--;
    }
  }
  const core = rev.reverse();
  return { columns: padEnds(core, i, j, n - bestI, m - bestJ, bestI, bestJ), score: best };
}

/** Add the free leading (lead residues of a / b) and trailing gaps around the aligned core. */
function padEnds(core: Column[], leadA: number, leadB: number, tailA: number, tailB: number, endA = 0, endB = 0): Column[] {
  const out: Column[] = [];
  for (let k = 0; k < leadA; k++) out.push({ a: k, b: -1 });
  for (let k = 0; k < leadB; k++) out.push({ a: -1, b: k });
  out.push(...core);
  for (let k = 0; k < tailA; k++) out.push({ a: endA + k, b: -1 });
  for (let k = 0; k < tailB; k++) out.push({ a: -1, b: endB + k });
  return out;
}
