// The Hugging Face Hub, as far as downloading a checkpoint needs it.
//
// URL layout: files at `${endpoint}/${repo}/resolve/${revision}/${file}` (LFS files answer with
// a redirect to a CDN), repository metadata at
// `${endpoint}/api/models/${repo}/revision/${revision}?blobs=true`, whose `siblings[]` give each
// file's size, git blob id and, for LFS files, `lfs.sha256`. That API is the primary source of
// checksums; the fallback is a HEAD request to the resolve URL, which carries the sha256 of an
// LFS file in `X-Linked-Etag` (and the git blob sha1 of a small file in `ETag`). Mirrors that
// implement only the resolve route still work through the fallback.
export const HUB_DEFAULT_ENDPOINT = 'https://huggingface.co';

export type DownloadErrorCode =
  | 'offline' // DNS failure, connection refused/unreachable: nothing answered
  | 'not-found' // 404 for the repository, revision or file
  | 'http' // any other unexpected HTTP status
  | 'interrupted' // the transfer broke off; the .partial file is kept for resume
  | 'checksum' // the completed file does not match the published checksum; it was deleted
  | 'unverifiable' // no published checksum could be found for a file that must be verified
  | 'cancelled' // the caller's AbortSignal fired; the .partial file is kept for resume
  | 'busy'; // another process is downloading the same model or file right now

