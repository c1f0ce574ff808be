// The format-independent view of a structure file that the mapping and the writers work on:
// every atom record with where its B-factor lives in the file, and the residues of a chain
// in the order they first appear in the first model.
import { oneLetter } from './residues.js';

export type StructureFormat = 'pdb' | 'mmcif';

export interface Atom {
  group: 'ATOM' | 'HETATM';
  serial: string;
  /** atom name, trimmed */
  name: string;
  /** '' when the atom has no alternate location */
  altLoc: string;
  resName: string;
  /** author chain id: PDB column 22, mmCIF auth_asym_id (label_asym_id when there is no auth column) */
  chain: string;
  /** author residue number as written (trimmed), kept as text so hybrid-36 or odd numbering survives */
  resSeq: string;
  /** insertion code, '' when none */
  iCode: string;
  x: number;
  y: number;
  z: number;
  occupancy: number;
  bFactor: number;
  model: number;
  /** part of the polymer chain: ATOM records and modified amino acids inside the chain */
  polymer: boolean;
  /** 1-based line of the record */
  line: number;
  /** byte range of the B-factor field (PDB columns 61-66, or the mmCIF token) */
  bStart: number;
  bEnd: number;
  /** mmCIF only: label_asym_id, label_seq_id, label_comp_id (needed for struct_conf rows) */
  labelChain?: string;
  labelSeq?: string;
}

export interface Structure {
  format: StructureFormat;
  /** file name for messages */
  file: string;
  /** the whole file as latin1 text (one character per byte) */
  text: string;
  atoms: Atom[];
  /** the first model's number (the model whose residues define a chain) */
  firstModel: number;
  models: number[];
  /** SEQRES (PDB) or _pdbx_poly_seq_scheme / _entity_poly_seq (mmCIF) residue names per chain, where present */
  seqres: Map<string, string[]>;
  /** extra residue-name -> one-letter codes declared by the file (PDB MODRES) */
  modres: Map<string, string>;
}

export interface Residue {
  chain: string;
  resSeq: string;
  iCode: string;
  resName: string;
  /** one-letter code */
  code: string;
  labelChain?: string;
  labelSeq?: string;
  /** indices into Structure.atoms of this residue's atoms in the first model */
  firstModelAtoms: number[];
}

export const residueKey = (resSeq: string, iCode: string) => `${resSeq}\u0000${iCode}`;

/** "ILE A 16", "ARG A 49A": how a residue is named in reports. */
export function residueLabel(r: Pick<Residue, 'resName' | 'chain' | 'resSeq' | 'iCode'>): string {
  return `${r.resName} ${r.chain} ${r.resSeq}${r.iCode}`;
}

/** The chains that have polymer residues in the first model, in file order. */
export function polymerChains(s: Structure): string[] {
  const seen = new Set<string>();
  for (const a of s.atoms) if (a.model === s.firstModel && a.polymer) seen.add(a.chain);
  return [...seen];
}

/** Every chain id that occurs in any atom record, in file order. */
export function allChains(s: Structure): string[] {
  return [...new Set(s.atoms.map((a) => a.chain))];
}

/**
 * The chain's residues: polymer atoms of the first model, grouped by (residue number,
 * insertion code), in the order each residue first appears. Alternate locations of one
 * residue (even with different residue names) are one residue; the first name seen wins.
 */
export function chainResidues(s: Structure, chain: string): Residue[] {
  const byKey = new Map<string, Residue>();
  s.atoms.forEach((a, i) => {
    if (a.model !== s.firstModel || !a.polymer || a.chain !== chain) return;
    const key = residueKey(a.resSeq, a.iCode);
    let r = byKey.get(key);
    if (!r) {
      r = { chain, resSeq: a.resSeq, iCode: a.iCode, resName: a.resName, code: oneLetter(a.resName, s.modres), firstModelAtoms: [] };
      if (a.labelChain !== undefined) r.labelChain = a.labelChain;
      if (a.labelSeq !== undefined) r.labelSeq = a.labelSeq;
      byKey.set(key, r);
    }
    r.firstModelAtoms.push(i);
  });
  return [...byKey.values()];
}

/**
 * breakAfter[i] is true when residue i and i+1 are not covalently joined: the peptide bond
 * C(i)-N(i+1) is longer than 2.0 A, or one of the two atoms is missing. Missing residues in
 * the coordinates show up here whatever the numbering says (trypsin-style numbering jumps
 * without a real gap, and real gaps may be numbered consecutively).
 */
export function chainBreaks(s: Structure, residues: Residue[]): boolean[] {
  const atom = (r: Residue, name: string) => {
    for (const i of r.firstModelAtoms) {
      const a = s.atoms[i]!;
      if (a.name === name) return a; // the first altLoc is good enough for a break test
    }
    return undefined;
  };
  const out: boolean[] = [];
  for (let i = 0; i < residues.length; i++) {
    if (i === residues.length - 1) {
      out.push(true);
      continue;
    }
    const c = atom(residues[i]!, 'C');
    const n = atom(residues[i + 1]!, 'N');
    if (!c || !n) out.push(true);
    else out.push(Math.hypot(c.x - n.x, c.y - n.y, c.z - n.z) > 2.0);
  }
  return out;
}
