// The built-in job kinds. Imported by the API service (main thread: validation only) and by the
// job worker (where `run` executes); engine code is imported lazily inside `run`, so the main
// process never loads onnxruntime for a job.
import { JOB_SCHEMAS } from '../../api/contract.js';
import { getJobKind, registerJobKind } from '../../api/job-kinds.js';

if (!getJobKind('infer')) {
  registerJobKind('infer', {
    validate: (r) => JOB_SCHEMAS.infer.parse(r, 'request'),
    run: async (req, ctx) => (await import('./infer-job.js')).runInferJob(req, ctx),
  });

  registerJobKind('models.download', {
    validate: (r) => JOB_SCHEMAS['models.download'].parse(r, 'request'),
    run: async (req, ctx) => {
      const { downloadModel } = await import('../models/download.js');
      return downloadModel(req.model, {
        home: ctx.home,
        revision: req.revision,
        force: req.force,
        signal: ctx.signal,
        onProgress: (p) =>
          ctx.progress({
            phase: `downloading ${p.file} (${p.fileIndex + 1}/${p.fileCount})`,
            done: p.overallDone,
            total: p.overallTotal ?? 0,
            rate: p.bytesPerSecond,
            rateUnit: 'bytes/s',
            etaSeconds: p.overallTotal !== undefined && p.bytesPerSecond > 0 ? (p.overallTotal - p.overallDone) / p.bytesPerSecond : null,
          }),
      });
    },
  });

  // Diagnostic: only a queue made with `diagnostics` (tests, PLMW_DIAGNOSTICS=1) accepts it.
  registerJobKind('selftest', {
    diagnostic: true,
    validate: (r) => JOB_SCHEMAS.selftest.parse(r, 'request'),
    run: async (req, ctx) => (await import('./selftest.js')).runSelftest(req, ctx),
  });

  // ---- EXTENSION POINT ---------------------------------------------------------------------
  // The trainer and task code register `train`, `evaluate`, `predict` and `export` here, by
  // importing the module that calls registerJobKind (see src-main/api/contract.ts), e.g.
  //   await import('../train/job-kind.js')  -> registerJobKind('train', { validate, run })
  // Keep those modules light at import time (lazy-import the engine inside `run`).
  // The workbench UI's kinds: train, train.resume, train.estimate, predict, attention, export,
  // runs.evaluation (src-main/engine/jobs/kinds/).
  await import('./kinds/index.js');
  // ------------------------------------------------------------------------------------------
}
