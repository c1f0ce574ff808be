// `runs.import-peft`: a run from a Hugging Face PEFT adapter (runs/import-peft.ts, what
// `plmw runs import-peft` runs). A Hub download reports bytes; refusals keep the importer's
// message, which names the file, key and value.
import type { ImportPeftRequest, ImportPeftResult } from '../../../api/contract.js';
import { ApiError } from '../../../api/errors.js';
import type { JobContext } from '../../../api/job-kinds.js';
import { InputError } from '../../data/errors.js';
import { importPeftRun } from '../../runs/import-peft.js';
import { resolveRunsRoot } from './common.js';

export async function runImportPeftJob(req: ImportPeftRequest, ctx: JobContext): Promise<ImportPeftResult> {
  try {
    const r = await importPeftRun(req.source, {
      root: resolveRunsRoot(req.root, ctx.home), home: ctx.home, model: req.model, name: req.name, id: req.id, task: req.task,
      revision: req.revision, endpoint: req.endpoint, signal: ctx.signal,
      onProgress: (p) => ctx.progress({ phase: p.phase, done: p.done, total: p.total, ...(p.phase === 'downloading' ? { rateUnit: 'bytes/s' } : {}) }),
    });
    return { id: r.id, dir: r.dir, task: r.record.task, method: r.record.method, head: r.record.head, imported: r.record.imported! };
  } catch (e) {
    if (e instanceof InputError) throw new ApiError('bad_request', e.message, 'source');
    throw e;
  }
}
