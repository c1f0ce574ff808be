// Browser mode: the same API over HTTP + Server-Sent Events, bound to 127.0.0.1 only, and the
// built renderer as static files.
//
//   POST /api/<method>   JSON request body -> ApiResult JSON ({ok, result} | {ok:false, error});
//                        HTTP status 200, or 400/404/409/500/501 by error code
//   GET  /api/health     the `health` method without a body
//   GET  /api/events     text/event-stream, one `data: <ApiEvent JSON>` per event
//   GET  /*              static files of the renderer (index.html for unknown paths)
//
// Defences, in order: the Host header must be 127.0.0.1:PORT or localhost:PORT (DNS
// rebinding); a request carrying an Origin other than this server's, or marked cross-site by
// Sec-Fetch-Site, is refused (403); every /api request needs the session token (32 random bytes,
// hex) in `Authorization: Bearer`, `X-Plmw-Token`, or, for the event stream only (EventSource
// cannot send headers), `?token=` (401 otherwise; compared in constant time). POST bodies must
// be application/json (no form posts), UTF-8, and at most MAX_BODY_BYTES (256 MiB: 413 past
// that; health states it). A path that is not valid percent-encoding is a 400. Static files are
// served only when their real path (symbolic links resolved) lies inside the renderer folder.
// No CORS headers are ever sent.
//
// The event loop stays free for every other request: the heavy calls (FASTA parsing, model
// import) go to the call worker as raw bytes and come back as the answer's bytes, and any other
// body over PARSE_OFF_THREAD_BYTES is parsed there too (src-main/engine/jobs/call-worker.ts).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { ApiEvent } from '../api/contract.js';
import { httpStatus } from '../api/errors.js';
import type { ApiService } from '../api/service.js';
import { parseRequestBody } from '../api/request-body.js';
import { CONTENT_SECURITY_POLICY } from '../shell/window-policy.js';

export const MAX_BODY_BYTES = 256 * 1024 * 1024;
/** Bodies larger than this are decoded and parsed in the call worker, not on the event loop. */
export const PARSE_OFF_THREAD_BYTES = 1024 * 1024;
const SSE_HEARTBEAT_MS = 15_000;

export interface WebServerOptions {
  service: ApiService;
  /** 0 (default) lets the OS choose */
  port?: number;
  /** folder of the built renderer (index.html + assets); none: API only */
  rendererDir?: string;
  /** session token; default 32 random bytes as hex */
  token?: string;
}

