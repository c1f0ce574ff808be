// The atoms, chains and sequences of an mmCIF (PDBx) file, from the _atom_site loop of its first
// data block. Chains are author chains (auth_asym_id), as PyMOL, ChimeraX and Mol* show them;
// residues are numbered by auth_seq_id plus pdbx_PDB_ins_code, like the PDB format.
import { InputError } from '../../data/errors.js';
import { isNull, itemIndex, lineAt, lineStarts, parseBlocks, tokenize, tokenValue, type Category, type CifBlock, type Tokens } from './cif.js';
import type { Atom, Structure } from './model.js';
import { isAminoAcid, oneLetter } from './residues.js';

export interface MmcifStructure extends Structure {
  format: 'mmcif';
  tokens: Tokens;
  block: CifBlock;
  /** line-start offsets of the text */
  lineStarts: Int32Array;
}

const WATER = new Set(['HOH', 'WAT', 'DOD', 'H2O']);

/** Read one column of a category as strings ('' for null '?' / '.'), or undefined when absent. */
export function column(t: Tokens, c: Category, item: string): string[] | undefined {
  const k = itemIndex(c, item);
  if (k < 0) return undefined;
  const out: string[] = new Array(c.rows);
  for (let r = 0; r < c.rows; r++) {
    const i = c.cells(r, k);
    out[r] = isNull(t, i) ? '' : tokenValue(t, i);
  }
  return out;
}

export function parseMmcif(text: string, file: string): MmcifStructure {
  const tokens = tokenize(text, file);
  const blocks = parseBlocks(tokens, file);
  if (blocks.length === 0) throw new InputError('no data_ block (is this an mmCIF file?)', { file });
  // Coordinate files have one data block; the first one is the structure.
  const block = blocks[0]!;
  const site = block.categories.get('atom_site');
  if (!site) throw new InputError(`data block '${block.name}' has no _atom_site category`, { file });
  const starts = lineStarts(text);
  const col = (item: string) => column(tokens, site, item);
  const need = (item: string) => {
    const v = col(item);
    if (!v) throw new InputError(`_atom_site has no ${item} column`, { file, line: lineAt(starts, tokens.start[site.spans[0]!.first]!) });
    return v;
  };
  const group = col('group_PDB');
  const serial = col('id');
  const atomName = col('auth_atom_id') ?? need('label_atom_id');
  const alt = col('label_alt_id');
  const comp = col('label_comp_id') ?? need('auth_comp_id');
  const authAsym = col('auth_asym_id');
  const labelAsym = col('label_asym_id');
  const authSeq = col('auth_seq_id');
  const labelSeq = col('label_seq_id');
  const ins = col('pdbx_PDB_ins_code');
  const xs = need('Cartn_x'), ys = need('Cartn_y'), zs = need('Cartn_z');
  const occ = col('occupancy');
  const bIdx = itemIndex(site, 'B_iso_or_equiv');
  const modelNum = col('pdbx_PDB_model_num');
  if (!authAsym && !labelAsym) throw new InputError('_atom_site has neither auth_asym_id nor label_asym_id', { file });
  if (!authSeq && !labelSeq) throw new InputError('_atom_site has neither auth_seq_id nor label_seq_id', { file });

  const declared = modres(tokens, block);
  const atoms: Atom[] = [];
  const models: number[] = [];
  for (let r = 0; r < site.rows; r++) {
    const first = site.cells(r, 0);
    const line = lineAt(starts, tokens.start[first]!);
    const num = (v: string | undefined, what: string) => {
      const x = Number(v);
      if (v === undefined || v === '' || !Number.isFinite(x)) throw new InputError(`_atom_site.${what} '${v ?? ''}' is not a number`, { file, line });
      return x;
    };
    const g = (group?.[r] ?? 'ATOM').toUpperCase();
    if (g !== 'ATOM' && g !== 'HETATM') throw new InputError(`_atom_site.group_PDB '${g}' is neither ATOM nor HETATM`, { file, line });
    const resName = comp[r]!;
    const model = modelNum && modelNum[r] ? num(modelNum[r], 'pdbx_PDB_model_num') : 1;
    if (models[models.length - 1] !== model && !models.includes(model)) models.push(model);
    // A HETATM belongs to the chain when it sits in the polymer's sequence (has a label_seq_id),
    // as modified residues like MSE do; ligands and waters have label_seq_id '.'.
    const inSequence = labelSeq ? labelSeq[r] !== '' : isAminoAcid(resName, declared);
    const bi = bIdx >= 0 ? site.cells(r, bIdx) : -1;
    const atom: Atom = {
      group: g,
      serial: serial?.[r] ?? String(r + 1),
      name: atomName[r]!,
      altLoc: alt?.[r] ?? '',
      resName,
      chain: (authAsym?.[r] || labelAsym?.[r]) ?? '',
      resSeq: (authSeq?.[r] || labelSeq?.[r]) ?? '',
      iCode: ins?.[r] ?? '',
      x: num(xs[r], 'Cartn_x'),
      y: num(ys[r], 'Cartn_y'),
      z: num(zs[r], 'Cartn_z'),
      occupancy: occ?.[r] ? Number(occ[r]) : Number.NaN,
      bFactor: bi >= 0 && !isNull(tokens, bi) ? Number(tokenValue(tokens, bi)) : Number.NaN,
      model,
      polymer: g === 'ATOM' || (inSequence && !WATER.has(resName.toUpperCase())),
      line,
      bStart: bi >= 0 ? tokens.start[bi]! : -1,
      bEnd: bi >= 0 ? tokens.end[bi]! : -1,
    };
    if (labelAsym) atom.labelChain = labelAsym[r]!;
    if (labelSeq) atom.labelSeq = labelSeq[r]!;
    atoms.push(atom);
  }
  if (atoms.length === 0) throw new InputError('_atom_site has no rows', { file });
  return { format: 'mmcif', file, text, atoms, firstModel: atoms[0]!.model, models, seqres: seqres(tokens, block), modres: declared, tokens, block, lineStarts: starts };
}

