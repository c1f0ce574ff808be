// The call worker thread: runs the API's heavy plain calls (src-main/api/heavy-calls.ts) and
// parses large request bodies, so the main thread of the browser-mode server (or the Electron
// main process) never spends seconds on them. For HTTP it takes the raw body and gives back the
// whole answer as JSON bytes: nothing large is parsed, cloned or serialised on the main thread.
// Several calls may be in flight; each message carries its id. Started by CallWorker (calls.ts).
import { parentPort } from 'node:worker_threads';
import { REQUEST_SCHEMAS, type ApiResult } from '../../api/contract.js';
import { toApiError } from '../../api/engine-errors.js';
import { ApiError } from '../../api/errors.js';
import { HEAVY_CALLS, type HeavyContext, isHeavyMethod } from '../../api/heavy-calls.js';
import { parseRequestBody } from '../../api/request-body.js';
import type { CallReply, CallRequest } from './calls.js';

if (!parentPort) throw new Error('src-main/engine/jobs/call-worker: must be started as a worker thread by CallWorker');
const port = parentPort;

async function run(method: string, request: unknown, ctx: HeavyContext): Promise<unknown> {
  if (!isHeavyMethod(method)) throw new ApiError('unknown_method', `'${method}' is not a call the call worker runs`);
  const req = REQUEST_SCHEMAS[method].parse(request ?? {}, 'request');
  return (HEAVY_CALLS[method] as (r: unknown, c: HeavyContext) => Promise<unknown>)(req, ctx);
}

const send = (r: CallReply, transfer: ArrayBuffer[] = []) => port.postMessage(r, transfer);

async function handle(m: CallRequest): Promise<void> {
  try {
    if (m.type === 'parse') return send({ id: m.id, ok: true, value: parseRequestBody(m.body) });
    if (m.type === 'call') return send({ id: m.id, ok: true, value: await run(m.method, m.request, m.ctx) });
    let answer: ApiResult;
    try {
      answer = { ok: true, result: await run(m.method, parseRequestBody(m.body), m.ctx) };
    } catch (e) {
      answer = { ok: false, error: toApiError(e).toJSON() };
    }
    let json: Uint8Array;
    try {
      json = new TextEncoder().encode(JSON.stringify(answer));
    } catch (e) {
      // e.g. a result too large for one JSON string
      answer = { ok: false, error: new ApiError('failed', `the answer could not be encoded: ${(e as Error).message}`).toJSON() };
      json = new TextEncoder().encode(JSON.stringify(answer));
    }
    send({ id: m.id, ok: true, json, ...(answer.ok ? {} : { code: answer.error.code }) }, [json.buffer as ArrayBuffer]);
  } catch (e) {
    send({ id: m.id, ok: false, error: toApiError(e).toJSON() });
  }
}

port.on('message', (m: CallRequest) => void handle(m));
