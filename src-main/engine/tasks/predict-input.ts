// What prediction reads: any FASTA (plain headers, UniProt `sp|…|…`, SignalP-style
// `ACC|KINGDOM|TYPE|PARTITION`, or a mix of them in one file), or a labelled data file (LIFT_SS,
// NetSurfP CSV, FLIP: only ids and sequences are used).
//
// FASTA-like input is read by the plain FASTA parser, so every record's id is its whole first
// header word (`P12345|EUKARYA|SP|0` stays that, so an id given back by the workbench finds its
// record) and a plain header next to SignalP-style ones is fine: the SignalP 3-line format is
// training data, not a requirement for prediction. What a SignalP-style header adds is a hint:
//   - its KINGDOM field is the record's kingdom hint (any id whose second '|' field is a kingdom);
//   - a record written in the 3-line layout (header, sequence line, then a line of region letters
//     S L T P I M O exactly as long as the sequence line) has that label line left out (noted),
//     instead of being read as more residues.
import { InputError, type Note } from '../data/errors.js';
import { detectFormat, parseDetected, type DataFormat, type Detection } from '../data/detect.js';
import { parseFasta } from '../data/fasta.js';
import { readText, splitLines } from '../data/lines.js';
import { type Kingdom, SIGNALP_LETTERS } from '../data/signalp.js';
import { kingdomHintOf } from './kingdom-hint.js';

export interface PredictInputRecord {
  id: string;
  sequence: string;
  /** kingdom named in a SignalP-style header (a hint); null when the header names none */
  kingdomHint: Kingdom | null;
}

export interface PredictInput {
  records: PredictInputRecord[];
  /** the parser's report: what it changed, rejected or warns about (located) */
  notes: Note[];
  /** the parser used: 'fasta' for every FASTA-like file, else the labelled format */
  format: DataFormat;
  detection: Detection;
}

const LABELLED: readonly DataFormat[] = ['lift-ss', 'netsurfp-csv', 'flip'];
const LABEL_LINE = new RegExp(`^[${SIGNALP_LETTERS}]+$`);

export { kingdomHintOf };

/** Prediction input from text (`file` names it in notes and errors). */
export function parsePredictInput(text: string, file: string): PredictInput {
  const detection = detectFormat(text);
  if (LABELLED.includes(detection.format)) {
    const d = parseDetected(text, { file });
    const records = (d.result.records as { id: string; sequence: string }[]).map((r) => ({ id: r.id, sequence: r.sequence, kingdomHint: null }));
    return { records, notes: d.result.notes, format: d.format, detection };
  }
  if (detection.format === 'unknown' && !text.trimStart().startsWith('>')) throw new InputError(`cannot tell the data format: ${detection.reason}`, { file });
  const { text: fasta, dropped } = withoutSignalPLabelLines(text);
  const r = parseFasta(fasta, { file });
  const notes: Note[] = [...r.notes];
  for (const d of dropped) notes.push({ kind: 'changed', message: 'label line of a SignalP 3-line record left out (prediction reads only the sequence)', loc: { file, record: d.id, line: d.line } });
  notes.sort((a, b) => (a.loc.line ?? 0) - (b.loc.line ?? 0));
  return { records: r.records.map((x) => ({ id: x.id, sequence: x.sequence, kingdomHint: kingdomHintOf(x.id) })), notes, format: 'fasta', detection };
}

export async function readPredictInput(file: string, name = file): Promise<PredictInput> {
  return parsePredictInput(await readText(file), name);
}

/**
 * The text with the label lines of SignalP 3-line records blanked (line numbers stay right; the
 * FASTA parser skips blank lines). A record qualifies when its header names a kingdom in the
 * SignalP layout and its body is exactly a sequence line and a same-length line of region letters.
 */
function withoutSignalPLabelLines(text: string): { text: string; dropped: { id: string; line: number }[] } {
  const { lines } = splitLines(text);
  const dropped: { id: string; line: number }[] = [];
  const blank = new Set<number>();
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].raw.startsWith('>')) continue;
    const id = lines[i].text.slice(1).trim().split(/\s/)[0] ?? '';
    if (id.split('|').length !== 4 || kingdomHintOf(id) === null) continue;
    const body: number[] = [];
    for (let j = i + 1; j < lines.length && !lines[j].raw.startsWith('>'); j++) if (lines[j].text.trim() !== '') body.push(j);
    if (body.length !== 2) continue;
    const [s, l] = body.map((j) => lines[j].text.trim());
    if (l.length === s.length && LABEL_LINE.test(l)) {
      blank.add(body[1]);
      dropped.push({ id, line: lines[body[1]].line });
    }
  }
  if (!blank.size) return { text, dropped };
  return { text: lines.map((l, k) => (blank.has(k) ? '' : l.raw)).join('\n'), dropped };
}
