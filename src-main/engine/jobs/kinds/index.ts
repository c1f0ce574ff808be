// The workbench UI's job kinds (see the UI block of src-main/api/contract.ts). Registration is
// light: validation uses the contract's schemas; each `run` imports its engine code lazily, so
// the main process (which only validates) never loads onnxruntime for them.
import { UI_JOB_SCHEMAS } from '../../../api/contract.js';
import { getJobKind, registerJobKind } from '../../../api/job-kinds.js';

if (!getJobKind('train.estimate')) {
  registerJobKind('train', {
    validate: (r) => UI_JOB_SCHEMAS.train.parse(r, 'request'),
    run: async (req, ctx) => (await import('./train.js')).runTrainJob(req, ctx),
  });
  registerJobKind('train.resume', {
    validate: (r) => UI_JOB_SCHEMAS['train.resume'].parse(r, 'request'),
    run: async (req, ctx) => (await import('./train.js')).runResumeJob(req, ctx),
  });
  registerJobKind('train.estimate', {
    validate: (r) => UI_JOB_SCHEMAS['train.estimate'].parse(r, 'request'),
    run: async (req, ctx) => (await import('./estimate.js')).runEstimateJob(req, ctx),
  });
  registerJobKind('predict', {
    validate: (r) => UI_JOB_SCHEMAS.predict.parse(r, 'request'),
    run: async (req, ctx) => (await import('./predict.js')).runPredictJob(req, ctx),
  });
  registerJobKind('attention', {
    validate: (r) => UI_JOB_SCHEMAS.attention.parse(r, 'request'),
    run: async (req, ctx) => (await import('./attention.js')).runAttentionJob(req, ctx),
  });
  registerJobKind('export', {
    validate: (r) => UI_JOB_SCHEMAS.export.parse(r, 'request'),
    run: async (req, ctx) => (await import('./export.js')).runExportJob(req, ctx),
  });
  registerJobKind('data.download', {
    validate: (r) => UI_JOB_SCHEMAS['data.download'].parse(r, 'request'),
    run: async (req, ctx) => (await import('./data.js')).runDataDownloadJob(req, ctx),
  });
  registerJobKind('runs.evaluation', {
    validate: (r) => UI_JOB_SCHEMAS['runs.evaluation'].parse(r, 'request'),
    run: async (req, ctx) => (await import('./evaluation.js')).runEvaluationJob(req, ctx),
  });
  registerJobKind('runs.import-peft', {
    validate: (r) => UI_JOB_SCHEMAS['runs.import-peft'].parse(r, 'request'),
    run: async (req, ctx) => (await import('./import-peft.js')).runImportPeftJob(req, ctx),
  });
}
