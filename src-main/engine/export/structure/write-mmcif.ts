// Writing an annotation into an mmCIF file as byte edits on the original text:
//   - _atom_site.B_iso_or_equiv of the chain's residues (every model, every altLoc), replaced in
//     place. The new value keeps the token's column: a shorter value is padded, a longer one
//     takes spaces from the gap before the next token (one space always stays); only when that
//     gap is too narrow does the rest of the line shift right;
//   - struct_conf (+ struct_conf_type) and struct_sheet / struct_sheet_range (+ the other
//     struct_sheet* and pdbx_struct_sheet_hbond categories): rows of the annotated chain are
//     removed and predicted ones added; rows of other chains stay. A category left empty is
//     removed with its '#' separator;
//   - a _plmw_annotation category (run, model, score name, unscored residues): mmCIF's stand-in
//     for the PDB REMARK, which PDBx parsers ignore as an unknown category.
import { InputError } from '../../data/errors.js';
import { isNull, itemIndex, tokenValue, type Category } from './cif.js';
import { formatCategory, insertCategory, rawRows, removeCategory, replaceCategory, separatorBefore, type Cell } from './cif-write.js';
import type { MmcifStructure } from './mmcif.js';
import { residueKey, type Residue } from './model.js';
import { describe, formatHundredths, type AnnotationPlan } from './plan.js';
import { dominantEol, splitLines, applyEdits, type Edit } from './text.js';
import { letters, type WriteStats } from './write-pdb.js';

// The order in which PDBx files write these categories; a new category goes before the first
// existing category that follows it here (atom_site always exists).
const ORDER = ['struct_conf', 'struct_conf_type', 'struct_conn', 'struct_conn_type', 'struct_mon_prot_cis', 'struct_sheet', 'struct_sheet_order', 'struct_sheet_range', 'struct_sheet_hbond', 'pdbx_struct_sheet_hbond', 'struct_sheet_topology', 'struct_site', 'struct_site_gen', 'plmw_annotation', 'atom_sites', 'atom_type', 'atom_site'];

const CONF_ITEMS = ['conf_type_id', 'id', 'pdbx_PDB_helix_id', 'beg_label_comp_id', 'beg_label_asym_id', 'beg_label_seq_id', 'pdbx_beg_PDB_ins_code', 'end_label_comp_id', 'end_label_asym_id', 'end_label_seq_id', 'pdbx_end_PDB_ins_code', 'beg_auth_comp_id', 'beg_auth_asym_id', 'beg_auth_seq_id', 'end_auth_comp_id', 'end_auth_asym_id', 'end_auth_seq_id', 'pdbx_PDB_helix_class', 'details', 'pdbx_PDB_helix_length'];
const CONF_TYPE_ITEMS = ['id', 'criteria', 'reference'];
const SHEET_ITEMS = ['id', 'type', 'number_strands', 'details'];
const RANGE_ITEMS = ['sheet_id', 'id', 'beg_label_comp_id', 'beg_label_asym_id', 'beg_label_seq_id', 'pdbx_beg_PDB_ins_code', 'end_label_comp_id', 'end_label_asym_id', 'end_label_seq_id', 'pdbx_end_PDB_ins_code', 'beg_auth_comp_id', 'beg_auth_asym_id', 'beg_auth_seq_id', 'end_auth_comp_id', 'end_auth_asym_id', 'end_auth_seq_id'];
/** sheet categories and the item holding the sheet id */
const SHEET_KEYED: [string, string][] = [['struct_sheet', 'id'], ['struct_sheet_order', 'sheet_id'], ['struct_sheet_range', 'sheet_id'], ['struct_sheet_hbond', 'sheet_id'], ['pdbx_struct_sheet_hbond', 'sheet_id'], ['struct_sheet_topology', 'sheet_id']];

interface Change {
  name: string;
  /** the category as it should end up: undefined removes it */
  tags?: string[];
  rows?: Cell[][];
}

