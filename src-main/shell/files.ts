// File kinds the window opens (dialogs, drag and drop). Pure: used by the main process and
// bundled into the preload.

export type OpenKind = 'fasta' | 'structure';

export const FILE_EXTENSIONS: Readonly<Record<OpenKind, readonly string[]>> = {
  fasta: ['fasta', 'fa', 'faa', 'fas', 'fsa', 'mpfa', 'seq'],
  structure: ['pdb', 'ent', 'cif', 'mmcif'],
};

/** Filters for Electron's open dialog. */
export function dialogFilters(kind: OpenKind): { name: string; extensions: string[] }[] {
  const name = kind === 'fasta' ? 'FASTA sequences' : 'Structures (PDB, mmCIF)';
  return [
    { name, extensions: [...FILE_EXTENSIONS[kind]] },
    { name: 'All files', extensions: ['*'] },
  ];
}

/** The kind of a file by its extension (`.gz` is not read), or undefined. */
export function fileKind(file: string): OpenKind | undefined {
  const m = /\.([A-Za-z0-9]+)$/.exec(file);
  const ext = m?.[1].toLowerCase();
  if (!ext) return undefined;
  if (FILE_EXTENSIONS.fasta.includes(ext) || ext === 'txt') return 'fasta';
  if (FILE_EXTENSIONS.structure.includes(ext)) return 'structure';
  return undefined;
}
