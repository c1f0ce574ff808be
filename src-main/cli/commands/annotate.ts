// `plmw annotate`: per-residue scores into the B-factor column of a PDB or mmCIF file, and
// optionally predicted helices/strands as HELIX/SHEET (struct_conf/struct_sheet_range).
// Everything but the intended bytes stays as it was. Scores come from a CSV (position,score),
// or from a trained run that predicts the given record (--run);
// positions are chain residues in coordinate order, or positions in --sequence / --fasta when
// one is given (mapped onto the chain by alignment, reported, and refused when it does not fit).
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { InputError } from '../../engine/data/errors.js';
import { annotateParsed, formatMappingReport, formatSummary, parseStructure, resolveChain, SequenceMismatchError } from '../../engine/export/structure/index.js';
import { cleanSequence } from '../../engine/export/structure/annotate.js';
import { createScratchDir, writeFileAtomic } from '../../engine/atomic.js';
import { predictRun } from '../../engine/tasks/predict.js';
import { UserError, type Command } from '../command.js';

const usage = `usage: plmw annotate --structure IN --chain ID --scores CSV --out OUT [options]

Write per-residue scores (0..1) into the B-factor column (100 * score, %6.2f) of chain ID of a
PDB or mmCIF file, for every model and alternate location. Residues without a score get 0.00
and are listed in the file (PDB: REMARK 950; mmCIF: _plmw_annotation). Nothing else changes.

  --structure IN       PDB or mmCIF file (PDB entry, AlphaFold or ESMFold model)
  --chain ID           chain to annotate (author chain id; in mmCIF a label_asym_id also works)
  --scores CSV         CSV with a header naming the columns 'position' and 'score' (others ignored);
                       position is 1-based over the chain's residues in the order they first
                       appear in the coordinates of the first model
  --score-column NAME  read scores from column NAME instead of 'score'
  --sequence SEQ       positions are positions in SEQ instead; SEQ is aligned to the chain
  --fasta FILE         ... or in a record of FILE (with --record ID, or a file of one record)
  --record ID          the FASTA record (first word of its header line)
  --ss3 STRING         predicted secondary structure, H/E/C per position: replaces the chain's
                       HELIX/SHEET records (mmCIF: struct_conf / struct_sheet_range rows)
  --score-name NAME    what the score is (written with the annotation; default: the column name)
  --run-label TEXT     which run produced the scores (written with the annotation)
  --model-label TEXT   which model produced the scores (written with the annotation)
  --min-identity X     identity needed when aligning (default 0.5)
  --out OUT            output file (written to OUT.tmp-<pid>, then renamed)

From a trained run instead of a CSV (the run predicts the record, then its scores are written):
  --run RUN --fasta FILE --record ID --score COLUMN
                       COLUMN is a per-residue column of \`plmw predict\`'s residues CSV, e.g.
                       p_H (SS8 helix), p3_E (SS3 strand) or an SP region state's probability;
                       with --ss3 run, the run's predicted SS3 string replaces HELIX/SHEET`;

