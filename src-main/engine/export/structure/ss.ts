// Helix and strand segments on the chain from a predicted 3-state string (H helix, E strand,
// C coil, one letter per position of the predicted sequence). Each chain residue takes the
// state of the sequence position it is mapped to; residues without one are coil. A segment
// never runs across a chain break or across sequence positions missing from the chain, so
// every segment names residues that exist and are contiguous in the coordinates. Segments
// shorter than a real element (a helix needs 3 residues, a 3-10 helix being the shortest; a strand
// 2) are left as coil: a one-residue HELIX or SHEET record describes nothing a viewer can draw.
import type { ChainMapping } from './mapping.js';

export interface SsSegment {
  kind: 'H' | 'E';
  /** first and last chain residue index (inclusive) */
  from: number;
  to: number;
}

/** Normalise and check an SS3 string: H/E/C only (any case), one per sequence position. */
export function parseSs3(ss3: string, length: number): string {
  const s = ss3.replace(/\s+/g, '').toUpperCase();
  const bad = s.search(/[^HEC]/);
  if (bad >= 0) throw new RangeError(`secondary structure string: '${s[bad]}' at position ${bad + 1} is not H, E or C`);
  if (s.length !== length) throw new RangeError(`secondary structure string has ${s.length} states for ${length} sequence positions`);
  return s;
}

/** Shortest helix and strand written as records. */
export const MIN_SEGMENT: Readonly<Record<'H' | 'E', number>> = Object.freeze({ H: 3, E: 2 });

export function ssSegments(ss3: string, mapping: ChainMapping, breakAfter: readonly boolean[]): SsSegment[] {
  const state = mapping.positionOfResidue.map((p) => (p >= 0 ? ss3[p]! : 'C'));
  const out: SsSegment[] = [];
  let cur: SsSegment | undefined;
  for (let k = 0; k < state.length; k++) {
    const s = state[k]!;
    const joined =
      cur !== undefined &&
      cur.kind === s &&
      !breakAfter[k - 1] &&
      mapping.positionOfResidue[k] === mapping.positionOfResidue[k - 1]! + 1;
    if (joined) cur!.to = k;
    else if (s === 'H' || s === 'E') out.push((cur = { kind: s, from: k, to: k }));
    else cur = undefined;
  }
  return out.filter((g) => g.to - g.from + 1 >= MIN_SEGMENT[g.kind]);
}
