import { describe, expect, it } from 'vitest';
import { detectFormat, parseDetected, readDataFile } from '../../src-main/engine/data/detect.js';
import { InputError } from '../../src-main/engine/data/errors.js';
import { shared } from '../helpers/paths.js';

describe('data format detection', () => {
  it('recognises each format from synthetic content', () => {
    expect(detectFormat('>P1|EUKARYA|SP|0\nMK\nSO\n').format).toBe('signalp');
    expect(detectFormat('>1abc-A SET=train VALIDATION=False\nMK\nCH\n01\n').format).toBe('flip');
    expect(detectFormat('>1abc-A\nMKV\nCHE\n011\n>2\nMK\nCC\n11\n').format).toBe('flip');
    expect(detectFormat('>1abc_A\nMKVW\nLLHX\n>2\nMK\nEE\n').format).toBe('lift-ss');
    expect(detectFormat('\ufeffinput, dssp3, dssp8\nM,C,C\n').format).toBe('netsurfp-csv');
    expect(detectFormat('"input","dssp8"\n"M","C"\n').format).toBe('netsurfp-csv');
    // plain FASTA: wrapped sequence lines that are not DSSP strings, or a single line
    expect(detectFormat('>sp|P1|X human\nMKVWAD\nRKQN\n').format).toBe('fasta');
    expect(detectFormat('>a\nMKVWADRKQN\n').format).toBe('fasta');
    expect(detectFormat('').format).toBe('unknown');
    expect(detectFormat('hello,world\n1,2\n').format).toBe('unknown');
  });

  it('parses with the detected parser and refuses unknown content with a located error', () => {
    const d = parseDetected('>P1|EUKARYA|SP|0\nMK\nSO\n', { file: 'x' });
    expect(d.format).toBe('signalp');
    if (d.format === 'signalp') expect(d.result.records[0].cleavageSite).toBe(1);
    const f = parseDetected('>a\nMKVWADRKQN\n', { file: 'x' });
    expect(f.format).toBe('fasta');
    expect(() => parseDetected('hello\n', { file: 'x' })).toThrow(InputError);
    expect(() => parseDetected('hello\n', { file: 'x' })).toThrow(/^x: cannot tell the data format/);
  });

  it('detects every shared data file correctly and parses it without rejections', async () => {
    const files: [string[], string, number][] = [
      [['secondary-structure', 'lift_ss', 'CASP12.txt'], 'lift-ss', 47],
      [['secondary-structure', 'lift_ss', 'CB433.txt'], 'lift-ss', 433],
      [['secondary-structure', 'lift_ss', 'CB634.txt'], 'lift-ss', 634],
      [['secondary-structure', 'lift_ss', 'CB634_valid.txt'], 'lift-ss', 512],
      [['secondary-structure', 'lift_ss', 'PISCES_25_valid.txt'], 'lift-ss', 512],
      [['secondary-structure', 'lift_ss', 'SPOT_1D_Valid.txt'], 'lift-ss', 983],
      [['secondary-structure', 'lift_ss', 'Test2016.txt'], 'lift-ss', 1213],
      [['secondary-structure', 'netsurfp', 'CASP12_HHblits.csv'], 'netsurfp-csv', 20],
      [['secondary-structure', 'netsurfp', 'CB513_HHblits.csv'], 'netsurfp-csv', 511],
      [['secondary-structure', 'netsurfp', 'TS115_HHblits.csv'], 'netsurfp-csv', 115],
      [['secondary-structure', 'flip', 'val.ss3.txt'], 'flip', 1080],
      [['signalp6', 'small_dataset_30.partitions-0-1.fasta'], 'signalp', 737],
      [['signalp6', 'prediction_testcase.partitions-0-1.fasta'], 'signalp', 30],
    ];
    for (const [parts, format, n] of files) {
      const d = await readDataFile(shared('data', ...parts));
      expect([parts.at(-1), d.format]).toEqual([parts.at(-1), format]);
      expect(d.result.records).toHaveLength(n);
      expect(d.result.notes).toEqual([]);
    }
  });
});
