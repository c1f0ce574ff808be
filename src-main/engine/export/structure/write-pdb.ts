// Writing an annotation into a PDB file as a list of byte edits on the original text:
//   - columns 61-66 of the ATOM/HETATM records of the chain's residues (every model, every altLoc);
//   - HELIX/SHEET records of the annotated chain replaced by ones from the predicted segments
//     (records of other chains are kept byte for byte; a sheet with a strand in the chain is
//     removed whole, since its registration would no longer be true);
//   - one REMARK 950 block (950 is not defined by the v3.3 specification; if a file already uses
//     it for something else, the next free number up to 998 is taken).
// Everything else, line terminators and a missing final newline included, is left as it was.
import { col, rjust, type PdbStructure } from './pdb.js';
import { describe, formatHundredths, type AnnotationPlan } from './plan.js';
import { residueKey, type Residue } from './model.js';
import { applyEdits, dominantEol, wrapWords, type Edit } from './text.js';

export const REMARK_NUMBER = 950;

export interface WriteStats {
  atomsUpdated: number;
  /** polymer atoms of the chain whose residue is not in the first model (set to 0.00) */
  atomsOutsideFirstModel: number;
  helices: number;
  strands: number;
  removedRecords: number;
  notes: string[];
  remark: string;
}

// Records that come after HELIX/SHEET in a PDB file (v3.3 record order).
const AFTER_SS = new Set(['SSBOND', 'LINK', 'LINKR', 'CISPEP', 'SITE', 'CRYST1', 'ORIGX1', 'ORIGX2', 'ORIGX3', 'SCALE1', 'SCALE2', 'SCALE3', 'MTRIX1', 'MTRIX2', 'MTRIX3', 'MODEL', 'ATOM', 'HETATM', 'ANISOU', 'TER', 'ENDMDL', 'CONECT', 'MASTER', 'END']);
// Records that come after the REMARKs.
const AFTER_REMARKS = new Set([...AFTER_SS, 'DBREF', 'DBREF1', 'DBREF2', 'SEQADV', 'SEQRES', 'MODRES', 'HET', 'HETNAM', 'HETSYN', 'FORMUL', 'HELIX', 'SHEET']);

export function writePdb(s: PdbStructure, plan: AnnotationPlan): { text: string; stats: WriteStats } {
  const eol = dominantEol(s.lines);
  const edits: Edit[] = [];
  const stats: WriteStats = { atomsUpdated: 0, atomsOutsideFirstModel: 0, helices: 0, strands: 0, removedRecords: 0, notes: [], remark: '' };
  const lineEnd = (i: number) => s.lines[i]!.start + s.lines[i]!.text.length + s.lines[i]!.eol.length;
  const removeLine = (i: number) => {
    edits.push({ start: s.lines[i]!.start, end: lineEnd(i), text: '' });
  };
  const insertBefore = (p: number, newLines: string[]) => {
    if (newLines.length === 0) return;
    if (p < s.lines.length) edits.push({ start: s.lines[p]!.start, end: s.lines[p]!.start, text: newLines.map((l) => l + eol).join('') });
    else if (s.lines.length && s.lines[s.lines.length - 1]!.eol === '') edits.push({ start: s.text.length, end: s.text.length, text: eol + newLines.join(eol) });
    else edits.push({ start: s.text.length, end: s.text.length, text: newLines.map((l) => l + eol).join('') });
  };

  // 1. REMARK first, so that when it shares an insertion point with HELIX it comes before it.
  stats.remark = remarkEdits(s, plan, removeLine, insertBefore);

  // 2. B-factors.
  const value = new Map<string, number>();
  plan.residues.forEach((r, k) => value.set(residueKey(r.resSeq, r.iCode), plan.hundredths[k] ?? 0));
  for (const a of s.atoms) {
    if (!a.polymer || a.chain !== plan.chain) continue;
    let h = value.get(residueKey(a.resSeq, a.iCode));
    if (h === undefined) (h = 0), stats.atomsOutsideFirstModel++;
    const l = s.lines[a.line - 1]!;
    const v = formatHundredths(h).padStart(6);
    if (l.text.length < 60) edits.push({ start: a.bEnd, end: a.bEnd, text: ' '.repeat(60 - l.text.length) + v });
    else edits.push({ start: a.bStart, end: a.bEnd, text: v });
    stats.atomsUpdated++;
  }

  // 3. Secondary structure.
  if (plan.segments) ssEdits(s, plan, stats, removeLine, insertBefore);

  return { text: applyEdits(s.text, edits), stats };
}

