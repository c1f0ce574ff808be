// Per-class validation scores of runs: `train` evaluates a run's best checkpoint on its
// validation data when it ends (tasks/evaluate.ts, the code `plmw evaluate` runs) and keeps the
// per-class part as RUN/eval/val.json; `runs.evaluation` reads those files back (Compare's bars).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ClassScore, RunEvaluation, RunsEvaluationRequest, RunsEvaluationResult } from '../../../api/contract.js';
import type { JobContext } from '../../../api/job-kinds.js';
import type { ProviderName } from '../../runtime/providers.js';
import { evaluateRun } from '../../tasks/evaluate.js';
import { resolveRunsRoot } from './common.js';

export const EVAL_FILE = path.join('eval', 'val.json');

export async function evaluationOf(runDir: string, valFile: string, providers?: ProviderName[], threads?: number): Promise<RunEvaluation> {
  const e = await evaluateRun(runDir, valFile, { runtime: { providers, threads } });
  const id = path.basename(runDir);
  if (e.kind === 'sp') {
    const classes: ClassScore[] = e.rows.map((r) => ({
      label: `${r.kingdom}/${r.type}`, support: r.nTrue, mcc: r.mcc2,
      precision: r.csPrecision[3] ?? null, recall: r.csRecall[3] ?? null, f1: null,
    }));
    return { id, task: 'sp', classes, summary: e.summary };
  }
  const scores = (m: NonNullable<typeof e.ss8>): ClassScore[] => m.perClass.map((c) => ({ label: c.state, precision: c.precision, recall: c.recall, f1: c.f1, support: c.support }));
  const summary: Record<string, number> = {};
  if (e.q8 !== null) summary.q8 = e.q8;
  if (e.q3 !== null) summary.q3 = e.q3;
  return e.ss8 ? { id, task: 'ss', classes: scores(e.ss8), classes3: scores(e.ss3), summary } : { id, task: 'ss', classes: scores(e.ss3), summary };
}

export async function runEvaluationJob(req: RunsEvaluationRequest, ctx: JobContext): Promise<RunsEvaluationResult> {
  const root = resolveRunsRoot(req.root, ctx.home);
  return {
    runs: req.ids.map((id) => {
      const file = path.join(root, id, EVAL_FILE);
      if (!existsSync(file)) return { id, missing: `no ${EVAL_FILE} (the run was not trained from the workbench, or has not finished)` };
      try {
        return { id, evaluation: JSON.parse(readFileSync(file, 'utf8')) as RunEvaluation };
      } catch (e) {
        return { id, missing: `${file}: ${(e as Error).message}` };
      }
    }),
  };
}
