// Secondary-structure labels, stated once for every parser, trainer and metric.
//
// SS8 = the 8 DSSP states, in this index order: G H I B E S T C
//   (G 3-10 helix, H alpha helix, I pi helix, B isolated bridge, E strand, S bend, T turn,
//    C coil). Coil is written L, C, '-' or ' ' by different tools; all four mean C.
// P (polyproline II, assigned by DSSP >= 4) is not one of the 8 states. Convention (selectable,
//   and always reported with a result through `describeSsConvention`):
//     'coil' (default): P -> C, in SS8 and therefore in SS3 (science.md: "others -> C");
//     'mask': residues labelled P are not scored.
//   NB: the LIFT_SS code itself keeps P as a 9th class and maps P -> H for 3 states
//   (datasets/dataset.py), so numbers on P-containing sets are not directly comparable with
//   the ones that code prints.
// X = unresolved / unknown: masked, never scored (whatever the convention).
// SS3 = H E C, in this index order: {G,H,I} -> H, {B,E} -> E, everything else -> C.
//
// Decoded labels are Int8Array with -1 at masked residues, plus a Uint8Array mask (1 = scored),
// so a consumer never has to know which letter meant "unscored".

export const SS8_STATES = 'GHIBESTC';
export const SS3_STATES = 'HEC';
export const SS8_C = 7;
export const SS3_C = 2;

/** SS8 index -> SS3 index ({G,H,I}->H, {B,E}->E, others->C). */
export const SS8_TO_SS3: Readonly<Int8Array> = Int8Array.from([0, 0, 0, 1, 1, 2, 2, 2]);

export type PolyprolineConvention = 'coil' | 'mask';

export interface SsConvention {
  polyproline: PolyprolineConvention;
}

export const DEFAULT_SS_CONVENTION: Readonly<SsConvention> = Object.freeze({ polyproline: 'coil' });

/** One line that goes into every result computed on SS labels. */
export function describeSsConvention(c: SsConvention = DEFAULT_SS_CONVENTION): string {
  const p = c.polyproline === 'coil' ? 'P (PPII) -> C' : 'P (PPII) residues masked';
  return `SS8 = DSSP G H I B E S T C (coil written L/C/-/space -> C); ${p}; X masked; SS3: {G,H,I}->H, {B,E}->E, others->C`;
}

const MASKED = -1;
const UNKNOWN = -2;
const P_MARK = -3;

// ASCII -> SS8 index, MASKED for X, P_MARK for P, UNKNOWN otherwise.
const SS8_CODE = new Int8Array(128).fill(UNKNOWN);
for (let i = 0; i < SS8_STATES.length; i++) SS8_CODE[SS8_STATES.charCodeAt(i)] = i;
for (const c of 'L- ') SS8_CODE[c.charCodeAt(0)] = SS8_C;
SS8_CODE['X'.charCodeAt(0)] = MASKED;
SS8_CODE['P'.charCodeAt(0)] = P_MARK;

// ASCII -> SS3 index for 3-state label strings: H E C, coil synonyms L - space, X masked.
// DSSP 8-state letters (G, I, B, S, T) are NOT accepted in a 3-state string: seeing them means
// the column holds 8-state labels and the file was read with the wrong format.
const SS3_CODE = new Int8Array(128).fill(UNKNOWN);
for (let i = 0; i < SS3_STATES.length; i++) SS3_CODE[SS3_STATES.charCodeAt(i)] = i;
for (const c of 'L- ') SS3_CODE[c.charCodeAt(0)] = SS3_C;
SS3_CODE['X'.charCodeAt(0)] = MASKED;

/** Whether a character code is an 8-state label letter (including coil synonyms, P and X). */
export const isSs8Label = (code: number): boolean => code < 128 && SS8_CODE[code] !== UNKNOWN;
/** Whether a character code is a 3-state label letter (H E C, coil synonyms, X). */
export const isSs3Label = (code: number): boolean => code < 128 && SS3_CODE[code] !== UNKNOWN;

export interface DecodedSs {
  /** SS8 index per residue, -1 where masked; null when the source had only 3 states */
  ss8: Int8Array | null;
  /** SS3 index per residue, -1 where masked */
  ss3: Int8Array;
  /** 1 = scored, 0 = masked */
  mask: Uint8Array;
  /** how many residues were labelled P, X (so a result can say what its convention touched) */
  countP: number;
  countX: number;
}

