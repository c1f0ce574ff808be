// Format detection for `plmw evaluate --data FILE`: decide from the content (never from the
// file name) which parser reads a file, then parse it with that parser.
//
// Rules, first match wins, looking only at the first records:
//   netsurfp-csv  first non-blank line is a CSV header with an `input` column and a `dssp3` or
//                 `dssp8` column;
//   signalp       first header is ACCESSION|KINGDOM|TYPE|PARTITION with a known kingdom;
//   flip          first header has a SET=... or VALIDATION=... attribute, or the records are
//                 4 lines whose 4th line is only 0/1 digits;
//   lift-ss       every sampled record is a sequence line plus a line of the same length made
//                 only of DSSP letters (L B E G I H S T P X C - space);
//   fasta         anything else starting with '>' (plain, unlabelled FASTA);
//   unknown       nothing above.
// The decision and its reason are returned, so a CLI can print why it chose a parser.
import { InputError } from './errors.js';
import { parseFasta, type FastaResult } from './fasta.js';
import { parseFlip, type FlipResult } from './flip.js';
import { parseLiftSs, type LiftSsResult, type LiftSsOptions } from './lift-ss.js';
import { readText, splitLines, type ParseOptions } from './lines.js';
import { parseNetsurfpCsv, type NetsurfpOptions, type NetsurfpResult } from './netsurfp-csv.js';
import { KINGDOMS, parseSignalP, type SignalPResult } from './signalp.js';

export type DataFormat = 'signalp' | 'lift-ss' | 'netsurfp-csv' | 'flip' | 'fasta' | 'unknown';

export interface Detection {
  format: DataFormat;
  reason: string;
}

/** How many records (or lines) detection looks at. */
const SAMPLE_RECORDS = 5;

const DSSP_LINE = /^[LBEGIHSTPXC\- ]+$/;
const BINARY_LINE = /^[01]+$/;

export function detectFormat(text: string): Detection {
  // Only the beginning matters; cutting keeps detection cheap on large files.
  const head = text.length > 1 << 20 ? text.slice(0, 1 << 20) : text;
  const lines = splitLines(head).lines.filter((l) => l.text.trim() !== '');
  if (lines.length === 0) return { format: 'unknown', reason: 'file is empty' };
  const first = lines[0].text;

  if (!first.startsWith('>')) {
    const cols = first.split(',').map((c) => c.trim().replace(/^"|"$/g, '').toLowerCase());
    if (cols.includes('input') && (cols.includes('dssp3') || cols.includes('dssp8'))) {
      return { format: 'netsurfp-csv', reason: `CSV header with columns ${cols.join(', ')}` };
    }
    return { format: 'unknown', reason: `first line is neither a '>' header nor a NetSurfP CSV header` };
  }

  const header = first.slice(1).trim();
  const parts = header.split('|');
  if (parts.length === 4 && (KINGDOMS as readonly string[]).includes(parts[1].trim())) {
    return { format: 'signalp', reason: `header '${header}' is ACCESSION|KINGDOM|TYPE|PARTITION` };
  }
  if (/(^|\s)(SET|VALIDATION)=/.test(header)) {
    return { format: 'flip', reason: `header '${header}' has FLIP SET=/VALIDATION= attributes` };
  }

  // Group the first records by header to look at their shape.
  const recs: string[][] = [];
  for (const l of lines) {
    if (l.text.startsWith('>')) {
      if (recs.length === SAMPLE_RECORDS) break;
      recs.push([]);
    } else if (recs.length > 0) recs[recs.length - 1].push(l.raw);
  }
  // A last record may be cut by the 1 MiB head: judge only complete ones when there are several.
  const sample = recs.length > 1 && head.length < text.length ? recs.slice(0, -1) : recs;
  if (sample.every((b) => b.length === 3 && BINARY_LINE.test(b[2].trimEnd()) && b[2].trimEnd().length === b[0].trimEnd().length)) {
    return { format: 'flip', reason: 'records are 4 lines ending in a 0/1 resolved mask' };
  }
  if (sample.every((b) => looksLikeLiftSs(b))) {
    return { format: 'lift-ss', reason: 'records are 3 lines: sequence and a DSSP label string of the same length' };
  }
  return { format: 'fasta', reason: "'>' records without labels" };
}

/** A sequence line plus a DSSP label line of the same length. */
function looksLikeLiftSs(body: string[]): boolean {
  if (body.length !== 2) return false;
  const seq = body[0].trimEnd();
  const lab = body[1].length === seq.length ? body[1] : body[1].trimEnd();
  return lab.length === seq.length && DSSP_LINE.test(lab);
}

export type DetectedResult =
  | { format: 'signalp'; detection: Detection; result: SignalPResult }
  | { format: 'lift-ss'; detection: Detection; result: LiftSsResult }
  | { format: 'netsurfp-csv'; detection: Detection; result: NetsurfpResult }
  | { format: 'flip'; detection: Detection; result: FlipResult }
  | { format: 'fasta'; detection: Detection; result: FastaResult };

export interface DetectOptions extends ParseOptions, Pick<LiftSsOptions, 'convention'>, Pick<NetsurfpOptions, 'useEvalMask'> {
  /** skip detection and use this format */
  format?: Exclude<DataFormat, 'unknown'>;
}

/** Detect the format of `text` (unless `opts.format` is given) and parse it. Unknown formats throw. */
export function parseDetected(text: string, opts: DetectOptions = {}): DetectedResult {
  const detection: Detection = opts.format ? { format: opts.format, reason: 'format given explicitly' } : detectFormat(text);
  const base = { file: opts.file, strict: opts.strict };
  switch (detection.format) {
    case 'signalp':
      return { format: 'signalp', detection, result: parseSignalP(text, base) };
    case 'lift-ss':
      return { format: 'lift-ss', detection, result: parseLiftSs(text, { ...base, convention: opts.convention }) };
    case 'netsurfp-csv':
      return {
        format: 'netsurfp-csv',
        detection,
        result: parseNetsurfpCsv(text, { ...base, convention: opts.convention, useEvalMask: opts.useEvalMask }),
      };
    case 'flip':
      return { format: 'flip', detection, result: parseFlip(text, base) };
    case 'fasta':
      return { format: 'fasta', detection, result: parseFasta(text, base) };
    default:
      throw new InputError(`cannot tell the data format: ${detection.reason}`, { file: opts.file ?? '<input>' });
  }
}

export async function readDataFile(path: string, opts: Omit<DetectOptions, 'file'> = {}): Promise<DetectedResult> {
  return parseDetected(await readText(path), { ...opts, file: path });
}
