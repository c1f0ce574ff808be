// Annotating PDB and mmCIF structure files with per-residue predictions: scores in the
// B-factor column, predicted helices/strands as HELIX/SHEET (struct_conf/struct_sheet_range),
// every other byte unchanged. See annotate.ts for the pipeline.
export { annotateFile, annotateParsed, annotateStructure, cleanSequence, detectFormat, formatSummary, parseStructure, resolveChain } from './annotate.js';
export type { AnnotateOptions, AnnotationResult, Prediction } from './annotate.js';
export { alignGlobal, blosum62, GAP_EXTEND, GAP_OPEN } from './align.js';
export { formatMappingReport, mapSequence, MIN_IDENTITY, minAlignedPairs, SequenceMismatchError } from './mapping.js';
export type { ChainMapping, MappingReport } from './mapping.js';
export { allChains, chainBreaks, chainResidues, polymerChains, residueLabel } from './model.js';
export type { Atom, Residue, Structure } from './model.js';
export { parseMmcif } from './mmcif.js';
export { parsePdb } from './pdb.js';
export { isAminoAcid, oneLetter } from './residues.js';
export { REMARK_NUMBER } from './write-pdb.js';