export function writeMmcif(s: MmcifStructure, plan: AnnotationPlan): { text: string; stats: WriteStats } {
  const t = s.tokens;
  const eol = dominantEol(splitLines(s.text.slice(0, 1 << 16)));
  const stats: WriteStats = { atomsUpdated: 0, atomsOutsideFirstModel: 0, helices: 0, strands: 0, removedRecords: 0, notes: [], remark: '_plmw_annotation' };
  const edits: Edit[] = [];

  // 1. B-factors.
  const value = new Map<string, number>();
  plan.residues.forEach((r, k) => value.set(residueKey(r.resSeq, r.iCode), plan.hundredths[k] ?? 0));
  for (const a of s.atoms) {
    if (!a.polymer || a.chain !== plan.chain) continue;
    if (a.bStart < 0) throw new InputError('_atom_site has no B_iso_or_equiv column to write scores into', { file: s.file });
    let h = value.get(residueKey(a.resSeq, a.iCode));
    if (h === undefined) (h = 0), stats.atomsOutsideFirstModel++;
    edits.push(bEdit(s.text, a.bStart, a.bEnd, formatHundredths(h)));
    stats.atomsUpdated++;
  }

  // 2. Secondary structure and the annotation category.
  const changes: Change[] = plan.segments ? ssChanges(s, plan, stats) : [];
  const d = describe(plan);
  const fields: [string, string | null][] = d.fields.map(([k, v]) => [k.replace(/ /g, '_'), v === '?' ? null : v]);
  fields.push(['unscored_residues', d.unscored.length ? d.unscored.join(',\n') : null]);
  changes.push({ name: 'plmw_annotation', tags: fields.map(([k]) => `_plmw_annotation.${k}`), rows: [fields.map(([, v]) => ({ value: v }))] });

  const sep = firstSeparator(s);
  for (const c of changes) {
    const old = s.block.categories.get(c.name);
    if (!c.tags) {
      if (old) edits.push(...removeCategory(t, old));
      continue;
    }
    const body = formatCategory(c.tags, c.rows!, eol);
    if (old) edits.push(...replaceCategory(t, old, body, eol));
    else edits.push(insertCategory(t, anchorFor(s, c.name), body, eol, sep));
  }
  return { text: applyEdits(s.text, edits), stats };
}

/** Replace a B_iso_or_equiv token, keeping the next token where it is when the spacing allows. */
export function bEdit(text: string, start: number, end: number, v: string): Edit {
  const old = end - start;
  let ws = end;
  while (text[ws] === ' ') ws++;
  const atEol = ws >= text.length || text[ws] === '\n' || text[ws] === '\r';
  if (v.length <= old) return { start, end, text: atEol ? v : v.padEnd(old) };
  const room = atEol ? ws - start : ws - start - 1;
  if (v.length <= room) return { start, end: start + v.length, text: v };
  return { start, end, text: v };
}

function firstSeparator(s: MmcifStructure): string | undefined {
  for (const c of s.block.order) {
    const sep = separatorBefore(s.tokens, c);
    if (sep !== undefined) return sep;
  }
  return undefined;
}

function anchorFor(s: MmcifStructure, name: string): Category | undefined {
  const k = ORDER.indexOf(name);
  for (const next of ORDER.slice(k + 1)) {
    const c = s.block.categories.get(next);
    if (c) return c;
  }
  return undefined;
}

/** Whether a row (of struct_conf or struct_sheet_range) starts or ends in the annotated chain. */
function inChain(s: MmcifStructure, c: Category, row: number, chain: string, labelChain: string | undefined): boolean {
  for (const end of ['beg', 'end']) {
    const ia = itemIndex(c, `${end}_auth_asym_id`);
    if (ia >= 0 && !isNull(s.tokens, c.cells(row, ia))) {
      if (tokenValue(s.tokens, c.cells(row, ia)) === chain) return true;
      continue;
    }
    const il = itemIndex(c, `${end}_label_asym_id`);
    if (il >= 0 && labelChain !== undefined && tokenValue(s.tokens, c.cells(row, il)) === labelChain) return true;
  }
  return false;
}

