// FASTA output: `>id description`, the sequence wrapped at 60 residues per line (0 = one line),
// written atomically (temporary name, then rename).
import { writeFileAtomic } from '../atomic.js';

export interface FastaEntry {
  id: string;
  description?: string;
  sequence: string;
}

export function formatFasta(entries: Iterable<FastaEntry>, width = 60): string {
  let out = '';
  for (const e of entries) {
    if (/\s/.test(e.id) || e.id === '') throw new Error(`FASTA: id '${e.id}' is empty or contains whitespace`);
    if (e.description !== undefined && /[\r\n]/.test(e.description)) throw new Error(`FASTA: description of '${e.id}' contains a line break`);
    out += `>${e.id}${e.description ? ` ${e.description}` : ''}\n`;
    if (e.sequence.length === 0) continue;
    const w = width > 0 ? width : e.sequence.length;
    for (let i = 0; i < e.sequence.length; i += w) out += `${e.sequence.slice(i, i + w)}\n`;
  }
  return out;
}

export function writeFasta(file: string, entries: Iterable<FastaEntry>, width = 60): void {
  writeFileAtomic(file, formatFasta(entries, width));
}
