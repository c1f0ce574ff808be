// A diagnostic job: keeps the worker's CPU busy for a given time in steps, reporting progress
// and honouring cancellation between steps (or, with `block`, never yielding: only the queue's
// forced termination can stop it). Used by the job-queue tests and as a health check.
import type { SelftestRequest, SelftestResult } from '../../api/contract.js';
import type { JobContext } from '../../api/job-kinds.js';

function spin(ms: number): void {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) for (let i = 0; i < 10_000; i++) x = (x * 1103515245 + 12345) % 2147483648;
  if (x === -1) console.log(x); // keep the loop from being optimised away
}

export async function runSelftest(req: SelftestRequest, ctx: JobContext): Promise<SelftestResult> {
  const steps = req.steps ?? 20;
  const per = req.ms / steps;
  for (let s = 0; s < steps; s++) {
    if (!req.block) {
      if (ctx.signal.aborted) throw new DOMException('selftest cancelled', 'AbortError');
      // Yield so a cancel message can be handled between steps.
      await new Promise((r) => setImmediate(r));
    }
    spin(per);
    ctx.progress({ phase: 'busy', done: s + 1, total: steps, rateUnit: 'steps/s' });
  }
  if (req.fail) throw new Error(req.fail);
  return req.payloadBytes === undefined ? { ms: req.ms, steps } : { ms: req.ms, steps, payload: 'x'.repeat(req.payloadBytes) };
}