/** Kept rows (raw) of an existing category, widened to `items`; and the merged tag list. */
function widen(s: MmcifStructure, name: string, std: string[], keep: (row: number) => boolean) {
  const old = s.block.categories.get(name);
  const oldItems = old?.items ?? [];
  const extra = std.filter((i) => !oldItems.includes(i.toLowerCase()));
  const tags = [...(old?.tags ?? []), ...extra.map((i) => `_${name}.${i}`)];
  const items = [...oldItems, ...extra.map((i) => i.toLowerCase())];
  const kept: Cell[][] = [];
  let removed = 0;
  if (old) {
    rawRows(s.tokens, old).forEach((row, r) => {
      if (keep(r)) kept.push([...row.map((raw) => ({ raw })), ...extra.map(() => ({ value: null }))]);
      else removed++;
    });
  }
  const toCells = (values: Record<string, string | null>) => items.map((i) => ({ value: values[i] ?? null }));
  return { old, tags, items, kept, removed, toCells };
}

function endValues(prefix: 'beg' | 'end', r: Residue): Record<string, string | null> {
  const ins = prefix === 'beg' ? 'pdbx_beg_pdb_ins_code' : 'pdbx_end_pdb_ins_code';
  return {
    [`${prefix}_label_comp_id`]: r.resName,
    [`${prefix}_label_asym_id`]: r.labelChain || null,
    [`${prefix}_label_seq_id`]: r.labelSeq || null,
    [ins]: r.iCode || null,
    [`${prefix}_auth_comp_id`]: r.resName,
    [`${prefix}_auth_asym_id`]: r.chain,
    [`${prefix}_auth_seq_id`]: r.resSeq,
  };
}

function ssChanges(s: MmcifStructure, plan: AnnotationPlan, stats: WriteStats): Change[] {
  const chain = plan.chain;
  const labelChain = plan.residues[0]?.labelChain;
  const changes: Change[] = [];
  const finalize = (name: string, tags: string[], rows: Cell[][], removed: number, added: number) => {
    const old = s.block.categories.get(name);
    if (removed === 0 && added === 0) return; // untouched
    if (rows.length) changes.push({ name, tags, rows });
    else if (old) changes.push({ name });
  };

  // Helices.
  const conf = widen(s, 'struct_conf', CONF_ITEMS, (r) => !inChain(s, s.block.categories.get('struct_conf')!, r, chain, labelChain));
  const idCol = conf.items.indexOf('id');
  const usedIds = new Set(conf.kept.map((row) => ('raw' in row[idCol]! ? (row[idCol] as { raw: string }).raw : '')));
  let n = 0;
  const helixRows: Cell[][] = [];
  for (const seg of plan.segments!.filter((x) => x.kind === 'H')) {
    do n++;
    while (usedIds.has(`HELX_P${n}`));
    const a = plan.residues[seg.from]!, b = plan.residues[seg.to]!;
    helixRows.push(conf.toCells({ conf_type_id: 'HELX_P', id: `HELX_P${n}`, pdbx_pdb_helix_id: String(n), ...endValues('beg', a), ...endValues('end', b), pdbx_pdb_helix_class: '1', details: null, pdbx_pdb_helix_length: String(seg.to - seg.from + 1) }));
  }
  stats.helices = helixRows.length;
  stats.removedRecords += conf.removed;
  const confRows = [...conf.kept, ...helixRows];
  finalize('struct_conf', conf.tags, confRows, conf.removed, helixRows.length);

  // struct_conf_type: exactly the types the final struct_conf rows use (only if struct_conf changed).
  if (conf.removed || helixRows.length) confTypes(s, conf.items, confRows, finalize);
  sheets(s, plan, stats, chain, labelChain, finalize);
  return changes;
}

type Finalize = (name: string, tags: string[], rows: Cell[][], removed: number, added: number) => void;