export class DownloadError extends Error {
  override name = 'DownloadError';
  constructor(
    readonly code: DownloadErrorCode,
    message: string,
    readonly url?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Endpoint to use: explicit option, else $HF_ENDPOINT, else https://huggingface.co (no trailing slash). */
export function hubEndpoint(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const e = explicit ?? (env.HF_ENDPOINT && env.HF_ENDPOINT.trim() !== '' ? env.HF_ENDPOINT : HUB_DEFAULT_ENDPOINT);
  return e.replace(/\/+$/, '');
}

const seg = (s: string) => s.split('/').map(encodeURIComponent).join('/');

export function resolveUrl(endpoint: string, repo: string, revision: string, file: string): string {
  return `${endpoint}/${seg(repo)}/resolve/${encodeURIComponent(revision)}/${seg(file)}`;
}

export function revisionApiUrl(endpoint: string, repo: string, revision: string): string {
  return `${endpoint}/api/models/${seg(repo)}/revision/${encodeURIComponent(revision)}?blobs=true`;
}

export interface HubFileInfo {
  name: string;
  size?: number;
  /** sha256 of the content (LFS files) */
  sha256?: string;
  /** git blob id, sha1 of `blob <size>\0<content>` (small, non-LFS files) */
  gitSha1?: string;
}

export interface RevisionInfo {
  /** commit the revision resolved to */
  commit?: string;
  files: Map<string, HubFileInfo>;
}

export interface HubRequestOptions {
  signal?: AbortSignal;
}

const OFFLINE_CODES = new Set([
  'ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN',
  'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'EADDRNOTAVAIL',
]);

/** The system error code buried in a fetch failure (`TypeError: fetch failed` -> cause -> code). */
export function networkErrorCode(e: unknown): string | undefined {
  for (let x: unknown = e, depth = 0; x && depth < 5; depth++) {
    const o = x as { code?: unknown; errors?: unknown[]; cause?: unknown };
    if (typeof o.code === 'string' && o.code !== 'ERR_INVALID_STATE') return o.code;
    if (Array.isArray(o.errors) && o.errors.length > 0) {
      const c = networkErrorCode(o.errors[0]);
      if (c) return c;
    }
    x = o.cause;
  }
  return undefined;
}

export function offlineMessage(url: string, code: string): string {
  let host = url;
  try {
    host = new URL(url).origin;
  } catch {
    /* keep the raw url */
  }
  return (
    `cannot reach ${host} (${code}): this machine seems to be offline, or the endpoint is unreachable. ` +
    'Check the network connection and HF_ENDPOINT, or import a model directory you already have ' +
    '(config.json + model.safetensors) instead of downloading.'
  );
}

/**
 * Turn a failed fetch() into a DownloadError: caller's abort -> cancelled, nothing reachable ->
 * offline, anything else (reset mid-request, ...) -> interrupted.
 */
export function fetchFailure(e: unknown, url: string, signal?: AbortSignal): DownloadError {
  if (e instanceof DownloadError) return e;
  if (signal?.aborted) return new DownloadError('cancelled', `download cancelled: ${url}`, url, { cause: e });
  const code = networkErrorCode(e);
  if (code && OFFLINE_CODES.has(code)) return new DownloadError('offline', offlineMessage(url, code), url, { cause: e });
  return new DownloadError('interrupted', `connection to ${url} failed: ${code ?? (e as Error)?.message ?? String(e)}`, url, { cause: e });
}

export function httpFailure(status: number, url: string, what: string): DownloadError {
  if (status === 404) return new DownloadError('not-found', `${what} not found (HTTP 404): ${url}`, url);
  if (status === 401 || status === 403) {
    return new DownloadError('http', `${what}: access denied (HTTP ${status}); the repository may be private or gated: ${url}`, url);
  }
  return new DownloadError('http', `${what}: HTTP ${status} from ${url}`, url);
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX40 = /^[0-9a-f]{40}$/;

/** Repository metadata for one revision, with per-file sizes and checksums. */
export async function fetchRevisionInfo(endpoint: string, repo: string, revision: string, opts: HubRequestOptions = {}): Promise<RevisionInfo> {
  const url = revisionApiUrl(endpoint, repo, revision);
  let res: Response;
  try {
    res = await fetch(url, { signal: opts.signal, headers: { accept: 'application/json' } });
  } catch (e) {
    throw fetchFailure(e, url, opts.signal);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw httpFailure(res.status, url, `repository ${repo} at revision ${revision}`);
  }
  let json: { sha?: unknown; siblings?: unknown };
  try {
    json = (await res.json()) as typeof json;
  } catch (e) {
    throw new DownloadError('http', `repository metadata from ${url} is not valid JSON`, url, { cause: e });
  }
  const files = new Map<string, HubFileInfo>();
  if (!Array.isArray(json.siblings)) throw new DownloadError('http', `repository metadata from ${url} has no file list`, url);
  for (const s of json.siblings as { rfilename?: unknown; size?: unknown; blobId?: unknown; lfs?: { sha256?: unknown; size?: unknown } }[]) {
    if (typeof s?.rfilename !== 'string') continue;
    const f: HubFileInfo = { name: s.rfilename };
    const size = typeof s.lfs?.size === 'number' ? s.lfs.size : s.size;
    if (typeof size === 'number') f.size = size;
    if (typeof s.lfs?.sha256 === 'string' && HEX64.test(s.lfs.sha256)) f.sha256 = s.lfs.sha256;
    else if (typeof s.blobId === 'string' && HEX40.test(s.blobId)) f.gitSha1 = s.blobId;
    files.set(f.name, f);
  }
  const info: RevisionInfo = { files };
  if (typeof json.sha === 'string' && HEX40.test(json.sha)) info.commit = json.sha;
  return info;
}

function etagValue(h: string | null): string | undefined {
  if (!h) return undefined;
  return h.replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase();
}

/**
 * Size and checksum of one file from a HEAD request to its resolve URL (the fallback when the
 * API is unavailable). Redirects are followed by hand: the checksum headers are on the Hub's own
 * redirect response, not on the CDN's. Returns undefined for a 404.
 */
export async function headFileInfo(
  endpoint: string,
  repo: string,
  revision: string,
  file: string,
  opts: HubRequestOptions = {},
): Promise<HubFileInfo | undefined> {
  let url = resolveUrl(endpoint, repo, revision, file);
  const origin = new URL(url).origin;
  for (let hop = 0; hop < 5; hop++) {
    let res: Response;
    try {
      res = await fetch(url, { method: 'HEAD', redirect: 'manual', signal: opts.signal, headers: { 'accept-encoding': 'identity' } });
    } catch (e) {
      throw fetchFailure(e, url, opts.signal);
    }
    if (res.status === 404) return undefined;
    const linked = etagValue(res.headers.get('x-linked-etag'));
    const info: HubFileInfo = { name: file };
    const size = Number(res.headers.get('x-linked-size') ?? (res.status < 300 ? res.headers.get('content-length') : NaN));
    if (Number.isSafeInteger(size) && size >= 0) info.size = size;
    if (linked && HEX64.test(linked)) return { ...info, sha256: linked };
    const loc = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && loc) {
      const next = new URL(loc, url);
      // Follow only the Hub's own redirects (e.g. a branch resolved to a commit); a CDN
      // redirect without X-Linked-Etag tells nothing more.
      if (next.origin !== origin) return info;
      url = next.toString();
      continue;
    }
    if (!res.ok) throw httpFailure(res.status, url, `file ${file} of ${repo}`);
    const etag = etagValue(res.headers.get('etag'));
    if (etag && HEX64.test(etag)) info.sha256 = etag;
    else if (etag && HEX40.test(etag)) info.gitSha1 = etag;
    return info;
  }
  throw new DownloadError('http', `too many redirects resolving ${file} of ${repo}`, url);
}
