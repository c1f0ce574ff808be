// Predictions kept on disk: every `predict` job of the workbench writes its files into its own
// folder under <home>/predictions/ (PREFIX.json, PREFIX.residues.csv, ..., PREFIX.input.fasta)
// plus an index file, prediction.json (what the list shows: when, which run, how many and which
// sequences). A page reload, another window or a restart lists them again from there, and any
// of them reopens in the compact form the views plot (`predictionResult`).
//
// Folders written by older versions have no index; their PREFIX.json is read instead.
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { PredictedSequence, PredictionSummary, PredictResult } from '../../api/contract.js';
import { writeJsonAtomic } from '../atomic.js';
import type { Note } from '../data/errors.js';
import { REGION_STATES } from '../tasks/signal-peptide/regions.js';

export const INDEX_FILE = 'prediction.json';

export function predictionsRoot(home: string): string {
  return path.join(home, 'predictions');
}

interface SsJson {
  createdAt?: string;
  run?: { id?: string; name?: string; task?: string };
  input?: { file?: string };
  task: 'secondary-structure';
  states: string | readonly string[];
  notes: Note[];
  sequences: { id: string; ss8?: string; ss3: string; ss3Argmax?: string; residues: { residue: string; p8?: number[]; p3: number[] }[] }[];
}
interface SpJson {
  createdAt?: string;
  run?: { id?: string; name?: string; task?: string };
  input?: { file?: string };
  task: 'signal-peptide';
  states: readonly string[];
  notes: Note[];
  sequences: {
    id: string; sequence?: string; kingdom: string | null; kingdomSource?: 'header' | 'chosen' | 'none'; prediction: string; typeProbabilities: Record<string, number>;
    cleavageSite: number | null; cleavageSiteProbability?: number | null; csProbabilities?: number[]; flags?: { code: string; message: string }[]; bestPathType?: string;
    predictedResidues: number; regions: string; marginals: number[][];
  }[];
}

/** Region letters in REGION_STATES order, and each state's column among them. */
const REGION_LETTERS = [...new Set(REGION_STATES.map((s) => s.letter))].join('');
const STATE_COLUMN = REGION_STATES.map((s) => REGION_LETTERS.indexOf(s.letter));
/** A state's curve is sent when its probability reaches this somewhere (the rest are flat zero). */
const CURVE_MIN = 0.01;
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** The compact, plottable form of a prediction's JSON (what the predict job answers). */
export async function predictionResult(jsonFile: string, extra: { seconds?: number; files?: string[]; sequences?: ReadonlyMap<string, string> } = {}): Promise<PredictResult> {
  const j = JSON.parse(await readFile(jsonFile, 'utf8')) as SsJson | SpJson;
  if (j.task !== 'secondary-structure' && j.task !== 'signal-peptide') throw new Error(`${jsonFile}: not a prediction file (task '${String((j as { task?: unknown }).task)}')`);
  let sequences: PredictedSequence[];
  if (j.task === 'secondary-structure') {
    const states = typeof j.states === 'string' ? j.states : j.states.join('');
    sequences = j.sequences.map((s) => {
      const has8 = s.residues.length > 0 && s.residues[0].p8 !== undefined;
      return {
        id: s.id, sequence: s.residues.map((r) => r.residue).join(''),
        ss: {
          states, ...(s.ss8 ? { ss8: s.ss8 } : {}), ss3: s.ss3, ...(s.ss3Argmax ? { ss3Argmax: s.ss3Argmax } : {}),
          ...(has8 ? { p8: s.residues.flatMap((r) => r.p8!) } : {}), p3: s.residues.flatMap((r) => r.p3),
        },
      };
    });
  } else {
    sequences = j.sequences.map((s) => {
      const W = REGION_LETTERS.length;
      const regionProbs = new Array<number>(s.predictedResidues * W).fill(0);
      s.marginals.forEach((row, k) => row.forEach((p, st) => (regionProbs[k * W + STATE_COLUMN[st]] += p)));
      const regionCurves = REGION_STATES.filter((st) => s.marginals.some((row) => row[st.index] >= CURVE_MIN)).map((st) => ({
        state: st.name, type: st.type, region: st.region, label: st.description, probs: s.marginals.map((row) => r4(row[st.index])),
      }));
      return {
        id: s.id, sequence: s.sequence ?? extra.sequences?.get(s.id) ?? '',
        sp: {
          kingdom: s.kingdom, kingdomSource: s.kingdomSource ?? (s.kingdom ? 'header' : 'none'), prediction: s.prediction, typeProbabilities: s.typeProbabilities,
          cleavageSite: s.cleavageSite, cleavageSiteProbability: s.cleavageSiteProbability ?? null, csProbs: (s.csProbabilities ?? []).map(r4),
          flags: s.flags ?? [], bestPathType: s.bestPathType ?? s.prediction,
          predictedResidues: s.predictedResidues, regions: s.regions, regionLetters: REGION_LETTERS, regionProbs: regionProbs.map((x) => Math.round(x * 1e6) / 1e6), regionCurves,
        },
      };
    });
  }
  const index = await readIndex(path.dirname(jsonFile));
  return {
    run: j.run?.id ?? index?.run ?? '', runName: j.run?.name ?? index?.runName, task: j.task, runTask: j.run?.task ?? '', json: jsonFile,
    files: extra.files ?? index?.files ?? [jsonFile], notes: j.notes, sequences, seconds: extra.seconds ?? index?.seconds ?? 0,
    createdAt: j.createdAt ?? index?.createdAt ?? '', name: index?.name, inputName: j.input?.file ?? index?.inputName,
  };
}

