// NetSurfP-2.0 data sets in the ProtTrans CSV layout (CB513_HHblits.csv, TS115_HHblits.csv,
// CASP12_HHblits.csv). The real files look like
//   input, dssp3, dssp8, disorder, cb513_mask
//   R T D C ...,C C C C ...,C C C T ...,1.0 1.0 ...,1.0 1.0 ...
// i.e. one protein per row, per-residue values separated by spaces inside each field, header
// names with a space after the comma, LF endings, no ids and no quotes.
//
// Columns (matched case-insensitively after trimming):
//   input      residues (required)
//   dssp8      8-state DSSP labels; dssp3: 3-state labels (at least one of the two)
//   disorder   1 = ordered/resolved, 0 = disordered: 0 is masked. (In all three files every
//              disorder=0 residue is labelled C and most sit at the chain ends, i.e. these are
//              the unresolved residues NetSurfP-2.0 excludes from evaluation.)
//   cb513_mask the NetSurfP-2.0 evaluation mask of CB513 (0 for residues outside the original
//              CB513 chain definitions, about 40% of that file); applied unless
//              `useEvalMask: false`. TS115 and CASP12 carry it as all ones.
// Unknown extra columns are ignored with a warning (once, at the header).
// SS3 follows labels-ss.ts: derived from dssp8 when that column is present; a row whose dssp3
// column disagrees with that mapping gets a warning (the published files agree everywhere).
//
// CSV handling: RFC 4180 quoting ("..." with "" escapes, commas and newlines allowed inside
// quotes), LF, CRLF or a lone CR, BOM, blank lines skipped. Inside a field, values are whitespace-
// separated tokens; a field without whitespace is read one character per residue ("RTDC").
// Records have no ids in this format: a record's id is `<file stem>_<row number>` (1-based data
// row), and every location names the CSV line and the column of the offending value.
// Lenient (default) returns rejected rows as notes; strict throws the first as InputError.
import path from 'node:path';
import { InputError } from './errors.js';
import {
  type DecodedSs,
  type SsConvention,
  type SsRecord,
  type SsSummary,
  DEFAULT_SS_CONVENTION,
  SS8_TO_SS3,
  applyMask,
  decodeSs3,
  decodeSs8,
  isSs3Label,
  isSs8Label,
  summariseSs,
} from './labels-ss.js';
import { NoteSink, type ParseOptions, type ParseResult, badCharsMessage, checkSequence, describeChar, findBadChars, nucleotideWarning, readText } from './lines.js';

export interface NetsurfpRecord extends SsRecord {
  /** 1-based data row (header excluded) */
  row: number;
  /** disorder column as 0/1 (1 = ordered/resolved), null if the file has none */
  ordered: Uint8Array | null;
  /** cb513_mask column as 0/1, null if the file has none */
  evalMask: Uint8Array | null;
}

export interface NetsurfpOptions extends ParseOptions {
  convention?: SsConvention;
  /** apply the cb513_mask column (default true) */
  useEvalMask?: boolean;
}

export interface NetsurfpResult extends ParseResult<NetsurfpRecord> {
  summary: SsSummary;
  /** normalised header names in file order */
  columns: string[];
}

interface Field {
  value: string;
  line: number;
  /** 1-based column of the first character of the value (after an opening quote) */
  column: number;
}

interface Row {
  line: number;
  fields: Field[];
}

/** More fields than this in one row cannot be a per-protein CSV (the real files have 5): refused at once. */
export const MAX_CSV_FIELDS = 1000;

/** RFC 4180 tokenizer that keeps the line/column of every field. Blank lines yield no row. */
export function tokenizeCsv(text: string, file: string): Row[] {
  const rows: Row[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  if (text.charCodeAt(0) === 0xfeff) {
    i = 1;
    lineStart = 1;
  }
  const n = text.length;
  while (i < n) {
    const rowLine = line;
    const fields: Field[] = [];
    // one row
    for (;;) {
      const startCol = i - lineStart + 1;
      if (text[i] === '"') {
        const qLine = line;
        const qCol = startCol;
        i++;
        let value = '';
        const vLine = line;
        const vCol = i - lineStart + 1;
        for (;;) {
          if (i >= n) throw new InputError('unterminated quoted field', { file, line: qLine, column: qCol });
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) {
            line++;
            lineStart = i + 1;
          }
          value += c;
          i++;
        }
        // only spaces may follow a closing quote before the separator
        while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
        if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          throw new InputError(`unexpected ${describeChar(text, i)} after a closing quote`, { file, line, column: i - lineStart + 1 });
        }
        fields.push({ value, line: vLine, column: vCol });
      } else {
        let j = i;
        while (j < n && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') j++;
        fields.push({ value: text.slice(i, j), line, column: startCol });
        i = j;
      }
      if (i < n && text[i] === ',') {
        if (fields.length >= MAX_CSV_FIELDS) {
          throw new InputError(`row has more than ${MAX_CSV_FIELDS} fields: not a NetSurfP/ProtTrans CSV (one protein per row, 5 columns)`, { file, line: rowLine });
        }
        i++;
        continue;
      }
      // end of row (LF, CRLF, a lone CR, or EOF)
      if (i < n && text[i] === '\r') i++;
      if (i < n && text[i] === '\n') i++;
      line++;
      lineStart = i;
      break;
    }
    const blank = fields.length === 1 && fields[0].value.trim() === '';
    if (!blank) rows.push({ line: rowLine, fields });
  }
  return rows;
}

