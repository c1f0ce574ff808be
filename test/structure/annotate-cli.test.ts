// `plmw annotate` end to end on real files: the written file, the printed report, and errors
// that name the file and line (or list what exists), with the exit status they carry.
import { mkdtempSync, readdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { annotateCommand } from '../../src-main/cli/commands/annotate.js';
import { UserError } from '../../src-main/cli/command.js';
import { shared } from '../helpers/paths.js';

const UBQ = 'MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG';
const ubqPdb = shared('fixtures', 'pdb', '1ubq.pdb');

let dir: string;
let log: string[];
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'plmw-annotate-'));
  log = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void log.push(a.join(' ')));
});
afterEach(() => vi.restoreAllMocks());

const write = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};
const csv = (rows: [number, number | string][], header = 'position,score,note') => [header, ...rows.map(([p, s]) => `${p},${s},x`)].join('\n') + '\n';

async function fails(args: string[]): Promise<UserError> {
  try {
    await annotateCommand.run(args);
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected the command to fail');
}

describe('plmw annotate', () => {
  it('writes the annotated file atomically and prints the mapping report', async () => {
    const scores = write('s.csv', csv(Array.from({ length: 76 }, (_, k) => [k + 1, (k % 10) / 10])));
    const out = path.join(dir, 'out.pdb');
    const code = await annotateCommand.run(['--structure', ubqPdb, '--chain', 'A', '--scores', scores, '--out', out, '--ss3', 'C'.repeat(10) + 'H'.repeat(20) + 'C'.repeat(46), '--run-label', 'cli run']);
    expect(code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['out.pdb', 's.csv']); // no OUT.tmp-<pid> left behind
    const text = readFileSync(out, 'latin1');
    const atoms = text.split('\n').filter((l) => l.startsWith('ATOM  '));
    for (const l of atoms) expect(Number(l.slice(60, 66))).toBeCloseTo(((Number(l.slice(22, 26)) - 1) % 10) * 10, 6);
    expect(text.split('\n').filter((l) => l.startsWith('HELIX ')).map((l) => l.slice(15, 38))).toEqual(['LYS A   11  ILE A   30 ']); // residues 11-30 by the HELIX columns 16-38
    expect(text).toContain('cli run');
    const printed = log.join('\n');
    expect(printed).toContain('mapping onto chain A: positions are chain residues in coordinate order');
    expect(printed).toContain('602 atoms of chain A updated (76 residues scored, 0 without a score set to 0.00)');
  });

  it('maps CSV positions through --sequence and through --fasta --record', async () => {
    const tag = 'MHHHHHHENLYFQG';
    const scores = write('s.csv', csv([[tag.length + 1, 0.42], [3, 0.9]]));
    const out = path.join(dir, 'out.pdb');
    await annotateCommand.run(['--structure', ubqPdb, '--chain', 'A', '--scores', scores, '--out', out, '--sequence', tag + UBQ]);
    const met1 = readFileSync(out, 'latin1').split('\n').filter((l) => l.startsWith('ATOM  ') && l.slice(22, 26) === '   1');
    expect(met1.map((l) => l.slice(60, 66))).toEqual(new Array(8).fill(' 42.00'));
    expect(log.join('\n')).toContain(`sequence positions without a residue: 1-${tag.length}`);

    const fasta = write('p.fasta', `>other some protein\nMKV\n>ubq_tagged human ubiquitin\n${tag}\n${UBQ.slice(0, 40)}\n${UBQ.slice(40)}\n`);
    const out2 = path.join(dir, 'out2.pdb');
    await annotateCommand.run(['--structure', ubqPdb, '--chain', 'A', '--scores', scores, '--out', out2, '--fasta', fasta, '--record', 'ubq_tagged']);
    expect(readFileSync(out2)).toEqual(readFileSync(out));
    const e = await fails(['--structure', ubqPdb, '--chain', 'A', '--scores', scores, '--out', out2, '--fasta', fasta, '--record', 'nope']);
    expect(e.message).toMatch(/p\.fasta: no record 'nope' \(records: other, ubq_tagged\)/);
  });

  it('refuses a sequence that is not the chain: report, exit status 1, no output file', async () => {
    const scores = write('s.csv', csv([[1, 0.5]]));
    const out = path.join(dir, 'never.pdb');
    const e = await fails(['--structure', ubqPdb, '--chain', 'A', '--scores', scores, '--out', out, '--sequence', 'MKALIVLGLVLLSVTVQGKVFERCELARTLKRLGMDGYRGISLANWMCLAKWESGYNTRATNYNAGDRSTDYGIFQINSRYWCNDGKTPGAVNACHLSCSALLQDNIADAVACAKRVVRDPQGIRAWVAWRNRCQNRDVRQYVQGCGV']);
    expect(e.exitCode).toBe(1);
    expect(e.message).toMatch(/1ubq\.pdb: sequence does not match chain A: identity 0\.\d+ over \d+ aligned residues is below 0\.5/);
    expect(e.message).toContain('mismatches');
    expect(existsSync(out)).toBe(false);
  });

  it.each([
    ['a score outside [0,1]', csv([[1, 0.5], [2, 1.3]]), /s\.csv:3: score 1\.3 is outside \[0,1\]/],
    ['a non-numeric score', csv([[1, 'high']]), /s\.csv:2: score 'high' is not a number/],
    ['an empty score', 'position,score\n1,\n', /s\.csv:2: score '' is not a number/],
    ['a position past the chain', csv([[77, 0.5]]), /s\.csv:2: position 77 is out of range 1\.\.76 \(chain A has 76 residues\)/],
    ['a position that is not a whole number', csv([[1.5, 0.5]]), /s\.csv:2: position '1\.5' is not a whole number/],
    ['a repeated position', csv([[4, 0.5], [4, 0.6]]), /s\.csv:3: position 4 repeats line 2/],
    ['a header without the score column', 'position,value\n1,0.5\n', /s\.csv:1: header must name the columns 'position' and 'score'/],
  ])('names file and line for %s', async (_what, text, message) => {
    const e = await fails(['--structure', ubqPdb, '--chain', 'A', '--scores', write('s.csv', text), '--out', path.join(dir, 'o.pdb')]);
    expect(e.message).toMatch(message);
    expect(e.exitCode).toBe(1);
  });

  it('says when the output cannot be written', async () => {
    const e = await fails(['--structure', ubqPdb, '--chain', 'A', '--scores', write('s.csv', csv([[1, 0.5]])), '--out', path.join(dir, 'missing-dir', 'o.pdb')]);
    expect(e.message).toMatch(/missing-dir\/o\.pdb: cannot write: no such file or directory \[ENOENT\]/);
    expect(readdirSync(dir)).toEqual(['s.csv']);
  });

  it('lists the chains that exist when the chain is not there', async () => {
    const e = await fails(['--structure', shared('fixtures', 'pdb', '4hhb.pdb'), '--chain', 'E', '--scores', write('s.csv', csv([[1, 0.5]])), '--out', path.join(dir, 'o.pdb')]);
    expect(e.message).toMatch(/4hhb\.pdb: chain 'E' has no polymer residues in the first model; chains with polymer residues: A, B, C, D/);
  });

  it('checks --ss3 and the usage', async () => {
    const scores = write('s.csv', csv([[1, 0.5]]));
    const base = ['--structure', ubqPdb, '--chain', 'A', '--scores', scores, '--out', path.join(dir, 'o.pdb')];
    expect((await fails([...base, '--ss3', 'HHX'])).message).toMatch(/--ss3: secondary structure string: 'X' at position 3 is not H, E or C/);
    expect((await fails([...base, '--ss3', 'HHH'])).message).toMatch(/--ss3: secondary structure string has 3 states for 76 sequence positions/);
    const usage = await fails(base.slice(0, 6));
    expect(usage.exitCode).toBe(2);
    expect(usage.message).toMatch(/--out is required/);
    expect((await fails([...base, '--bogus'])).exitCode).toBe(2);
  });

  it('annotates an mmCIF file (1gbt) by author chain, and accepts a label_asym_id', async () => {
    const cif = shared('fixtures', 'pdb', '1gbt.cif');
    const scores = write('s.csv', csv([[1, 0.125], [223, 1]]));
    const out = path.join(dir, 'out.cif');
    await annotateCommand.run(['--structure', cif, '--chain', 'A', '--scores', scores, '--out', out]);
    const rows = readFileSync(out, 'latin1').split('\n').filter((l) => l.startsWith('ATOM '));
    expect(rows[0]!.split(/\s+/)[14]).toBe('12.50'); // ILE 16, the first residue (B was 3.47)
    expect(rows[rows.length - 1]!.split(/\s+/)[14]).toBe('100.00');
    const e = await fails(['--structure', cif, '--chain', 'Z', '--scores', scores, '--out', out]);
    expect(e.message).toMatch(/chains with polymer residues: A/);
  });
});
