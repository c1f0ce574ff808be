// Engine errors as API errors, one rule for every place a call is answered (the service on the
// main thread, the call worker): the engine's message, and a code that says what kind of
// failure it was. A problem with the caller's input (InputError: a FASTA record, a model
// folder's config.json, a safetensors header) is bad_request, i.e. HTTP 400 with the located
// message, not a 500.
import { InputError } from '../engine/data/errors.js';
import { RunStoreError } from '../engine/runs/store.js';
import { ApiError, toErrorInfo } from './errors.js';

export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof InputError) return new ApiError('bad_request', e.message);
  if (e instanceof RunStoreError) return new ApiError(e.code === 'invalid' ? 'bad_request' : e.code, e.message);
  if ((e as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return new ApiError('not_found', (e as Error).message);
  const info = toErrorInfo(e);
  return new ApiError(info.code, info.message);
}
