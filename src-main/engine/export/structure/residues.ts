// Residue names to one-letter codes. The 20 standard amino acids, the two genetically encoded
// extras (SEC -> U, PYL -> O, both in the ESM-2 alphabet), ambiguity codes, and the modified
// residues that turn up most in the PDB, mapped to their parent amino acid so that a structure
// with selenomethionine or a phosphoserine still matches the natural sequence. Anything else
// is 'X'. A file's own MODRES records (PDB) extend the table for that file.

const STANDARD: Record<string, string> = {
  ALA: 'A', ARG: 'R', ASN: 'N', ASP: 'D', CYS: 'C', GLN: 'Q', GLU: 'E', GLY: 'G', HIS: 'H', ILE: 'I',
  LEU: 'L', LYS: 'K', MET: 'M', PHE: 'F', PRO: 'P', SER: 'S', THR: 'T', TRP: 'W', TYR: 'Y', VAL: 'V',
  SEC: 'U', PYL: 'O', ASX: 'B', GLX: 'Z', UNK: 'X',
};

/** Modified or non-canonical amino acids -> parent one-letter code. */
const MODIFIED: Record<string, string> = {
  // selenium / sulfur chemistry
  MSE: 'M', CSE: 'C', CSO: 'C', CSD: 'C', CSX: 'C', CME: 'C', CSS: 'C', OCS: 'C', SMC: 'C', CAS: 'C', CCS: 'C',
  // phosphorylation and sulfation
  SEP: 'S', TPO: 'T', PTR: 'Y', TYS: 'Y', NEP: 'H', HIP: 'H',
  // hydroxylation, methylation, acetylation, carboxylation, cyclisation
  HYP: 'P', MLY: 'K', M3L: 'K', MLZ: 'K', M2L: 'K', ALY: 'K', KCX: 'K', LLP: 'K', AGM: 'R', '2MR': 'R',
  CGU: 'E', PCA: 'E', MHS: 'H', HIC: 'H', FME: 'M', MEN: 'N', SAC: 'S', NLE: 'L', AIB: 'A', ABA: 'A',
  // D-amino acids
  DAL: 'A', DAR: 'R', DSG: 'N', DAS: 'D', DCY: 'C', DGN: 'Q', DGL: 'E', DHI: 'H', DIL: 'I', DLE: 'L',
  DLY: 'K', MED: 'M', DPN: 'F', DPR: 'P', DSN: 'S', DTH: 'T', DTR: 'W', DTY: 'Y', DVA: 'V',
  // residue names written by simulation force fields (protonation and disulfide states)
  HID: 'H', HIE: 'H', HSD: 'H', HSE: 'H', HSP: 'H', CYX: 'C', CYM: 'C', ASH: 'D', GLH: 'E', LYN: 'K',
};

/** One-letter code for a residue name; `extra` (e.g. from MODRES) is consulted first. Unknown -> 'X'. */
export function oneLetter(resName: string, extra?: ReadonlyMap<string, string>): string {
  const name = resName.trim().toUpperCase();
  return extra?.get(name) ?? (Object.hasOwn(STANDARD, name) ? STANDARD[name] : undefined) ?? (Object.hasOwn(MODIFIED, name) ? MODIFIED[name] : undefined) ?? 'X';
}

/** Whether a residue name is an amino acid we know (standard, modified or listed in `extra`). */
export function isAminoAcid(resName: string, extra?: ReadonlyMap<string, string>): boolean {
  const name = resName.trim().toUpperCase();
  return extra?.has(name) === true || Object.hasOwn(STANDARD, name) || Object.hasOwn(MODIFIED, name);
}