function remarkEdits(s: PdbStructure, plan: AnnotationPlan, removeLine: (i: number) => void, insertBefore: (p: number, l: string[]) => void): string {
  const byNumber = new Map<number, number[]>();
  s.records.forEach((rec, i) => {
    if (rec !== 'REMARK') return;
    const n = Number.parseInt(col(s.lines[i]!.text, 8, 10), 10);
    if (!Number.isFinite(n)) return;
    const list = byNumber.get(n);
    if (list) list.push(i);
    else byNumber.set(n, [i]);
  });
  const ours = (n: number) => byNumber.get(n)!.some((i) => s.lines[i]!.text.includes('PLMW ANNOTATION'));
  let num = REMARK_NUMBER;
  while (byNumber.has(num) && !ours(num) && num < 998) num++;
  if (byNumber.has(num) && !ours(num)) throw new Error('no free REMARK number between 950 and 998 for the annotation');

  const tag = `REMARK ${num} `;
  const width = 80 - tag.length;
  const d = describe(plan);
  const body: string[] = [`REMARK ${num}`, tag + d.heading];
  for (const [k, v] of d.fields) for (const [j, part] of wrapWords(`${k.toUpperCase()}: ${v}`, width - 1).entries()) body.push(tag + (j ? '  ' : ' ') + part);
  body.push(tag + ` UNSCORED RESIDUES (B-FACTOR 0.00):${d.unscored.length ? '' : ' NONE'}`);
  for (const part of wrapList(d.unscored, width - 2)) body.push(tag + '  ' + part);
  const lines = body.map((l) => l.padEnd(80));

  const old = byNumber.get(num);
  let at: number;
  if (old) {
    at = old[0]!;
    old.forEach(removeLine);
  } else {
    const remarks = [...byNumber.entries()];
    const lower = remarks.filter(([n]) => n < num).flatMap(([, ix]) => ix);
    const higher = remarks.filter(([n]) => n > num).flatMap(([, ix]) => ix);
    if (lower.length) at = Math.max(...lower) + 1;
    else if (higher.length) at = Math.min(...higher);
    else {
      at = s.records.findIndex((r) => AFTER_REMARKS.has(r));
      if (at < 0) at = s.lines.length;
    }
  }
  insertBefore(at, lines);
  return `REMARK ${num}`;
}

