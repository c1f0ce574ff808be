// Errors every front reports the same way. Pure: no Node imports.

export type ApiErrorCode =
  /** the request does not match the contract (field named in `field`) */
  | 'bad_request'
  /** no such method */
  | 'unknown_method'
  /** a run, job or model that does not exist */
  | 'not_found'
  /** the request is valid but the state forbids it (renaming a running run, ...) */
  | 'conflict'
  /** this front cannot do it (native file dialogs in browser mode) */
  | 'unsupported'
  /** the engine failed; `message` is the engine's message */
  | 'failed'
  /** transport level: no or wrong session token (browser mode) */
  | 'unauthorized'
  /** transport level: wrong Host, cross-origin request, untrusted IPC sender */
  | 'forbidden';

export interface ApiErrorInfo {
  code: ApiErrorCode;
  message: string;
  /** the offending request field, for bad_request */
  field?: string;
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  toJSON(): ApiErrorInfo {
    return this.field === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, field: this.field };
  }
}

/** Any thrown value as the error info a front sends back (engine errors keep their message). */
export function toErrorInfo(e: unknown): ApiErrorInfo {
  if (e instanceof ApiError) return e.toJSON();
  if (e instanceof Error) return { code: 'failed', message: e.message };
  return { code: 'failed', message: String(e) };
}

/** HTTP status of an error code (browser mode). */
export function httpStatus(code: ApiErrorCode): number {
  switch (code) {
    case 'bad_request':
      return 400;
    case 'unknown_method':
    case 'not_found':
      return 404;
    case 'conflict':
      return 409;
    case 'unsupported':
      return 501;
    case 'unauthorized':
      return 401;
    case 'forbidden':
      return 403;
    default:
      return 500;
  }
}