async function readIndex(dir: string): Promise<PredictionSummary | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, INDEX_FILE), 'utf8')) as PredictionSummary;
  } catch {
    return undefined;
  }
}

/** The index entry of a finished prediction (written next to its files). */
export async function writePredictionIndex(r: PredictResult): Promise<PredictionSummary> {
  const summary: PredictionSummary = {
    json: r.json, createdAt: r.createdAt, run: r.run, runName: r.runName, task: r.task, runTask: r.runTask, sequences: r.sequences.length,
    ids: r.sequences.slice(0, 8).map((s) => s.id), files: r.files, seconds: r.seconds, ...(r.name ? { name: r.name } : {}), ...(r.inputName ? { inputName: r.inputName } : {}),
  };
  await writeJsonAtomic(path.join(path.dirname(r.json), INDEX_FILE), summary);
  return summary;
}

/** Every prediction under <home>/predictions, newest first; unreadable folders are reported, not hidden. */
export async function listPredictions(home: string): Promise<{ root: string; predictions: PredictionSummary[]; problems: string[] }> {
  const root = predictionsRoot(home);
  const predictions: PredictionSummary[] = [];
  const problems: string[] = [];
  if (!existsSync(root)) return { root, predictions, problems };
  for (const e of await readdir(root, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const dir = path.join(root, e.name);
    const index = await readIndex(dir);
    if (index && existsSync(index.json)) {
      predictions.push(index);
      continue;
    }
    // no index (older versions, or a job killed before it wrote one): the prediction JSON itself
    const json = (await readdir(dir)).find((f) => f.endsWith('.json') && f !== INDEX_FILE);
    if (!json) continue;
    try {
      const file = path.join(dir, json);
      if ((await stat(file)).size > 64 * 1024 * 1024) {
        problems.push(`${file}: too large to list without its ${INDEX_FILE}`);
        continue;
      }
      const r = await predictionResult(file);
      predictions.push({ json: file, createdAt: r.createdAt, run: r.run, runName: r.runName, task: r.task, runTask: r.runTask, sequences: r.sequences.length, ids: r.sequences.slice(0, 8).map((s) => s.id), files: r.files, seconds: r.seconds });
    } catch (err) {
      problems.push(`${path.join(dir, json)}: ${(err as Error).message}`);
    }
  }
  predictions.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return { root, predictions, problems };
}
