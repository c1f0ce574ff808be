// A CIF 1.1 / mmCIF (PDBx) reader that remembers where every token is. Tokens: bare words,
// 'single' and "double" quoted strings (a quote closes only when followed by whitespace),
// ;text fields; (a ';' in column 1 opens and closes them), tags (_category.item), loop_, data_
// and # comments. '?' (unknown) and '.' (inapplicable) are nulls only when unquoted.
// Categories are views onto token indices, so a writer can replace one value in place or cut
// a whole category out by its byte range.
import { InputError } from '../../data/errors.js';

/** Token kinds; the value kinds come first so `kind <= Tok.TextField` means "a value". */
export const Tok = { Bare: 0, SingleQuoted: 1, DoubleQuoted: 2, TextField: 3, Tag: 4, Loop: 5, Data: 6, Reserved: 7 } as const;

export interface Tokens {
  text: string;
  count: number;
  kind: Uint8Array;
  start: Int32Array;
  end: Int32Array;
}

export interface Category {
  /** lower-case category name without the leading '_' ('atom_site') */
  name: string;
  /** lower-case item names in order ('group_pdb', 'id', ...) */
  items: string[];
  /** the tags as written ('_atom_site.group_PDB', ...), to write a category back unchanged in case */
  tags: string[];
  loop: boolean;
  rows: number;
  /** token index of a value; use cell() */
  cells: (row: number, col: number) => number;
  /** first and last token (loop_ or first tag, last value) of each place the category was written */
  spans: { first: number; last: number }[];
}

export interface CifBlock {
  name: string;
  categories: Map<string, Category>;
  /** categories in the order they appear */
  order: Category[];
}

const isWs = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;
const isEol = (c: number) => c === 10 || c === 13;

/** Offsets where lines start, for turning byte offsets into line numbers. */
export function lineStarts(text: string): Int32Array {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) starts.push(i + 1);
  }
  return Int32Array.from(starts);
}

/** 1-based line of a byte offset. */
export function lineAt(starts: Int32Array, offset: number): number {
  let lo = 0, hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/** 1-based line of a byte offset (for one-off messages). */
export function lineOf(text: string, offset: number): number {
  return lineAt(lineStarts(text.slice(0, offset + 1)), offset);
}

export function tokenize(text: string, file: string): Tokens {
  let cap = 1 << 16;
  let kind = new Uint8Array(cap);
  let start = new Int32Array(cap);
  let end = new Int32Array(cap);
  let count = 0;
  const push = (k: number, s: number, e: number) => {
    if (count === cap) {
      cap *= 2;
      const k2 = new Uint8Array(cap), s2 = new Int32Array(cap), e2 = new Int32Array(cap);
      k2.set(kind), s2.set(start), e2.set(end);
      (kind = k2), (start = s2), (end = e2);
    }
    kind[count] = k;
    start[count] = s;
    end[count] = e;
    count++;
  };
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isWs(c)) {
      i++;
      continue;
    }
    if (c === 35 /* # */) {
      while (i < n && !isEol(text.charCodeAt(i))) i++;
      continue;
    }
    const atLineStart = i === 0 || isEol(text.charCodeAt(i - 1));
    if (c === 59 /* ; */ && atLineStart) {
      const close = /(\r\n|\n|\r);/g;
      close.lastIndex = i + 1;
      const m = close.exec(text);
      if (!m) throw new InputError('text field opened with ; is never closed', { file, line: lineOf(text, i) });
      const e = m.index + m[0].length;
      push(Tok.TextField, i, e);
      i = e;
      continue;
    }
    if (c === 39 || c === 34 /* ' " */) {
      let j = i + 1;
      for (;;) {
        if (j >= n || isEol(text.charCodeAt(j))) {
          throw new InputError('quoted string is not closed on its line', { file, line: lineOf(text, i) });
        }
        if (text.charCodeAt(j) === c && (j + 1 >= n || isWs(text.charCodeAt(j + 1)))) break;
        j++;
      }
      push(c === 39 ? Tok.SingleQuoted : Tok.DoubleQuoted, i, j + 1);
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < n && !isWs(text.charCodeAt(j))) j++;
    const word = text.slice(i, Math.min(j, i + 8)).toLowerCase();
    let k: number = Tok.Bare;
    if (c === 95 /* _ */) k = Tok.Tag;
    else if (word === 'loop_' && j - i === 5) k = Tok.Loop;
    else if (word.startsWith('data_')) k = Tok.Data;
    else if (word.startsWith('save_') || (word === 'global_' && j - i === 7) || (word === 'stop_' && j - i === 5)) k = Tok.Reserved;
    push(k, i, j);
    i = j;
  }
  return { text, count, kind, start, end };
}

