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
import { readText, trimEndSpace } from '../data/lines.js';
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
  const dropped: DroppedLabelLine[] = [];
  const labels = new SignalPLabelLines((d) => dropped.push(d));
  const r = parseFasta(labels.write(text) + labels.end(), { file });
  const notes: Note[] = [...r.notes];
  for (const d of dropped) notes.push(labelLineNote(file, d));
  notes.sort((a, b) => (a.loc.line ?? 0) - (b.loc.line ?? 0));
  return { records: r.records.map((x) => ({ id: x.id, sequence: x.sequence, kingdomHint: kingdomHintOf(x.id) })), notes, format: 'fasta', detection };
}

export async function readPredictInput(file: string, name = file): Promise<PredictInput> {
  return parsePredictInput(await readText(file), name);
}

/** The note for a label line left out. */
export function labelLineNote(file: string, d: { id: string; line: number }): Note {
  return { kind: 'changed', message: 'label line of a SignalP 3-line record left out (prediction reads only the sequence)', loc: { file, record: d.id, line: d.line } };
}

/** A label line left out: the record's id, the line, and the record's 1-based number in the file. */
export interface DroppedLabelLine {
  id: string;
  line: number;
  record: number;
}

interface HeldLine {
  raw: string;
  eol: string;
  line: number;
}

/**
 * Blanks the label lines of SignalP 3-line records in FASTA text that arrives in pieces (a whole
 * file at once, or a stream), keeping every other character, line end and line number, so that
 * the FASTA parser reads the rest as it is. A record qualifies when its header names a kingdom in
 * the SignalP layout (ACC|KINGDOM|TYPE|PARTITION) and its body is exactly a sequence line and a
 * same-length line of region letters; only such a record is held back until its end, so memory is
 * a few lines. Lines end at LF, CRLF or a lone CR, as the parsers read them.
 */
export class SignalPLabelLines {
  private pending = '';
  private lineNo = 0;
  private records = 0;
  private held: { id: string; record: number; lines: HeldLine[]; body: number[] } | null = null;
  private out: string[] = [];

  constructor(private readonly onDropped: (d: DroppedLabelLine) => void) {}

  /** The next piece of text; returns what can be handed on now. */
  write(chunk: string): string {
    const text = this.pending + chunk;
    const eol = /\r\n|\n|\r/g;
    let start = 0;
    for (let m = eol.exec(text); m; m = eol.exec(text)) {
      // a CR at the very end may be the first half of a CRLF: wait for the next piece
      if (m[0] === '\r' && m.index === text.length - 1) break;
      this.line(text.slice(start, m.index), m[0]);
      start = m.index + m[0].length;
    }
    this.pending = text.slice(start);
    return this.take();
  }

  /** The rest, at the end of the text. */
  end(): string {
    if (this.pending.endsWith('\r')) this.line(this.pending.slice(0, -1), '\r');
    else if (this.pending !== '') this.line(this.pending, '');
    this.pending = '';
    this.release();
    return this.take();
  }

  private take(): string {
    const s = this.out.join('');
    this.out = [];
    return s;
  }

  private line(raw: string, eol: string): void {
    this.lineNo++;
    const bare = this.lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    if (bare.startsWith('>')) {
      this.release();
      this.records++;
      const id = trimEndSpace(bare).slice(1).trim().split(/\s/)[0] ?? '';
      if (id.split('|').length === 4 && kingdomHintOf(id) !== null) {
        this.held = { id, record: this.records, lines: [{ raw, eol, line: this.lineNo }], body: [] };
        return;
      }
    } else if (this.held) {
      const h = this.held;
      h.lines.push({ raw, eol, line: this.lineNo });
      if (trimEndSpace(raw).trim() !== '') h.body.push(h.lines.length - 1);
      if (h.body.length > 2) this.release();
      return;
    }
    this.out.push(raw, eol);
  }

  /** Hands on a held record, its label line blanked when it qualifies. */
  private release(): void {
    const h = this.held;
    if (!h) return;
    this.held = null;
    if (h.body.length === 2) {
      const [s, l] = h.body.map((k) => trimEndSpace(h.lines[k].raw).trim());
      if (l.length === s.length && LABEL_LINE.test(l)) {
        const label = h.lines[h.body[1]];
        label.raw = '';
        this.onDropped({ id: h.id, line: label.line, record: h.record });
      }
    }
    for (const l of h.lines) this.out.push(l.raw, l.eol);
  }
}
