// `export`: files from a prediction (the PREFIX.json `predict` wrote, and the files beside it).
//   csv    PREFIX.residues.csv (+ PREFIX.summary.csv for signal peptides), as `plmw predict` wrote
//   json   PREFIX.json
//   gff3   signal peptides: SignalP 6.0's layout (PREFIX.gff3); secondary structure: one feature
//          per predicted helix (SO:0001114 'helix') or strand (SO:0001111 'beta_strand') segment,
//          score = the segment's mean probability of its class
//   fasta  signal peptides: mature sequences (PREFIX.mature.fasta); secondary structure: each
//          sequence followed by its predicted SS3 (and SS8) string as records ID.ss3 / ID.ss8
//   pdb    a structure file annotated with one predicted sequence (export/structure annotateFile):
//          B-factors = per-residue scores (SS: probability of the predicted class; SP: probability
//          of a signal-peptide region), SS: predicted helices/strands as HELIX/SHEET records
// Every file is written atomically (temporary name, then rename).
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ExportRequest, ExportResult, ExportedFile } from '../../../api/contract.js';
import { ApiError } from '../../../api/errors.js';
import type { JobContext } from '../../../api/job-kinds.js';
import { formatFasta, type FastaEntry } from '../../export/fasta.js';
import { formatGff3, type Gff3Feature } from '../../export/gff3.js';
import { annotateFile, formatSummary } from '../../export/structure/index.js';
import { writeFileAtomic } from '../../atomic.js';

const INLINE_LIMIT = 4 * 1024 * 1024;
const SP_LETTERS = new Set(['S', 'L', 'T', 'P']);

interface PredictionJson {
  format?: string;
  run?: { name?: string; id?: string; model?: { name?: string; dir?: string } };
  task: 'secondary-structure' | 'signal-peptide';
  sequences: {
    id: string;
    sequence?: string;
    ss8?: string;
    ss3?: string;
    residues?: { residue: string; ss3: string; p3: number[] }[];
    predictedResidues?: number;
    regions?: string;
    marginals?: number[][];
    length?: number;
  }[];
  states: string[];
}

/** Helix (H) and strand (E) segments of an SS3 string as GFF3 features. */
export function ssGff3Features(id: string, ss3: string, p3: number[][], source = 'plm-workbench'): Gff3Feature[] {
  const out: Gff3Feature[] = [];
  for (let i = 0; i < ss3.length; ) {
    const c = ss3[i];
    let j = i;
    while (j < ss3.length && ss3[j] === c) j++;
    if (c === 'H' || c === 'E') {
      const col = c === 'H' ? 0 : 1;
      let s = 0;
      for (let k = i; k < j; k++) s += p3[k]?.[col] ?? 0;
      out.push({ seqid: id, source, type: c === 'H' ? 'helix' : 'beta_strand', start: i + 1, end: j, score: s / (j - i), attributes: { Ontology_term: c === 'H' ? 'SO:0001114' : 'SO:0001111' } });
    }
    i = j;
  }
  return out;
}

