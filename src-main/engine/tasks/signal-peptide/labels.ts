// SignalP records as training items for the signal-peptide head.
//
// Input length: the models read the first SP_MAX_LENGTH = 70 residues (SignalP 6.0, PEFT-SP).
// A longer sequence is cut to its first 70 residues (labels too) and a note says so; the true
// cleavage site of a record is always inside them in SignalP data.
//
// The trainer hands a head only `labels: Int32Array` per sequence, so everything the head and
// the metrics need per residue is packed into one non-negative integer (-1 = nothing known):
//   bits 0-7    allowed region states at this residue, as a bit set over the record's type's
//               states (bit k <-> TYPE_STATES[type][k]; at most 8 states per type); 0 = unscored
//   bits 8-10   the record's SP type (SP_TYPES index)
//   bit  11     the label letter is a signal-peptide letter (S L T P): the leading run of this
//               bit gives the TRUE cleavage site exactly as science.md defines it
//   bits 12-14  kingdom index + 1 (KINGDOMS order), 0 = unknown
// The allowed states are SignalP 6.0's multi-tag sets where an allowed path runs through them,
// otherwise the record's one derived region path (regions.ts trainingTagSets; noted).
import { type Note } from '../../data/errors.js';
import { KINGDOMS, type Kingdom, type SignalPRecord, SP_TYPES, type SpType } from '../../data/signalp.js';
import type { LabelledSequence } from '../../train/trainer.js';
import { NUM_REGION_STATES, TYPE_STATES, deriveRegions, trainingTagSets } from './regions.js';

export const SP_MAX_LENGTH = 70;

const MASK_BITS = 0xff;
const SP_LETTER_BIT = 1 << 11;

/** A labelled sequence of the SP task; the extra fields repeat what `labels` encodes. */
export interface SpLabelledSequence extends LabelledSequence {
  kingdom: Kingdom | null;
  type: SpType | null;
  cleavageSite: number | null;
  /** residues the record had before the cut to SP_MAX_LENGTH */
  originalLength: number;
}

export function encodeResidue(kingdom: Kingdom | null, type: SpType, stateMask: number, spLetter: boolean): number {
  const k = kingdom === null ? 0 : KINGDOMS.indexOf(kingdom) + 1;
  return (k << 12) | (spLetter ? SP_LETTER_BIT : 0) | (SP_TYPES.indexOf(type) << 8) | (stateMask & MASK_BITS);
}

/** Labels of a sequence whose kingdom is known but nothing is scored (prediction). */
export function kingdomOnlyLabels(length: number, kingdom: Kingdom | null): Int32Array {
  return new Int32Array(length).fill(kingdom === null ? -1 : encodeResidue(kingdom, 'NO_SP', 0, false));
}

export function kingdomOf(labels: ArrayLike<number>): Kingdom | null {
  if (labels.length === 0 || labels[0] < 0) return null;
  const k = (labels[0] >> 12) & 7;
  return k === 0 ? null : KINGDOMS[k - 1];
}

/** SP type of a labelled sequence (null when the labels carry none). */
export function typeOf(labels: ArrayLike<number>): SpType | null {
  for (let i = 0; i < labels.length; i++) if (labels[i] >= 0 && (labels[i] & MASK_BITS) !== 0) return SP_TYPES[(labels[i] >> 8) & 7];
  return null;
}

/** True cleavage site: the leading run of residues labelled S/L/T/P (1-based last), null if none. */
export function cleavageSiteOfLabels(labels: ArrayLike<number>): number | null {
  let k = 0;
  while (k < labels.length && labels[k] >= 0 && (labels[k] & SP_LETTER_BIT) !== 0) k++;
  return k === 0 ? null : k;
}

/** The allowed-state set at one residue as 37 flags, or null when the residue is unscored. */
export function allowedStates(v: number): number[] | null {
  if (v < 0 || (v & MASK_BITS) === 0) return null;
  const states = TYPE_STATES[SP_TYPES[(v >> 8) & 7]];
  const out: number[] = [];
  states.forEach((s, k) => {
    if (v & (1 << k)) out.push(s);
  });
  return out;
}

export interface SpLabelledResult {
  items: SpLabelledSequence[];
  notes: Note[];
  /** records trained on the derived one-hot path because no allowed path fits SignalP 6.0's tags */
  inexact: number;
}

/**
 * SignalP records as SP training/evaluation items. Unlabelled records become items with no
 * scored residue (kingdom kept). Sequences longer than maxLength are cut (noted).
 */
export function spLabelled(records: readonly SignalPRecord[], maxLength = SP_MAX_LENGTH): SpLabelledResult {
  const notes: Note[] = [];
  let inexact = 0;
  const items = records.map((r): SpLabelledSequence => {
    let rec = r;
    if (r.sequence.length > maxLength) {
      notes.push({ kind: 'changed', message: `sequence cut from ${r.sequence.length} to the first ${maxLength} residues (the model reads ${maxLength})`, loc: r.loc });
      rec = { ...r, sequence: r.sequence.slice(0, maxLength), labels: r.labels === null ? null : r.labels.slice(0, maxLength) };
    }
    const n = rec.sequence.length;
    if (rec.labels === null) {
      return { id: r.id, sequence: rec.sequence, labels: kingdomOnlyLabels(n, r.kingdom), kingdom: r.kingdom, type: null, cleavageSite: null, originalLength: r.sequence.length };
    }
    const d = deriveRegions(rec);
    notes.push(...d.notes);
    const { tags, exact } = trainingTagSets(d);
    if (!exact) inexact++;
    const states = TYPE_STATES[rec.type];
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let mask = 0;
      states.forEach((s, k) => {
        if (tags[i * NUM_REGION_STATES + s]) mask |= 1 << k;
      });
      // trainingTagSets never leaves a residue without a state, and never leaves the type
      if (mask === 0) throw new Error(`${rec.id}: residue ${i + 1} has no region state`);
      labels[i] = encodeResidue(rec.kingdom, rec.type, mask, 'SLTP'.includes(rec.labels[i]));
    }
    return { id: r.id, sequence: rec.sequence, labels, kingdom: r.kingdom, type: r.type, cleavageSite: cleavageSiteOfLabels(labels), originalLength: r.sequence.length };
  });
  return { items, notes, inexact };
}
