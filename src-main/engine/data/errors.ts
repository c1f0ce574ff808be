// Located problems in input files. Every parser reports where a problem is (file, record,
// line, column) and never skips silently: a record is either accepted, accepted with a note
// saying what was changed, or rejected with an error.

export interface Location {
  file: string;
  /** record id (e.g. FASTA header id) or 1-based record number */
  record?: string | number;
  /** 1-based line */
  line?: number;
  /** 1-based column */
  column?: number;
  /** 0-based byte offset in the file (binary formats, undecodable text) */
  offset?: number;
}

export function formatLocation(loc: Location): string {
  let s = loc.file;
  if (loc.line !== undefined) s += `:${loc.line}`;
  if (loc.line !== undefined && loc.column !== undefined) s += `:${loc.column}`;
  if (loc.record !== undefined) s += ` (record ${typeof loc.record === 'number' ? `#${loc.record}` : `'${loc.record}'`})`;
  if (loc.offset !== undefined && loc.line === undefined) s += ` (byte ${loc.offset})`;
  return s;
}

/** A fatal problem with an input file. */
export class InputError extends Error {
  override name = 'InputError';
  constructor(
    readonly reason: string,
    readonly loc: Location,
  ) {
    super(`${formatLocation(loc)}: ${reason}`);
  }
}

/** A per-record finding: what was changed, rejected, or is worth a warning. */
export interface Note {
  kind: 'changed' | 'rejected' | 'warning';
  message: string;
  loc: Location;
}

export function formatNote(n: Note): string {
  return `${formatLocation(n.loc)}: ${n.kind}: ${n.message}`;
}