export type DecodeResult = { ok: true; labels: DecodedSs } | { ok: false; offset: number; char: string };

/** Decode an 8-state DSSP label string. Fails at the first letter outside the alphabet. */
export function decodeSs8(labels: string, conv: SsConvention = DEFAULT_SS_CONVENTION): DecodeResult {
  const n = labels.length;
  const ss8 = new Int8Array(n);
  const ss3 = new Int8Array(n);
  const mask = new Uint8Array(n);
  let countP = 0;
  let countX = 0;
  for (let i = 0; i < n; i++) {
    const c = labels.charCodeAt(i);
    let k = c < 128 ? SS8_CODE[c] : UNKNOWN;
    if (k === UNKNOWN) return { ok: false, offset: i, char: labels[i] };
    if (k === P_MARK) {
      countP++;
      k = conv.polyproline === 'coil' ? SS8_C : MASKED;
    } else if (k === MASKED) countX++;
    if (k === MASKED) {
      ss8[i] = MASKED;
      ss3[i] = MASKED;
    } else {
      ss8[i] = k;
      ss3[i] = SS8_TO_SS3[k];
      mask[i] = 1;
    }
  }
  return { ok: true, labels: { ss8, ss3, mask, countP, countX } };
}

/** Decode a 3-state label string (H E C; L - space = C; X masked). */
export function decodeSs3(labels: string): DecodeResult {
  const n = labels.length;
  const ss3 = new Int8Array(n);
  const mask = new Uint8Array(n);
  let countX = 0;
  for (let i = 0; i < n; i++) {
    const c = labels.charCodeAt(i);
    const k = c < 128 ? SS3_CODE[c] : UNKNOWN;
    if (k === UNKNOWN) return { ok: false, offset: i, char: labels[i] };
    ss3[i] = k;
    if (k === MASKED) countX++;
    else mask[i] = 1;
  }
  return { ok: true, labels: { ss8: null, ss3, mask, countP: 0, countX } };
}

/**
 * Apply an extra mask (e.g. FLIP's resolved column, NetSurfP's disorder column): residues with
 * extra[i] === 0 become masked (-1) in every label array. Modifies `d` in place and returns it.
 */
export function applyMask(d: DecodedSs, extra: ArrayLike<number>): DecodedSs {
  for (let i = 0; i < d.mask.length; i++) {
    if (extra[i] === 0) {
      d.mask[i] = 0;
      d.ss3[i] = MASKED;
      if (d.ss8) d.ss8[i] = MASKED;
    }
  }
  return d;
}

/** Label string for display/export: state letters, '-' where masked. */
export function encodeSs(labels: ArrayLike<number>, states: string): string {
  let s = '';
  for (let i = 0; i < labels.length; i++) s += labels[i] < 0 ? '-' : states[labels[i]];
  return s;
}

/** A secondary-structure record as every SS parser returns it. */
export interface SsRecord {
  id: string;
  /** uppercase residues (ESM alphabet) */
  sequence: string;
  /** SS8 per residue (-1 masked); null for 3-state-only sources (FLIP) */
  ss8: Int8Array | null;
  /** SS3 per residue (-1 masked) */
  ss3: Int8Array;
  /** 1 = scored: resolved, not X, not excluded by the source's own masks or the P convention */
  mask: Uint8Array;
  /** file, record id, line of the record's header (or CSV row) */
  loc: { file: string; record: string; line: number };
}

/** What a parse of an SS file says about its labels, for the result header. */
export interface SsSummary {
  convention: string;
  residues: number;
  scored: number;
  countP: number;
  countX: number;
}

export function summariseSs(records: SsRecord[], counts: { countP: number; countX: number }, conv: SsConvention): SsSummary {
  let residues = 0;
  let scored = 0;
  for (const r of records) {
    residues += r.mask.length;
    for (let i = 0; i < r.mask.length; i++) scored += r.mask[i];
  }
  return { convention: describeSsConvention(conv), residues, scored, countP: counts.countP, countX: counts.countX };
}
