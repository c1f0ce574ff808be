import { describe, expect, it } from 'vitest';
import {
  SS3_STATES,
  SS8_STATES,
  SS8_TO_SS3,
  applyMask,
  decodeSs3,
  decodeSs8,
  describeSsConvention,
  encodeSs,
} from '../../src-main/engine/data/labels-ss.js';

function ok(r: ReturnType<typeof decodeSs8>) {
  if (!r.ok) throw new Error(`decode failed at ${r.offset} (${r.char})`);
  return r.labels;
}

describe('secondary-structure labels', () => {
  it('maps SS8 to SS3 as {G,H,I}->H, {B,E}->E, others->C', () => {
    const to3 = [...SS8_STATES].map((_, i) => SS3_STATES[SS8_TO_SS3[i]]).join('');
    // G H I B E S T C
    expect(to3).toBe('HHHEECCC');
  });

  it('decodes every DSSP letter and the coil spellings L, C, - and space to the same index', () => {
    const d = ok(decodeSs8('GHIBESTCL- '));
    expect(encodeSs(d.ss8!, SS8_STATES)).toBe('GHIBESTCCCC');
    expect(encodeSs(d.ss3, SS3_STATES)).toBe('HHHEECCCCCC');
    expect([...d.mask]).toEqual(new Array(11).fill(1));
  });

  it('masks X whatever the P convention, and counts it', () => {
    const d = ok(decodeSs8('HXE'));
    expect([...d.ss8!]).toEqual([1, -1, 4]);
    expect([...d.ss3]).toEqual([0, -1, 1]);
    expect([...d.mask]).toEqual([1, 0, 1]);
    expect(d.countX).toBe(1);
  });

  it("maps P to coil by default and masks it under the 'mask' convention", () => {
    const coil = ok(decodeSs8('PPH'));
    expect(encodeSs(coil.ss8!, SS8_STATES)).toBe('CCH');
    expect([...coil.mask]).toEqual([1, 1, 1]);
    expect(coil.countP).toBe(2);
    const masked = ok(decodeSs8('PPH', { polyproline: 'mask' }));
    expect([...masked.ss8!]).toEqual([-1, -1, 1]);
    expect([...masked.mask]).toEqual([0, 0, 1]);
    expect(masked.countP).toBe(2);
    expect(describeSsConvention()).toContain('P (PPII) -> C');
    expect(describeSsConvention({ polyproline: 'mask' })).toContain('P (PPII) residues masked');
  });

  it('reports the first unknown letter with its offset (lowercase is not a DSSP state)', () => {
    expect(decodeSs8('HHhE')).toEqual({ ok: false, offset: 2, char: 'h' });
    expect(decodeSs8('HH_')).toEqual({ ok: false, offset: 2, char: '_' });
  });

  it('decodes 3-state strings and refuses 8-state letters in them', () => {
    const d = ok(decodeSs3('HECL-X'));
    expect(d.ss8).toBeNull();
    expect([...d.ss3]).toEqual([0, 1, 2, 2, 2, -1]);
    expect(decodeSs3('HGE')).toEqual({ ok: false, offset: 1, char: 'G' });
  });

  it('applies an extra mask to every label array', () => {
    const d = applyMask(ok(decodeSs8('HEC')), [1, 0, 1]);
    expect([...d.ss8!]).toEqual([1, -1, 7]);
    expect([...d.ss3]).toEqual([0, -1, 2]);
    expect([...d.mask]).toEqual([1, 0, 1]);
  });
});
