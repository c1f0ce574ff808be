// Colours: secondary-structure states, signal-peptide regions, and a categorical palette with
// enough contrast on white (Okabe-Ito, colour-blind safe).
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

/** SS8 (DSSP) and SS3 letters. */
export const SS_COLORS: Record<string, string> = {
  H: '#D55E00', G: '#E69F00', I: '#F0B35A', E: '#0072B2', B: '#56B4E9', T: '#009E73', S: '#7FC8A9', C: '#BBBBBB', L: '#BBBBBB',
};

export const SS_NAMES: Record<string, string> = {
  H: 'α-helix', G: '3₁₀-helix', I: 'π-helix', E: 'β-strand', B: 'β-bridge', T: 'turn', S: 'bend', C: 'coil', L: 'coil',
};

/** Signal-peptide region letters (SignalP 3-line). */
export const SP_COLORS: Record<string, string> = {
  S: '#D55E00', L: '#CC79A7', T: '#E69F00', P: '#009E73', I: '#56B4E9', M: '#000000', O: '#0072B2',
};

export const SP_NAMES: Record<string, string> = {
  S: 'Sec/SPI signal peptide', L: 'Sec/SPII lipoprotein signal peptide', T: 'Tat/SPI signal peptide', P: 'Sec/SPIII pilin leader',
  I: 'cytoplasm (inside)', M: 'transmembrane', O: 'extracellular / mature (outside)',
};

export const SP_TYPE_NAMES: Record<string, string> = {
  NO_SP: 'Other (no signal peptide)', SP: 'Sec/SPI', LIPO: 'Sec/SPII (lipoprotein)', TAT: 'Tat/SPI', TATLIPO: 'Tat/SPII', PILIN: 'Sec/SPIII (pilin)',
};
