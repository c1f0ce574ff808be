// A request body as every transport reads it: strict UTF-8 JSON, an empty body meaning {}.
// Anything else is a bad request whose message says where the bytes went wrong.
import { InputError } from '../engine/data/errors.js';
import { decodeUtf8 } from '../engine/data/utf8.js';
import { ApiError } from './errors.js';

export function parseRequestBody(body: Uint8Array): unknown {
  let text: string;
  try {
    text = decodeUtf8(body, 'request body');
  } catch (e) {
    throw new ApiError('bad_request', (e as InputError).message);
  }
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ApiError('bad_request', `request body is not valid JSON: ${(e as Error).message}`);
  }
}
