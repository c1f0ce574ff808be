// Reading PDB files by the column rules of the wwPDB format v3.3. Every line is kept with its
// byte offset and terminator so the writer can change exactly the columns it means to.
// Columns below are 1-based as in the specification; `col(text, a, b)` cuts columns a..b.
import { InputError } from '../../data/errors.js';
import type { Atom, Structure } from './model.js';
import { isAminoAcid, oneLetter } from './residues.js';
import { splitLines, type Line } from './text.js';

export interface PdbStructure extends Structure {
  format: 'pdb';
  lines: Line[];
  /** record name per line: columns 1-6, trailing blanks removed ('ATOM', 'HETATM', 'HELIX', 'END', ...) */
  records: string[];
}

export const col = (text: string, from: number, to: number) => text.slice(from - 1, to);

export function recordName(text: string): string {
  return text.slice(0, 6).trimEnd().toUpperCase();
}

const WATER = new Set(['HOH', 'WAT', 'DOD', 'H2O', 'SOL', 'TIP', 'TIP3']);

export function parsePdb(text: string, file: string): PdbStructure {
  const lines = splitLines(text);
  const records = lines.map((l) => recordName(l.text));
  const modres = new Map<string, string>();
  const seqres = new Map<string, string[]>();

  // Header records first: MODRES decides which HETATM residues belong to a chain.
  lines.forEach((l, i) => {
    const rec = records[i];
    if (rec === 'MODRES') {
      const name = col(l.text, 13, 15).trim().toUpperCase();
      const std = col(l.text, 25, 27).trim();
      if (name && std) modres.set(name, oneLetter(std));
    } else if (rec === 'SEQRES') {
      const chain = col(l.text, 12, 12);
      const names = seqres.get(chain) ?? [];
      // residue names in columns 20-22, 24-26, ..., 68-70
      for (let c = 20; c <= 68; c += 4) {
        const n = col(l.text, c, c + 2).trim();
        if (n) names.push(n);
      }
      seqres.set(chain, names);
    }
  });

  const atoms: Atom[] = [];
  const models: number[] = [];
  let model = 0;
  let modelCount = 0;
  let terSeen = new Set<string>();
  let lastChain = '';
  lines.forEach((l, i) => {
    const rec = records[i];
    const lineNo = i + 1;
    if (rec === 'MODEL') {
      modelCount++;
      const n = Number.parseInt(col(l.text, 11, 14), 10);
      model = Number.isFinite(n) ? n : modelCount;
      models.push(model);
      terSeen = new Set();
      return;
    }
    if (rec === 'TER') {
      // TER ends the polymer of a chain: amino-acid HETATMs after it are ligands, not residues.
      const chain = l.text.length >= 22 ? col(l.text, 22, 22) : lastChain;
      terSeen.add(chain.trim() ? chain : lastChain);
      return;
    }
    if (rec !== 'ATOM' && rec !== 'HETATM') return;
    if (modelCount === 0 && models.length === 0) {
      model = 1;
      models.push(1);
    }
    const t = l.text;
    if (t.length < 54) throw new InputError(`${rec} record is ${t.length} columns long; coordinates need columns 31-54`, { file, line: lineNo });
    const num = (from: number, to: number, what: string, required: boolean) => {
      const s = col(t, from, to).trim();
      if (!s) {
        if (required) throw new InputError(`${rec} record has no ${what} (columns ${from}-${to})`, { file, line: lineNo, column: from });
        return Number.NaN;
      }
      const v = Number(s);
      if (!Number.isFinite(v)) throw new InputError(`${rec} record: ${what} '${s}' (columns ${from}-${to}) is not a number`, { file, line: lineNo, column: from });
      return v;
    };
    const resName = col(t, 18, 20).trim();
    const chain = col(t, 22, 22);
    const group = rec as 'ATOM' | 'HETATM';
    const polymer =
      group === 'ATOM' || (!WATER.has(resName.toUpperCase()) && isAminoAcid(resName, modres) && !terSeen.has(chain));
    atoms.push({
      group,
      serial: col(t, 7, 11).trim(),
      name: col(t, 13, 16).trim(),
      altLoc: col(t, 17, 17).trim(),
      resName,
      chain,
      resSeq: col(t, 23, 26).trim(),
      iCode: col(t, 27, 27).trim(),
      x: num(31, 38, 'x coordinate', true),
      y: num(39, 46, 'y coordinate', true),
      z: num(47, 54, 'z coordinate', true),
      occupancy: num(55, 60, 'occupancy', false),
      bFactor: num(61, 66, 'B-factor', false),
      model,
      polymer,
      line: lineNo,
      // A short line (no columns 61-66 yet) gets its B-factor appended: bStart = bEnd = line end.
      bStart: l.start + Math.min(60, t.length),
      bEnd: l.start + Math.min(66, t.length),
    });
    lastChain = chain;
  });
  if (atoms.length === 0) throw new InputError('no ATOM or HETATM records', { file });
  return { format: 'pdb', file, text, atoms, firstModel: atoms[0]!.model, models, seqres, modres, lines, records };
}

/** Right-justify `s` in a field of `width` columns (longer values are an error the caller prevents). */
export const rjust = (s: string | number, width: number) => String(s).padStart(width);
