import { describe, expect, it } from 'vitest';
import { dialogFilters, fileKind } from '../../src-main/shell/files.js';
import { isAllowedNavigation } from '../../src-main/shell/window-policy.js';

describe('navigation policy', () => {
  const app = 'file:///opt/plm workbench/out/renderer';
  it('allows the app folder only, after normalisation', () => {
    expect(isAllowedNavigation('file:///opt/plm%20workbench/out/renderer/index.html#/runs', app)).toBe(true);
    expect(isAllowedNavigation('file:///opt/plm%20workbench/out/renderer-evil/index.html', app)).toBe(false);
    expect(isAllowedNavigation('file:///opt/plm%20workbench/out/renderer/../../../etc/passwd', app)).toBe(false);
    expect(isAllowedNavigation('https://evil.example/', app)).toBe(false);
    expect(isAllowedNavigation('not a url', app)).toBe(false);
  });
  it('allows the dev server origin in development', () => {
    expect(isAllowedNavigation('http://localhost:5173/runs', 'http://localhost:5173')).toBe(true);
    expect(isAllowedNavigation('http://localhost:5174/', 'http://localhost:5173')).toBe(false);
  });
});

describe('file kinds', () => {
  it('recognises FASTA and structure files by extension', () => {
    expect(fileKind('/a/b/seqs.FASTA')).toBe('fasta');
    expect(fileKind('x.faa')).toBe('fasta');
    expect(fileKind('model.cif')).toBe('structure');
    expect(fileKind('1ubq.pdb')).toBe('structure');
    expect(fileKind('notes.docx')).toBeUndefined();
    expect(fileKind('noext')).toBeUndefined();
    expect(dialogFilters('structure')[0].extensions).toEqual(['pdb', 'ent', 'cif', 'mmcif']);
  });
});
