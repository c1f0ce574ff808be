// CSV (RFC 4180): comma-separated, a field is quoted when it holds a comma, a quote, CR or LF
// (quotes doubled), lines end in \n, numbers are written as JavaScript prints them (shortest
// round-trip form) unless the caller formats them, null/undefined are empty fields.
// Files are written atomically (temporary name, then rename).
import { writeFileAtomic } from '../atomic.js';

export type CsvValue = string | number | null | undefined;

export function csvField(v: CsvValue): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : v > 0 ? 'Infinity' : v < 0 ? '-Infinity' : 'NaN') : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One line of a file with `width` columns (checked when given), with its line end. */
export function csvLine(row: readonly CsvValue[], width?: number): string {
  if (width !== undefined && row.length !== width) throw new Error(`CSV row has ${row.length} fields, header ${width}`);
  return `${row.map(csvField).join(',')}\n`;
}

export function formatCsv(header: readonly string[], rows: Iterable<readonly CsvValue[]>): string {
  const out: string[] = [csvLine(header)];
  for (const r of rows) out.push(csvLine(r, header.length));
  return out.join('');
}

export function writeCsv(file: string, header: readonly string[], rows: Iterable<readonly CsvValue[]>): void {
  writeFileAtomic(file, formatCsv(header, rows));
}

/** Parses what formatCsv writes (quoted fields, doubled quotes, embedded newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