function ssEdits(s: PdbStructure, plan: AnnotationPlan, stats: WriteStats, removeLine: (i: number) => void, insertBefore: (p: number, l: string[]) => void) {
  const chain = plan.chain;
  const helixLines: number[] = [], sheetLines: number[] = [];
  s.records.forEach((r, i) => {
    if (r === 'HELIX') helixLines.push(i);
    else if (r === 'SHEET') sheetLines.push(i);
  });
  const text = (i: number) => s.lines[i]!.text;
  const removedHelix = helixLines.filter((i) => col(text(i), 20, 20) === chain);
  const keptHelix = helixLines.filter((i) => col(text(i), 20, 20) !== chain);
  const sheetId = (i: number) => col(text(i), 12, 14).trim();
  const touched = new Set(sheetLines.filter((i) => col(text(i), 22, 22) === chain || col(text(i), 33, 33) === chain).map(sheetId));
  const removedSheet = sheetLines.filter((i) => touched.has(sheetId(i)));
  const keptSheet = sheetLines.filter((i) => !touched.has(sheetId(i)));
  for (const id of touched) {
    const chains = new Set(sheetLines.filter((i) => sheetId(i) === id).flatMap((i) => [col(text(i), 22, 22), col(text(i), 33, 33)]));
    if (chains.size > 1) stats.notes.push(`sheet ${id} spanned chains ${[...chains].join(', ')}; all its strands were removed`);
  }
  [...removedHelix, ...removedSheet].forEach(removeLine);
  stats.removedRecords = removedHelix.length + removedSheet.length;

  // New serial numbers and ids continue after the kept records, so none repeats.
  const usedHelixIds = new Set(keptHelix.map((i) => col(text(i), 12, 14).trim()));
  let serial = Math.max(0, ...keptHelix.map((i) => Number.parseInt(col(text(i), 8, 10), 10) || 0));
  let helixId = 0;
  const usedSheetIds = new Set(keptSheet.map(sheetId));
  let sheetNo = 0;
  const newHelix: string[] = [], newSheet: string[] = [];
  for (const seg of plan.segments!) {
    const a = plan.residues[seg.from]!, b = plan.residues[seg.to]!;
    if (seg.kind === 'H') {
      serial++;
      do helixId++;
      while (usedHelixIds.has(String(helixId)));
      if (serial > 999 || helixId > 999) throw new Error('more than 999 helices do not fit the HELIX record');
      newHelix.push(helixRecord(serial, String(helixId), a, b, seg.to - seg.from + 1));
    } else {
      let id: string;
      do id = letters(++sheetNo);
      while (usedSheetIds.has(id));
      if (id.length > 3) throw new Error('too many sheets for 3-character sheet ids');
      newSheet.push(sheetRecord(id, a, b));
    }
  }
  stats.helices = newHelix.length;
  stats.strands = newSheet.length;

  // Where the new records go: after the kept ones of their kind, else where the removed ones
  // were, else before the records that follow HELIX/SHEET in the format.
  let anchor = s.records.findIndex((r) => AFTER_SS.has(r));
  if (anchor < 0) anchor = s.lines.length;
  const helixAt = keptHelix.length ? keptHelix[keptHelix.length - 1]! + 1 : removedHelix.length ? removedHelix[0]! : sheetLines.length ? sheetLines[0]! : anchor;
  const sheetAt = keptSheet.length ? keptSheet[keptSheet.length - 1]! + 1 : removedSheet.length ? removedSheet[0]! : helixAt;
  insertBefore(helixAt, newHelix);
  insertBefore(Math.max(sheetAt, helixAt), newSheet);
}

/** HELIX: serNum 8-10, helixID 12-14, initResName 16-18, initChainID 20, initSeqNum 22-25, initICode 26,
 * endResName 28-30, endChainID 32, endSeqNum 34-37, endICode 38, helixClass 39-40 (1 = right-handed alpha), length 72-76. */
export function helixRecord(serial: number, id: string, a: Residue, b: Residue, length: number): string {
  const line =
    'HELIX  ' + rjust(serial, 3) + ' ' + rjust(id, 3) + ' ' +
    rjust(a.resName, 3) + ' ' + a.chain + ' ' + rjust(a.resSeq, 4) + (a.iCode || ' ') + ' ' +
    rjust(b.resName, 3) + ' ' + b.chain + ' ' + rjust(b.resSeq, 4) + (b.iCode || ' ') +
    rjust(1, 2) + ' '.repeat(31) + rjust(length, 5);
  return line.padEnd(80);
}

/** SHEET: strand 8-10, sheetID 12-14, numStrands 15-16, initResName 18-20, initChainID 22, initSeqNum 23-26,
 * initICode 27, endResName 29-31, endChainID 33, endSeqNum 34-37, endICode 38, sense 39-40 (0 = first strand). */
export function sheetRecord(id: string, a: Residue, b: Residue): string {
  const line =
    'SHEET  ' + rjust(1, 3) + ' ' + rjust(id, 3) + rjust(1, 2) + ' ' +
    rjust(a.resName, 3) + ' ' + a.chain + rjust(a.resSeq, 4) + (a.iCode || ' ') + ' ' +
    rjust(b.resName, 3) + ' ' + b.chain + rjust(b.resSeq, 4) + (b.iCode || ' ') + rjust(0, 2);
  return line.padEnd(80);
}

/** Items joined by ', ' into lines of at most `width`, breaking only between items. */
export function wrapList(items: string[], width: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const [k, item] of items.entries()) {
    const piece = item + (k < items.length - 1 ? ',' : '');
    if (cur && cur.length + 1 + piece.length > width) out.push(cur), (cur = '');
    cur = cur ? `${cur} ${piece}` : piece;
  }
  if (cur) out.push(cur);
  return out;
}

/** 1 -> A, 26 -> Z, 27 -> AA: sheet ids like the PDB's. */
export function letters(n: number): string {
  let s = '';
  for (let k = n; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(65 + ((k - 1) % 26)) + s;
  return s;
}