export async function runExportJob(req: ExportRequest, ctx: JobContext): Promise<ExportResult> {
  if (!req.prediction.endsWith('.json')) throw new ApiError('bad_request', 'prediction: must be the .json file a prediction wrote', 'prediction');
  const pred = JSON.parse(readFileSync(req.prediction, 'utf8')) as PredictionJson;
  if (pred.task !== 'secondary-structure' && pred.task !== 'signal-peptide') throw new ApiError('bad_request', `${req.prediction}: not a prediction file (task '${String(pred.task)}')`, 'prediction');
  const base = req.prediction.slice(0, -'.json'.length);
  const stem = req.name ?? path.basename(base);
  mkdirSync(req.outDir, { recursive: true });
  const files: ExportedFile[] = [];
  const put = (format: ExportedFile['format'], name: string, data: string | Uint8Array) => {
    const file = path.resolve(req.outDir, name);
    writeFileAtomic(file, data);
    const bytes = statSync(file).size;
    const f: ExportedFile = { format, path: file, bytes };
    if (bytes <= INLINE_LIMIT && format !== 'pdb') f.text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
    else if (bytes <= INLINE_LIMIT) f.text = readFileSync(file, 'utf8');
    files.push(f);
  };
  const copy = (format: ExportedFile['format'], suffix: string) => {
    const src = `${base}${suffix}`;
    if (!existsSync(src)) throw new Error(`${src} is missing (the prediction's files were moved or deleted)`);
    put(format, `${stem}${suffix}`, readFileSync(src));
  };
  const isSp = pred.task === 'signal-peptide';
  let structureSummary: string | undefined;
  let annotated: ExportResult['structure'];
  const total = req.formats.length;
  for (const [k, format] of req.formats.entries()) {
    if (ctx.signal.aborted) throw new DOMException('export cancelled', 'AbortError');
    ctx.progress({ phase: `writing ${format}`, done: k, total });
    switch (format) {
      case 'csv':
        copy('csv', '.residues.csv');
        if (isSp) copy('csv', '.summary.csv');
        break;
      case 'json':
        copy('json', '.json');
        break;
      case 'gff3':
        if (isSp) copy('gff3', '.gff3');
        else put('gff3', `${stem}.gff3`, formatGff3(pred.sequences.flatMap((s) => ssGff3Features(s.id, s.ss3 ?? '', (s.residues ?? []).map((r) => r.p3)))));
        break;
      case 'fasta':
        if (isSp) copy('fasta', '.mature.fasta');
        else {
          const entries: FastaEntry[] = pred.sequences.flatMap((s) => [
            { id: s.id, sequence: (s.residues ?? []).map((r) => r.residue).join('') },
            { id: `${s.id}.ss3`, description: 'predicted 3-state secondary structure (H helix, E strand, C coil)', sequence: s.ss3 ?? '' },
            ...(s.ss8 ? [{ id: `${s.id}.ss8`, description: 'predicted 8-state secondary structure (DSSP letters, C coil)', sequence: s.ss8 }] : []),
          ]);
          put('fasta', `${stem}.fasta`, formatFasta(entries));
        }
        break;
      case 'pdb': {
        const s = req.sequenceId === undefined ? pred.sequences[0] : pred.sequences.find((x) => x.id === req.sequenceId);
        if (!s) throw new ApiError('bad_request', `sequenceId: the prediction has no sequence '${req.sequenceId}' (it has ${pred.sequences.map((x) => x.id).join(', ')})`, 'sequenceId');
        const structure = req.structure!;
        const ext = /\.(cif|mmcif)$/i.test(structure) ? 'cif' : 'pdb';
        const out = path.resolve(req.outDir, `${stem}.${s.id.replace(/[^A-Za-z0-9_.-]/g, '_')}.annotated.${ext}`);
        let prediction: { sequence: string; scores: (number | null)[]; ss3?: string };
        if (isSp) {
          const seqFromFile = s.sequence ?? (await sequenceOf(base, s.id));
          const n = s.predictedResidues ?? 0;
          const scores: (number | null)[] = Array.from({ length: seqFromFile.length }, () => null);
          // P(signal-peptide region) per residue: the marginals of the states written S, L, T or P.
          const { REGION_STATES } = await import('../../tasks/signal-peptide/regions.js');
          for (let k = 0; k < n; k++) scores[k] = Math.min(1, (s.marginals?.[k] ?? []).reduce((a, p, st) => a + (SP_LETTERS.has(REGION_STATES[st].letter) ? p : 0), 0));
          prediction = { sequence: seqFromFile, scores };
        } else {
          const res = s.residues ?? [];
          prediction = { sequence: res.map((r) => r.residue).join(''), scores: res.map((r) => Math.min(1, Math.max(...r.p3))), ss3: s.ss3 };
        }
        const r = await annotateFile(structure, out, {
          chain: req.chain ?? 'A', prediction, scoreName: isSp ? 'probability of a signal-peptide region' : 'probability of the predicted secondary structure class',
          runLabel: pred.run?.name ?? pred.run?.id ?? path.basename(base), modelLabel: pred.run?.model?.name ?? (pred.run?.model?.dir ? path.basename(pred.run.model.dir) : 'unknown'),
        });
        const bytes = statSync(out).size;
        files.push({ format: 'pdb', path: out, bytes, ...(bytes <= INLINE_LIMIT ? { text: readFileSync(out, 'utf8') } : {}) });
        structureSummary = formatSummary(r, out);
        annotated = {
          sequenceId: s.id, chain: r.chain, format: r.format,
          residues: r.residues.map((x, k) => ({ resSeq: x.resSeq, iCode: x.iCode, resName: x.resName, position: r.positions[k] >= 0 ? r.positions[k] + 1 : null })),
        };
        break;
      }
    }
  }
  ctx.progress({ phase: 'done', done: total, total });
  return { files, ...(structureSummary ? { structureSummary } : {}), ...(annotated ? { structure: annotated } : {}) };
}

/** The full sequence of a signal-peptide prediction (the model reads only the first 70), from the input `predict` kept. */
async function sequenceOf(base: string, id: string): Promise<string> {
  const fasta = `${base}.input.fasta`;
  if (!existsSync(fasta)) throw new Error(`${fasta} is missing: structure annotation of signal-peptide predictions needs the input the workbench's predict keeps`);
  const { parseFasta } = await import('../../data/fasta.js');
  const rec = parseFasta(readFileSync(fasta, 'utf8'), { file: fasta }).records.find((r) => r.id === id);
  if (!rec) throw new Error(`${fasta}: no record '${id}'`);
  return rec.sequence;
}