/** Modified residues the file declares (_pdbx_struct_mod_residue), as name -> parent's one-letter code. */
function modres(t: Tokens, block: CifBlock): Map<string, string> {
  const out = new Map<string, string>();
  const c = block.categories.get('pdbx_struct_mod_residue');
  if (!c) return out;
  const name = column(t, c, 'label_comp_id') ?? column(t, c, 'auth_comp_id');
  const parent = column(t, c, 'parent_comp_id');
  if (name && parent) name.forEach((n, r) => n && parent[r] && out.set(n.toUpperCase(), oneLetter(parent[r]!)));
  return out;
}

/** Full sequences per author chain: _pdbx_poly_seq_scheme, else _entity_poly_seq with _entity_poly.pdbx_strand_id. */
function seqres(t: Tokens, block: CifBlock): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const scheme = block.categories.get('pdbx_poly_seq_scheme');
  if (scheme) {
    const strand = column(t, scheme, 'pdb_strand_id') ?? column(t, scheme, 'asym_id');
    const mon = column(t, scheme, 'mon_id');
    const seq = column(t, scheme, 'seq_id');
    if (strand && mon) {
      const last = new Map<string, string>();
      for (let r = 0; r < scheme.rows; r++) {
        const ch = strand[r]!;
        // microheterogeneity repeats a seq_id with another residue; keep the first
        if (seq && last.get(ch) === seq[r]) continue;
        if (seq) last.set(ch, seq[r]!);
        let list = out.get(ch);
        if (!list) out.set(ch, (list = []));
        list.push(mon[r]!);
      }
      return out;
    }
  }
  const eps = block.categories.get('entity_poly_seq');
  const ep = block.categories.get('entity_poly');
  if (eps && ep) {
    const ent = column(t, eps, 'entity_id'), mon = column(t, eps, 'mon_id'), num = column(t, eps, 'num');
    const epEnt = column(t, ep, 'entity_id'), strands = column(t, ep, 'pdbx_strand_id');
    if (ent && mon && epEnt && strands) {
      const byEntity = new Map<string, string[]>();
      const lastNum = new Map<string, string>();
      for (let r = 0; r < eps.rows; r++) {
        if (num && lastNum.get(ent[r]!) === num[r]) continue;
        if (num) lastNum.set(ent[r]!, num[r]!);
        let list = byEntity.get(ent[r]!);
        if (!list) byEntity.set(ent[r]!, (list = []));
        list.push(mon[r]!);
      }
      epEnt.forEach((e, r) => {
        for (const ch of strands[r]!.split(',').map((s) => s.trim()).filter(Boolean)) out.set(ch, byEntity.get(e) ?? []);
      });
    }
  }
  return out;
}