interface Token {
  text: string;
  offset: number;
}

/** Whitespace-separated tokens of a field, or one token per character when there is no whitespace. */
function tokens(value: string): Token[] {
  const out: Token[] = [];
  if (!/\s/.test(value.trim())) {
    const t = value.trim();
    const off = value.indexOf(t);
    for (let k = 0; k < t.length; k++) out.push({ text: t[k], offset: off + k });
    return out;
  }
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) out.push({ text: m[0], offset: m.index });
  return out;
}

/** Line/column of `offset` inside a field (fields may span lines when quoted). */
function posIn(f: Field, offset: number): { line: number; column: number } {
  let line = f.line;
  let column = f.column;
  for (let k = 0; k < offset; k++) {
    const c = f.value[k];
    if (c === '\n' || (c === '\r' && f.value[k + 1] !== '\n')) {
      line++;
      column = 1;
    } else if (c !== '\r') column++;
  }
  return { line, column };
}

const KNOWN = new Set(['input', 'dssp3', 'dssp8', 'disorder', 'cb513_mask']);

export function parseNetsurfpCsv(text: string, opts: NetsurfpOptions = {}): NetsurfpResult {
  const file = opts.file ?? '<input>';
  const conv = opts.convention ?? DEFAULT_SS_CONVENTION;
  const useEvalMask = opts.useEvalMask ?? true;
  const sink = new NoteSink(opts.strict ?? false);
  if (text.charCodeAt(0) === 0xfeff) sink.changed('UTF-8 byte-order mark removed', { file, line: 1 });
  const rows = tokenizeCsv(text, file);
  if (rows.length === 0) {
    sink.warn('no rows found', { file });
    return { records: [], notes: sink.notes, summary: summariseSs([], { countP: 0, countX: 0 }, conv), columns: [] };
  }
  const header = rows[0];
  const columns = header.fields.map((f) => f.value.trim().toLowerCase());
  const col = new Map<string, number>();
  columns.forEach((c, k) => {
    if (col.has(c)) {
      throw new InputError(`column '${c}' appears twice in the header`, { file, line: header.line, column: header.fields[k].column });
    }
    col.set(c, k);
  });
  if (!col.has('input')) throw new InputError("header has no 'input' column: not a NetSurfP/ProtTrans CSV", { file, line: header.line, column: 1 });
  if (!col.has('dssp3') && !col.has('dssp8')) {
    throw new InputError("header has neither a 'dssp3' nor a 'dssp8' column", { file, line: header.line, column: 1 });
  }
  columns.forEach((c, k) => {
    if (!KNOWN.has(c)) sink.warn(`unknown column '${c}' ignored`, { file, line: header.line, column: header.fields[k].column });
  });

  const stem = path.basename(file).replace(/\.[^.]*$/, '');
  const records: NetsurfpRecord[] = [];
  const counts = { countP: 0, countX: 0 };

  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    const id = `${stem}_${r}`;
    const at = (p: { line: number; column: number }) => ({ file, record: id, line: p.line, column: p.column });
    if (row.fields.length !== columns.length) {
      sink.reject(`row has ${row.fields.length} fields but the header has ${columns.length}`, at({ line: row.line, column: 1 }));
      continue;
    }
    const field = (name: string) => row.fields[col.get(name)!];
    const inputF = field('input');
    const inputT = tokens(inputF.value);
    const multi = inputT.find((t) => t.text.length !== 1);
    if (multi) {
      sink.reject(`input value '${multi.text}' is not a single residue`, at(posIn(inputF, multi.offset)));
      continue;
    }
    const where = (f: Field, t: Token[]) => (k: number) => {
      const p = posIn(f, t[k].offset);
      return `line ${p.line}, column ${p.column}`;
    };
    const seq = checkSequence(inputT.map((t) => t.text).join(''), where(inputF, inputT));
    if (!seq.ok) {
      sink.reject(seq.reason, at(posIn(inputF, inputT[seq.offset].offset)));
      continue;
    }
    const n = seq.sequence.length;
    if (n === 0) {
      sink.reject('empty input (no residues)', at(posIn(inputF, 0)));
      continue;
    }

    // Every per-residue column must have n single tokens.
    let failed = false;
    const perResidue = (name: string): { f: Field; t: Token[] } | null => {
      if (!col.has(name) || failed) return null;
      const f = field(name);
      const t = tokens(f.value);
      if (t.length !== n) {
        sink.reject(`column '${name}' has ${t.length} values but input has ${n} residues`, at(posIn(f, t[Math.min(t.length, n)]?.offset ?? f.value.length)));
        failed = true;
        return null;
      }
      return { f, t };
    };
    const labelString = (x: { f: Field; t: Token[] }, name: string): string | null => {
      const bad = x.t.find((t) => t.text.length !== 1);
      if (bad) {
        sink.reject(`column '${name}' value '${bad.text}' is not a single label`, at(posIn(x.f, bad.offset)));
        failed = true;
        return null;
      }
      return x.t.map((t) => t.text).join('');
    };
    const binary = (x: { f: Field; t: Token[] }, name: string): Uint8Array | null => {
      const out = new Uint8Array(n);
      for (let k = 0; k < n; k++) {
        const v = Number(x.t[k].text);
        if (v === 1) out[k] = 1;
        else if (v !== 0 || x.t[k].text.trim() === '') {
          sink.reject(`column '${name}' value '${x.t[k].text}' is not 0 or 1`, at(posIn(x.f, x.t[k].offset)));
          failed = true;
          return null;
        }
      }
      return out;
    };

    const d8 = perResidue('dssp8');
    const d3 = perResidue('dssp3');
    const dis = perResidue('disorder');
    const em = perResidue('cb513_mask');
    if (failed) continue;

    let dec: DecodedSs | null = null;
    let s8: string | null = null;
    if (d8) {
      s8 = labelString(d8, 'dssp8');
      if (s8 === null) continue;
      const r8 = decodeSs8(s8, conv);
      if (!r8.ok) {
        const bad = findBadChars(s8, isSs8Label)!;
        sink.reject(badCharsMessage(s8, bad, { noun: 'dssp8 label', what: 'a DSSP state', where: where(d8.f, d8.t) }), at(posIn(d8.f, d8.t[r8.offset].offset)));
        continue;
      }
      dec = r8.labels;
    }
    if (d3) {
      const s3 = labelString(d3, 'dssp3');
      if (s3 === null) continue;
      const r3 = decodeSs3(s3);
      if (!r3.ok) {
        const bad = findBadChars(s3, isSs3Label)!;
        sink.reject(badCharsMessage(s3, bad, { noun: 'dssp3 label', what: 'a 3-state label', where: where(d3.f, d3.t) }), at(posIn(d3.f, d3.t[r3.offset].offset)));
        continue;
      }
      if (dec === null) dec = r3.labels;
      else {
        // Both present: SS3 comes from dssp8 (one convention); report where the file disagrees.
        let diff = 0;
        let firstDiff = -1;
        for (let k = 0; k < n; k++) {
          const a = dec.ss8![k];
          const b = r3.labels.ss3[k];
          if (a >= 0 && b >= 0 && SS8_TO_SS3[a] !== b) {
            diff++;
            if (firstDiff < 0) firstDiff = k;
          }
        }
        if (diff > 0) {
          sink.warn(
            `dssp3 disagrees with the SS8->SS3 mapping of dssp8 at ${diff} residue(s); SS3 is taken from dssp8`,
            at(posIn(d3.f, d3.t[firstDiff].offset)),
          );
        }
      }
    }
    const ordered = dis ? binary(dis, 'disorder') : null;
    if (failed) continue;
    const evalMask = em ? binary(em, 'cb513_mask') : null;
    if (failed) continue;
    if (seq.lowercase) sink.changed(`${seq.lowercase} lowercase residue(s) folded to uppercase`, at(posIn(inputF, 0)));
    const dna = nucleotideWarning(seq.sequence);
    if (dna) sink.warn(dna, at(posIn(inputF, 0)));
    counts.countP += dec!.countP;
    counts.countX += dec!.countX;
    if (ordered) applyMask(dec!, ordered);
    if (evalMask && useEvalMask) applyMask(dec!, evalMask);
    records.push({
      id,
      sequence: seq.sequence,
      ss8: dec!.ss8,
      ss3: dec!.ss3,
      mask: dec!.mask,
      loc: { file, record: id, line: row.line },
      row: r,
      ordered,
      evalMask,
    });
  }
  return { records, notes: sink.notes, summary: summariseSs(records, counts, conv), columns };
}

export async function readNetsurfpCsvFile(file: string, opts: Omit<NetsurfpOptions, 'file'> = {}): Promise<NetsurfpResult> {
  return parseNetsurfpCsv(await readText(file), { ...opts, file });
}
