// Writing mmCIF categories back: quoting values, laying out pairs and loops, and finding the
// byte range of a category so it can be replaced or cut out along with its '#' separator.
import { tokenValue, type Category, type Tokens } from './cif.js';
import type { Edit } from './text.js';

/** A cell to write: raw source text of a kept token, or a plain value to quote as needed. */
export type Cell = { raw: string } | { value: string | null };

const RESERVED = /^(data_|save_|loop_|global_|stop_)/i;

/** CIF token text for a value: bare when safe, else quoted, else a ;text field; null -> '?'. */
export function quote(v: string | null, eol: string): string {
  if (v === null) return '?';
  if (/[\r\n]/.test(v)) return `;${v.replace(/\r\n|\r|\n/g, eol)}${eol};`;
  if (v !== '' && !/\s/.test(v) && !/^[_#$'";[\]]/.test(v) && !RESERVED.test(v) && v !== '?' && v !== '.') return v;
  if (!/'(\s|$)/.test(v)) return `'${v}'`;
  if (!/"(\s|$)/.test(v)) return `"${v}"`;
  return `;${v}${eol};`;
}

const cellText = (c: Cell, eol: string) => ('raw' in c ? c.raw : quote(c.value, eol));
const isTextField = (s: string) => s.startsWith(';');

/** The source text of every row of a category, cell by cell. */
export function rawRows(t: Tokens, c: Category): string[][] {
  const rows: string[][] = [];
  for (let r = 0; r < c.rows; r++) {
    const row: string[] = [];
    for (let k = 0; k < c.items.length; k++) {
      const i = c.cells(r, k);
      row.push(t.text.slice(t.start[i]!, t.end[i]!));
    }
    rows.push(row);
  }
  return rows;
}

export function cellValue(t: Tokens, c: Category, row: number, item: string): string | undefined {
  const k = c.items.indexOf(item);
  return k < 0 ? undefined : tokenValue(t, c.cells(row, k));
}

/** A category as text (no trailing newline): key-value pairs for one row, a loop_ otherwise. */
export function formatCategory(tags: string[], rows: Cell[][], eol: string): string {
  const texts = rows.map((r) => r.map((c) => cellText(c, eol)));
  if (texts.length === 1) {
    const w = Math.max(...tags.map((t) => t.length)) + 1;
    return tags
      .map((tag, k) => {
        const v = texts[0]![k]!;
        return isTextField(v) ? `${tag}${eol}${v}` : `${tag.padEnd(w)}${v}`;
      })
      .join(eol);
  }
  const widths = tags.map((_, k) => Math.max(...texts.map((r) => (isTextField(r[k]!) ? 0 : r[k]!.length))));
  const lines = ['loop_', ...tags];
  for (const r of texts) {
    let cur = '';
    r.forEach((v, k) => {
      if (isTextField(v)) {
        if (cur) lines.push(cur.trimEnd());
        lines.push(v);
        cur = '';
      } else cur += v.padEnd(widths[k]!) + ' ';
    });
    if (cur) lines.push(cur.trimEnd());
  }
  return lines.join(eol);
}

const isEolChar = (c: string | undefined) => c === '\n' || c === '\r';

function lineStartOf(text: string, i: number): number {
  while (i > 0 && !isEolChar(text[i - 1])) i--;
  return i;
}
/** Offset just past the end of the line containing i (terminator included). */
function lineEndOf(text: string, i: number): number {
  while (i < text.length && !isEolChar(text[i])) i++;
  if (text[i] === '\r' && text[i + 1] === '\n') return i + 2;
  return i < text.length ? i + 1 : i;
}
/** Start of the line before the line that starts at `start` (stepping over a CRLF as one terminator). */
function prevLineStart(text: string, start: number): number {
  let p = start;
  if (text[p - 1] === '\n') p--;
  if (text[p - 1] === '\r') p--;
  return lineStartOf(text, p);
}
const lineAtText = (text: string, start: number) => text.slice(start, lineEndOf(text, start)).replace(/[\r\n]+$/, '');
const isSeparator = (line: string) => /^#\s*$/.test(line);

/** Byte range of one span of a category, widened to whole lines when it has its lines to itself. */
export function spanRange(t: Tokens, span: { first: number; last: number }): { start: number; end: number } {
  const text = t.text;
  let start = t.start[span.first]!;
  let end = t.end[span.last]!;
  const ls = lineStartOf(text, start);
  if (text.slice(ls, start).trim() === '') start = ls;
  const le = lineEndOf(text, end);
  const rest = text.slice(end, le).trim();
  if (rest === '' || rest.startsWith('#')) end = le;
  return { start, end };
}

/** The '#' line right before a category, if the file separates categories that way. */
export function separatorBefore(t: Tokens, c: Category): string | undefined {
  const { start } = spanRange(t, c.spans[0]!);
  if (start === 0 || !isEolChar(t.text[start - 1])) return undefined;
  const prev = lineAtText(t.text, prevLineStart(t.text, start));
  return isSeparator(prev) ? prev : undefined;
}

/** Edits that delete a category (and one of the two '#' separators around it). */
export function removeCategory(t: Tokens, c: Category): Edit[] {
  return c.spans.map((span) => {
    const { start, end } = spanRange(t, span);
    let e = end;
    const prevSep = start > 0 && isEolChar(t.text[start - 1]) && isSeparator(lineAtText(t.text, prevLineStart(t.text, start)));
    if (prevSep && e < t.text.length && isSeparator(lineAtText(t.text, e))) e = lineEndOf(t.text, e);
    return { start, end: e, text: '' };
  });
}

/** Edits that put `body` (no trailing newline) in place of a category. */
export function replaceCategory(t: Tokens, c: Category, body: string, eol: string): Edit[] {
  const [first, ...rest] = c.spans.map((s) => spanRange(t, s));
  const ends = t.text.slice(first!.start, first!.end);
  const edits: Edit[] = [{ start: first!.start, end: first!.end, text: body + (/[\r\n]$/.test(ends) ? eol : '') }];
  for (const r of rest) edits.push({ start: r.start, end: r.end, text: '' });
  return edits;
}

/** An edit that inserts a new category before `anchor` (or at the end), with a separator if the file uses them. */
export function insertCategory(t: Tokens, anchor: Category | undefined, body: string, eol: string, defaultSep: string | undefined): Edit {
  if (anchor) {
    const { start } = spanRange(t, anchor.spans[0]!);
    const sep = separatorBefore(t, anchor);
    return { start, end: start, text: body + eol + (sep !== undefined ? sep + eol : '') };
  }
  const text = t.text;
  const needEol = text.length > 0 && !isEolChar(text[text.length - 1]);
  return { start: text.length, end: text.length, text: (needEol ? eol : '') + body + eol + (defaultSep !== undefined ? defaultSep + eol : '') };
}