function confTypes(s: MmcifStructure, confItems: string[], confRows: Cell[][], finalize: Finalize) {
  const t = s.tokens;
  const typeCol = confItems.indexOf('conf_type_id');
  const usedTypes = new Set(confRows.map((row) => { const c = row[typeCol]!; return 'raw' in c ? c.raw.replace(/^['"]|['"]$/g, '') : c.value ?? ''; }));
  const ctOld = s.block.categories.get('struct_conf_type');
  const ct = widen(s, 'struct_conf_type', CONF_TYPE_ITEMS, (r) => usedTypes.has(tokenValue(t, ctOld!.cells(r, itemIndex(ctOld!, 'id')))));
  const haveTypes = new Set(ct.kept.map((row) => (row[ct.items.indexOf('id')] as { raw: string }).raw));
  const typeRows = usedTypes.has('HELX_P') && !haveTypes.has('HELX_P') ? [ct.toCells({ id: 'HELX_P' })] : [];
  finalize('struct_conf_type', ct.tags, [...ct.kept, ...typeRows], ct.removed, typeRows.length);
}

function sheets(s: MmcifStructure, plan: AnnotationPlan, stats: WriteStats, chain: string, labelChain: string | undefined, finalize: Finalize) {
  const t = s.tokens;

  // Strands: every predicted strand is a one-strand sheet (3-state predictions say nothing about pairing).
  const range = s.block.categories.get('struct_sheet_range');
  const touched = new Set<string>();
  if (range) for (let r = 0; r < range.rows; r++) if (inChain(s, range, r, chain, labelChain)) touched.add(tokenValue(t, range.cells(r, itemIndex(range, 'sheet_id'))));
  const usedSheets = new Set<string>();
  for (const [name, key] of SHEET_KEYED) {
    const c = s.block.categories.get(name);
    if (c && itemIndex(c, key) >= 0) for (let r = 0; r < c.rows; r++) usedSheets.add(tokenValue(t, c.cells(r, itemIndex(c, key))));
  }
  for (const id of touched) {
    if (!range) break;
    const chains = new Set<string>();
    for (let r = 0; r < range.rows; r++) {
      if (tokenValue(t, range.cells(r, itemIndex(range, 'sheet_id'))) !== id) continue;
      for (const e of ['beg_auth_asym_id', 'end_auth_asym_id']) if (itemIndex(range, e) >= 0) chains.add(tokenValue(t, range.cells(r, itemIndex(range, e))));
    }
    if (chains.size > 1) stats.notes.push(`sheet ${id} spanned chains ${[...chains].join(', ')}; all its strands were removed`);
  }
  const newSheets: { id: string; a: Residue; b: Residue }[] = [];
  let k = 0;
  for (const seg of plan.segments!.filter((x) => x.kind === 'E')) {
    let id: string;
    do id = letters(++k);
    while (usedSheets.has(id) && !touched.has(id));
    newSheets.push({ id, a: plan.residues[seg.from]!, b: plan.residues[seg.to]! });
  }
  stats.strands = newSheets.length;
  for (const [name, key] of SHEET_KEYED) {
    const c = s.block.categories.get(name);
    const keyCol = c ? itemIndex(c, key) : -1;
    const keep = (r: number) => keyCol < 0 || !touched.has(tokenValue(t, c!.cells(r, keyCol)));
    const std = name === 'struct_sheet' ? SHEET_ITEMS : name === 'struct_sheet_range' ? RANGE_ITEMS : [];
    if (!c && std.length === 0) continue;
    const w = widen(s, name, std, keep);
    let added: Cell[][] = [];
    if (name === 'struct_sheet') added = newSheets.map((x) => w.toCells({ id: x.id, number_strands: '1' }));
    if (name === 'struct_sheet_range') added = newSheets.map((x) => w.toCells({ sheet_id: x.id, id: '1', ...endValues('beg', x.a), ...endValues('end', x.b) }));
    if (name === 'struct_sheet_range') stats.removedRecords += w.removed;
    finalize(name, w.tags, [...w.kept, ...added], w.removed, added.length);
  }
}
