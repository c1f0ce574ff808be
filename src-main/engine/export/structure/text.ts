// Byte-exact text handling shared by the PDB and mmCIF code. Structure files are read as
// latin1 so that one JavaScript character is exactly one byte: offsets are byte offsets, any
// non-ASCII byte survives a round trip untouched, and an edit can change only the bytes it means.

export function decodeBytes(buf: Uint8Array): string {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('latin1');
}

export function encodeText(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/** One physical line: its text without terminator, and the terminator as found ('' on a last line without one). */
export interface Line {
  /** byte offset of the first character */
  start: number;
  text: string;
  eol: '' | '\n' | '\r\n' | '\r';
}

/** Split keeping every terminator, so that joining `text + eol` gives back the input exactly. */
export function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  const re = /\r\n|\n|\r/g;
  let start = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    lines.push({ start, text: text.slice(start, m.index), eol: m[0] as Line['eol'] });
    start = m.index + m[0].length;
  }
  if (start < text.length) lines.push({ start, text: text.slice(start), eol: '' });
  return lines;
}

/** The terminator most lines use; new lines we add get this one so a CRLF file stays CRLF. */
export function dominantEol(lines: Line[]): '\n' | '\r\n' | '\r' {
  const count = { '\n': 0, '\r\n': 0, '\r': 0 };
  for (const l of lines) if (l.eol) count[l.eol]++;
  if (count['\r\n'] > count['\n'] && count['\r\n'] >= count['\r']) return '\r\n';
  if (count['\r'] > count['\n']) return '\r';
  return '\n';
}

/** A replacement of the bytes [start, end) by `text`; an insertion has start === end. */
export interface Edit {
  start: number;
  end: number;
  text: string;
}

/**
 * Apply non-overlapping edits. Insertions at the same offset keep the order they were given
 * in, which lets a writer put several new blocks at one anchor.
 */
export function applyEdits(text: string, edits: Edit[]): string {
  const sorted = edits.map((e, i) => ({ e, i })).sort((a, b) => a.e.start - b.e.start || a.e.end - b.e.end || a.i - b.i);
  const out: string[] = [];
  let pos = 0;
  for (const { e } of sorted) {
    if (e.start < pos) throw new Error(`internal error: overlapping edits at byte ${e.start}`);
    out.push(text.slice(pos, e.start), e.text);
    pos = e.end;
  }
  out.push(text.slice(pos));
  return out.join('');
}

/** Lines of at most `width` characters, breaking at spaces (a word longer than width is cut). */
export function wrapWords(text: string, width: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    let w = word;
    while (w.length > width) {
      if (cur) out.push(cur), (cur = '');
      out.push(w.slice(0, width));
      w = w.slice(width);
    }
    if (!w) continue;
    if (!cur) cur = w;
    else if (cur.length + 1 + w.length <= width) cur += ' ' + w;
    else out.push(cur), (cur = w);
  }
  if (cur) out.push(cur);
  return out;
}