export const annotateCommand: Command = {
  name: 'annotate',
  summary: 'write per-residue scores (and predicted secondary structure) into a PDB/mmCIF file',
  usage,
  async run(argv) {
    let values;
    try {
      ({ values } = parseArgs({
        args: argv,
        strict: true,
        allowPositionals: false,
        options: {
          structure: { type: 'string' },
          chain: { type: 'string' },
          scores: { type: 'string' },
          'score-column': { type: 'string' },
          sequence: { type: 'string' },
          fasta: { type: 'string' },
          record: { type: 'string' },
          ss3: { type: 'string' },
          'score-name': { type: 'string' },
          'run-label': { type: 'string' },
          'model-label': { type: 'string' },
          'min-identity': { type: 'string' },
          out: { type: 'string' },
          run: { type: 'string' },
          score: { type: 'string' },
        },
      }));
    } catch (e) {
      throw new UserError(`${(e as Error).message}\n\n${usage}`, 2);
    }
    for (const k of ['structure', 'chain', 'out'] as const) if (!values[k]) throw new UserError(`--${k} is required\n\n${usage}`, 2);
    if (values.run !== undefined) {
      if (values.scores !== undefined) throw new UserError('give --scores or --run, not both', 2);
      if (values.fasta === undefined || values.score === undefined) throw new UserError('--run needs --fasta FILE (with --record ID) and --score COLUMN', 2);
    } else if (!values.scores) throw new UserError(`--scores (or --run) is required\n\n${usage}`, 2);
    if (values.ss3 === 'run' && values.run === undefined) throw new UserError('--ss3 run needs --run', 2);
    if (values.sequence !== undefined && values.fasta !== undefined) throw new UserError('give --sequence or --fasta, not both', 2);
    if (values.record !== undefined && values.fasta === undefined) throw new UserError('--record needs --fasta', 2);
    let minIdentity: number | undefined;
    if (values['min-identity'] !== undefined) {
      minIdentity = Number(values['min-identity']);
      if (!(minIdentity >= 0 && minIdentity <= 1)) throw new UserError(`--min-identity '${values['min-identity']}' is not a number in [0,1]`, 2);
    }
    const structureFile = values.structure!, out = values.out!;
    const scoreColumn = values.score ?? values['score-column'] ?? 'score';

    try {
      const s = parseStructure(await readBytes(structureFile), structureFile);
      const { chain, residues } = resolveChain(s, values.chain!);
      let sequence: string | undefined;
      if (values.sequence !== undefined) sequence = checked('--sequence', () => cleanSequence(values.sequence!));
      if (values.fasta !== undefined) sequence = await readFastaRecord(values.fasta, values.record);
      const length = sequence?.length ?? residues.length;
      const what = sequence === undefined ? `chain ${chain} has ${length} residues` : `the sequence has ${length} positions`;
      let scores: (number | null)[];
      let ss3 = values.ss3;
      let runLabel = values['run-label'];
      let modelLabel = values['model-label'];
      if (values.run !== undefined) {
        const fromRun = await runScores(values.run, sequence!, values.record ?? 'query', scoreColumn);
        scores = fromRun.scores;
        if (ss3 === 'run') ss3 = fromRun.ss3 ?? (() => { throw new UserError(`--ss3 run: run ${values.run} predicts no secondary structure`); })();
        runLabel ??= fromRun.runLabel;
        modelLabel ??= fromRun.modelLabel;
      } else {
        scores = parseScoresCsv(await readText(values.scores!), values.scores!, scoreColumn, length, what);
      }
      const prediction = { scores, ...(sequence !== undefined && { sequence }), ...(ss3 !== undefined && { ss3 }) };
      const result = checked('--ss3', () =>
        annotateParsed(s, {
          chain,
          prediction,
          scoreName: values['score-name'] ?? scoreColumn,
          ...(runLabel !== undefined && { runLabel }),
          ...(modelLabel !== undefined && { modelLabel }),
          ...(minIdentity !== undefined && { minIdentity }),
        }),
      );
      try {
        writeFileAtomic(out, result.output);
      } catch (e) {
        throw new UserError((e as Error).message);
      }
      console.log(formatMappingReport(result.mapping));
      console.log(formatSummary(result, out));
      return 0;
    } catch (e) {
      if (e instanceof SequenceMismatchError) throw new UserError(`${structureFile}: ${e.message}`);
      if (e instanceof InputError) throw new UserError(e.message);
      throw e;
    }
  },
};

/** A run's prediction for one sequence: one score column of its residues CSV, and its SS3 string when it has one. */
async function runScores(runDir: string, sequence: string, id: string, column: string): Promise<{ scores: number[]; ss3?: string; runLabel: string; modelLabel: string }> {
  const scratch = createScratchDir(tmpdir(), 'plmw-annotate');
  const dir = scratch.path;
  try {
    const fasta = path.join(dir, 'query.fasta');
    writeFileAtomic(fasta, `>${id}\n${sequence}\n`);
    const prefix = path.join(dir, 'pred');
    await predictRun(runDir, fasta, prefix, { kingdom: 'unknown' });
    const lines = (await readFile(`${prefix}.residues.csv`, 'utf8')).trim().split('\n');
    const header = splitCsvLine(lines[0]);
    const col = header.indexOf(column);
    if (col < 0) throw new UserError(`--score: run ${runDir} writes no column '${column}' (columns: ${header.slice(3).join(', ')})`, 2);
    // SS8 runs write two SS3 columns; HELIX/SHEET follow the SS8 call (what Q3 scores)
    const ssCol = header.includes('ss3_from_ss8') ? header.indexOf('ss3_from_ss8') : header.indexOf('ss3');
    const rows = lines.slice(1).map(splitCsvLine);
    const scores = rows.map((r, i) => {
      const v = Number(r[col]);
      if (!(v >= 0 && v <= 1)) throw new UserError(`--score: column '${column}' holds ${r[col]} at position ${i + 1}, not a probability in [0,1]`, 2);
      return v;
    });
    const record = JSON.parse(await readFile(path.join(runDir, 'run.json'), 'utf8')) as { id?: string; name?: string; model?: { name?: string; dir?: string } };
    return {
      scores,
      ...(ssCol >= 0 && { ss3: rows.map((r) => r[ssCol]).join('') }),
      runLabel: record.name ?? record.id ?? path.basename(runDir),
      modelLabel: record.model?.name ?? record.model?.dir ?? 'unknown',
    };
  } finally {
    scratch.remove();
  }
}