/** The value a token stands for (quotes and text-field delimiters removed). */
export function tokenValue(t: Tokens, i: number): string {
  const s = t.start[i]!, e = t.end[i]!;
  switch (t.kind[i]) {
    case Tok.SingleQuoted:
    case Tok.DoubleQuoted:
      return t.text.slice(s + 1, e - 1);
    case Tok.TextField:
      return t.text.slice(s + 1, e - 1).replace(/(\r\n|\n|\r)$/, '');
    default:
      return t.text.slice(s, e);
  }
}

/** Whether the token is an unquoted '?' or '.'. */
export function isNull(t: Tokens, i: number): boolean {
  return t.kind[i] === Tok.Bare && t.end[i]! - t.start[i]! === 1 && (t.text[t.start[i]!] === '?' || t.text[t.start[i]!] === '.');
}

function splitTag(tag: string): [string, string] {
  const dot = tag.indexOf('.');
  return dot < 0 ? [tag.slice(1).toLowerCase(), ''] : [tag.slice(1, dot).toLowerCase(), tag.slice(dot + 1).toLowerCase()];
}

/** Parse the data blocks of a tokenized file into categories. */
export function parseBlocks(t: Tokens, file: string): CifBlock[] {
  const blocks: CifBlock[] = [];
  let block: CifBlock | undefined;
  const where = (i: number) => ({ file, line: lineOf(t.text, t.start[i]!) });
  const isValue = (i: number) => i < t.count && t.kind[i]! <= Tok.TextField;
  let i = 0;
  while (i < t.count) {
    const k = t.kind[i];
    if (k === Tok.Data) {
      block = { name: t.text.slice(t.start[i]! + 5, t.end[i]!), categories: new Map(), order: [] };
      blocks.push(block);
      i++;
      continue;
    }
    if (k === Tok.Reserved) throw new InputError(`'${tokenValue(t, i)}' (save frames, global_, stop_) is not supported in mmCIF coordinate files`, where(i));
    if (!block) throw new InputError('content before the first data_ block', where(i));
    if (k === Tok.Loop) {
      const first = i;
      i++;
      const tags: number[] = [];
      while (i < t.count && t.kind[i] === Tok.Tag) tags.push(i++);
      if (tags.length === 0) throw new InputError('loop_ without tags', where(first));
      const names = tags.map((x) => splitTag(tokenValue(t, x)));
      const cat = names[0]![0];
      if (names.some(([c]) => c !== cat)) throw new InputError(`loop_ mixes categories (${[...new Set(names.map(([c]) => c))].join(', ')})`, where(first));
      const valueStart = i;
      while (isValue(i)) i++;
      const nValues = i - valueStart;
      if (nValues % tags.length !== 0) {
        throw new InputError(`loop_ of _${cat} has ${nValues} values for ${tags.length} columns (not a whole number of rows)`, where(first));
      }
      if (block.categories.has(cat)) throw new InputError(`category _${cat} appears twice`, where(first));
      const ncol = tags.length;
      const c: Category = {
        name: cat,
        items: names.map(([, item]) => item),
        tags: tags.map((x) => tokenValue(t, x)),
        loop: true,
        rows: nValues / ncol,
        cells: (row, col) => valueStart + row * ncol + col,
        spans: [{ first, last: Math.max(i - 1, tags[tags.length - 1]!) }],
      };
      block.categories.set(cat, c);
      block.order.push(c);
      continue;
    }
    if (k === Tok.Tag) {
      const [cat, item] = splitTag(tokenValue(t, i));
      if (!isValue(i + 1)) throw new InputError(`tag ${tokenValue(t, i)} has no value`, where(i));
      let c = block.categories.get(cat);
      if (c && c.loop) throw new InputError(`category _${cat} appears twice`, where(i));
      if (!c) {
        const cellTokens: number[] = [];
        c = { name: cat, items: [], tags: [], loop: false, rows: 1, cells: (_row, col) => cellTokens[col]!, spans: [] };
        (c as Category & { cellTokens: number[] }).cellTokens = cellTokens;
        block.categories.set(cat, c);
        block.order.push(c);
      }
      const cellTokens = (c as Category & { cellTokens: number[] }).cellTokens;
      c.items.push(item);
      c.tags.push(tokenValue(t, i));
      cellTokens.push(i + 1);
      const last = c.spans[c.spans.length - 1];
      if (last && last.last === i - 1) last.last = i + 1;
      else c.spans.push({ first: i, last: i + 1 });
      i += 2;
      continue;
    }
    throw new InputError(`value '${tokenValue(t, i).slice(0, 40)}' without a tag`, where(i));
  }
  return blocks;
}

/** Column index of an item in a category, or -1. */
export function itemIndex(c: Category, item: string): number {
  return c.items.indexOf(item.toLowerCase());
}