export interface WebServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export function newToken(): string {
  return randomBytes(32).toString('hex');
}

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startWebServer(o: WebServerOptions): Promise<WebServer> {
  const token = o.token ?? newToken();
  const streams = new Set<http.ServerResponse>();
  let port = 0;

  const send = (res: http.ServerResponse, status: number, data: string | Uint8Array) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': typeof data === 'string' ? Buffer.byteLength(data) : data.length });
    res.end(data);
  };
  const json = (res: http.ServerResponse, status: number, body: unknown) => send(res, status, JSON.stringify(body));
  const refuse = (res: http.ServerResponse, status: number, code: string, message: string) => json(res, status, { ok: false, error: { code, message } });

  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const host = (req.headers.host ?? '').toLowerCase();
    if (!allowedHosts().has(host)) return refuse(res, 403, 'forbidden', `Host '${req.headers.host ?? ''}' is not allowed: use http://127.0.0.1:${port}/`);
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin.toLowerCase())) return refuse(res, 403, 'forbidden', `cross-origin request from '${origin}' refused`);
    if (req.headers['sec-fetch-site'] === 'cross-site') return refuse(res, 403, 'forbidden', 'cross-site request refused');

    const url = new URL(req.url ?? '/', `http://${host}`);
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return api(req, res, url);
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'bad_request', `${req.method} is not allowed here`);
    return serveStatic(req, res, url.pathname);
  }

  async function api(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const isEvents = url.pathname === '/api/events';
    const auth = req.headers.authorization;
    const given =
      (auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined) ??
      (typeof req.headers['x-plmw-token'] === 'string' ? req.headers['x-plmw-token'] : undefined) ??
      (isEvents ? url.searchParams.get('token') ?? undefined : undefined);
    if (!sameToken(given, token)) {
      res.setHeader('www-authenticate', 'Bearer realm="plm-workbench"');
      return refuse(res, 401, 'unauthorized', 'missing or wrong session token: open the address printed by `npm run web`');
    }
    if (isEvents) {
      if (req.method !== 'GET') return refuse(res, 405, 'bad_request', 'the event stream is GET /api/events');
      return events(req, res);
    }
    let method: string;
    try {
      method = decodeURIComponent(url.pathname.slice('/api/'.length));
    } catch {
      return refuse(res, 400, 'bad_request', `the path ${JSON.stringify(url.pathname.slice(0, 200))} is not valid percent-encoding`);
    }
    if (req.method === 'GET' && method === 'health') return reply(res, await o.service.handle('health', {}));
    if (req.method !== 'POST') return refuse(res, 405, 'bad_request', `use POST /api/${method} with a JSON body`);
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') return refuse(res, 415, 'bad_request', 'the request body must be application/json');
    let bytes: Uint8Array;
    try {
      bytes = await readBody(req);
    } catch (e) {
      res.setHeader('connection', 'close');
      return refuse(res, 413, 'bad_request', (e as Error).message);
    }
    const raw = await o.service.handleRaw(method, bytes);
    if (raw) return send(res, raw.code ? httpStatus(raw.code) : 200, raw.json);
    let body: unknown;
    try {
      const offThread = bytes.length > PARSE_OFF_THREAD_BYTES ? await o.service.parseBody(bytes) : undefined;
      body = offThread !== undefined ? offThread : parseRequestBody(bytes);
    } catch (e) {
      return refuse(res, 400, 'bad_request', (e as Error).message);
    }
    return reply(res, await o.service.handle(method, body));
  }

  function reply(res: http.ServerResponse, r: Awaited<ReturnType<ApiService['handle']>>): void {
    json(res, r.ok ? 200 : httpStatus(r.error.code), r);
  }

  function events(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n: connected\n\n');
    streams.add(res);
    const send = (e: ApiEvent) => res.write(`data: ${JSON.stringify(e)}\n\n`);
    const off = o.service.onEvent(send);
    const beat = setInterval(() => res.write(': ping\n\n'), SSE_HEARTBEAT_MS);
    const done = () => {
      clearInterval(beat);
      off();
      streams.delete(res);
    };
    req.on('close', done);
    res.on('error', done);
  }

  async function serveStatic(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): Promise<void> {
    if (!o.rendererDir) return refuse(res, 404, 'not_found', 'no renderer is served by this server');
    const root = path.resolve(o.rendererDir);
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      return refuse(res, 400, 'bad_request', 'bad path');
    }
    let file = path.resolve(root, '.' + path.posix.normalize('/' + rel));
    if (file !== root && !file.startsWith(root + path.sep)) return refuse(res, 403, 'forbidden', 'outside the app');
    let st = await stat(file).catch(() => undefined);
    if (st?.isDirectory()) {
      file = path.join(file, 'index.html');
      st = await stat(file).catch(() => undefined);
    }
    if (!st?.isFile()) {
      // Client-side routes fall back to the app; missing assets are 404.
      if (path.extname(file) !== '') return refuse(res, 404, 'not_found', `${pathname} not found`);
      file = path.join(root, 'index.html');
      st = await stat(file).catch(() => undefined);
      if (!st?.isFile()) return refuse(res, 404, 'not_found', 'the renderer is not built (index.html missing)');
    }
    // By real path: a symbolic link inside the folder must not lead out of it.
    const realRoot = await realpath(root).catch(() => root);
    const real = await realpath(file).catch(() => undefined);
    if (!real || (real !== realRoot && !real.startsWith(realRoot + path.sep))) return refuse(res, 404, 'not_found', `${pathname} not found`);
    file = real;
    const isHtml = file.endsWith('.html');
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
      'content-length': st.size,
      'cache-control': isHtml ? 'no-store' : 'no-cache',
      ...(isHtml ? { 'content-security-policy': CONTENT_SECURITY_POLICY } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) refuse(res, 500, 'failed', e instanceof Error ? e.message : String(e));
      else res.destroy();
    });
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 0; // long uploads and the event stream
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of streams) s.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The whole body, refused past MAX_BODY_BYTES; in one buffer of its own, so it can be handed to the call worker. */
function readBody(req: http.IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new Error(`request body over ${MAX_BODY_BYTES} bytes (the browser mode's limit; give a large file by its path instead)`);
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_BODY_BYTES) return reject(tooLarge());
    let buf = Buffer.allocUnsafeSlow(Number.isSafeInteger(declared) && declared > 0 ? declared : 64 * 1024);
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      // Over the limit: keep draining (so the answer can be sent) but keep nothing.
      if (over || size + c.length > MAX_BODY_BYTES) {
        over = true;
        return;
      }
      if (size + c.length > buf.length) {
        const grown = Buffer.allocUnsafeSlow(Math.min(MAX_BODY_BYTES, Math.max(buf.length * 2, size + c.length)));
        buf.copy(grown, 0, 0, size);
        buf = grown;
      }
      c.copy(buf, size);
      size += c.length;
    });
    req.on('end', () => (over ? reject(tooLarge()) : resolve(buf.subarray(0, size))));
    req.on('error', reject);
  });
}