/** Run f, turning RangeErrors (bad values given on the command line) into UserErrors naming the option. */
function checked<T>(option: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RangeError) throw new UserError(`${option}: ${e.message}`);
    throw e;
  }
}

async function readBytes(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new UserError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

async function readText(file: string): Promise<string> {
  return (await readBytes(file)).toString('utf8').replace(/^\uFEFF/, '');
}

/** Split one CSV line, honouring "quoted, fields" with "" escapes. */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '', quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') out.push(cur), (cur = '');
    else cur += c;
  }
  out.push(cur);
  return out.map((f) => f.trim());
}

/**
 * Scores per position (null where the CSV has none). Every problem names file:line: a missing
 * column, a position that is not a whole number or is out of 1..length, a repeated position,
 * a score that is not a number or outside [0,1].
 */
export function parseScoresCsv(text: string, file: string, column: string, length: number, what: string): (number | null)[] {
  const lines = text.split(/\r\n|\n|\r/);
  const headerIdx = lines.findIndex((l) => l.trim() !== '');
  if (headerIdx < 0) throw new UserError(`${file}: empty file (expected a header with columns position,${column})`);
  const header = splitCsvLine(lines[headerIdx]!).map((h) => h.toLowerCase());
  const pc = header.indexOf('position'), sc = header.indexOf(column.toLowerCase());
  if (pc < 0 || sc < 0) throw new UserError(`${file}:${headerIdx + 1}: header must name the columns 'position' and '${column}' (found: ${header.join(', ')})`);
  const scores: (number | null)[] = new Array(length).fill(null);
  const seenAt = new Map<number, number>();
  for (let i = headerIdx + 1; i < lines.length; i++) {
    if (lines[i]!.trim() === '') continue;
    const at = `${file}:${i + 1}`;
    const f = splitCsvLine(lines[i]!);
    if (f.length !== header.length) throw new UserError(`${at}: ${f.length} fields, the header has ${header.length}`);
    const p = f[pc]!, v = f[sc]!;
    if (!/^\d+$/.test(p)) throw new UserError(`${at}: position '${p}' is not a whole number`);
    const pos = Number(p);
    if (pos < 1 || pos > length) throw new UserError(`${at}: position ${pos} is out of range 1..${length} (${what})`);
    if (seenAt.has(pos)) throw new UserError(`${at}: position ${pos} repeats line ${seenAt.get(pos)}`);
    seenAt.set(pos, i + 1);
    const x = v === '' ? Number.NaN : Number(v);
    if (!Number.isFinite(x)) throw new UserError(`${at}: ${column} '${v}' is not a number`);
    if (x < 0 || x > 1) throw new UserError(`${at}: ${column} ${v} is outside [0,1]`);
    scores[pos - 1] = x;
  }
  if (seenAt.size === 0) throw new UserError(`${file}: no score lines after the header`);
  return scores;
}

/** The sequence of one FASTA record (by the first word of its header; the only record if no id is given). */
async function readFastaRecord(file: string, id: string | undefined): Promise<string> {
  const text = await readText(file);
  const records: { id: string; line: number; seq: string[] }[] = [];
  text.split(/\r\n|\n|\r/).forEach((l, i) => {
    if (l.startsWith('>')) records.push({ id: l.slice(1).trim().split(/\s+/)[0] ?? '', line: i + 1, seq: [] });
    else if (l.trim() && !l.startsWith(';')) {
      if (!records.length) throw new UserError(`${file}:${i + 1}: sequence before the first '>' header`);
      records[records.length - 1]!.seq.push(l.trim());
    }
  });
  if (!records.length) throw new UserError(`${file}: no FASTA records`);
  let rec = records[0]!;
  if (id !== undefined) {
    const found = records.find((r) => r.id === id);
    if (!found) throw new UserError(`${file}: no record '${id}' (records: ${records.slice(0, 10).map((r) => r.id).join(', ')}${records.length > 10 ? ', ...' : ''})`);
    rec = found;
  } else if (records.length > 1) throw new UserError(`${file} has ${records.length} records; choose one with --record ID`, 2);
  try {
    return cleanSequence(rec.seq.join(''));
  } catch (e) {
    throw new UserError(`${file}:${rec.line} (record '${rec.id}'): ${(e as Error).message}`);
  }
}
