// A local stand-in for the Hugging Face Hub (node:http on 127.0.0.1) serving a repository's files
// in the Hub's URL layout: the revision API with sha256s (LFS) and git blob ids, HEAD with
// X-Linked-Etag, LFS redirects to a "CDN" path, and Range requests, with switches for the
// failures a download must survive (a dropped connection, a corrupted file, a stall).
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { DownloadError } from '../../src-main/engine/models/hub.js';

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
export const gitSha1 = (b: Uint8Array) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

export interface HubOptions {
  repo: string;
  commit: string;
  /** file name -> content */
  files: Record<string, Buffer>;
  /** files the Hub keeps in LFS (checksum sha256, served through a CDN redirect) */
  lfs: ReadonlySet<string>;
  /** the first GET of this file sends half of it, then drops the connection */
  dropOnce?: string;
  /** serve this file with one byte flipped (the published checksum stays the original's) */
  corrupt?: string;
  /** answer 404 on the revision API (a mirror that only has the resolve route) */
  noApi?: boolean;
  /** ignore Range headers (always send the whole file with 200) */
  ignoreRange?: boolean;
  /** send the first 128 KiB of a body (stallAt bytes), then hold the connection open without sending more */
  stall?: boolean;
  stallAt?: number;
  /** send bodies in 32 KiB pieces, this many ms apart */
  trickleMs?: number;
}

export interface Hub {
  endpoint: string;
  log: { method: string; path: string; range?: string }[];
  close(): Promise<void>;
}

export async function startHub(opts: HubOptions): Promise<Hub> {
  const { repo: REPO, commit: COMMIT, files: FILES, lfs: LFS } = opts;
  const log: Hub['log'] = [];
  let dropped = false;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    log.push({ method: req.method!, path: url.pathname, range: req.headers.range });
    const api = /^\/api\/models\/(.+)\/revision\/([^/]+)$/.exec(url.pathname);
    if (api) {
      if (opts.noApi || api[1] !== REPO || url.searchParams.get('blobs') !== 'true') return void res.writeHead(404).end('{"error":"not found"}');
      const siblings = [{ rfilename: '.gitattributes', size: 10, blobId: 'a'.repeat(40) }].concat(
        Object.entries(FILES).map(([f, b]) =>
          Object.assign(
            { rfilename: f, size: LFS.has(f) ? 134 : b.length, blobId: gitSha1(LFS.has(f) ? Buffer.from('pointer') : b) },
            LFS.has(f) ? { lfs: { sha256: sha256(b), size: b.length, pointerSize: 134 } } : {},
          ),
        ),
      );
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ id: REPO, sha: COMMIT, siblings }));
    }
    const resolve = /^\/(.+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (resolve) {
      const [, repo, rev, file] = resolve;
      const body = FILES[file];
      if (repo !== REPO || !(rev === 'main' || rev === COMMIT) || !body) return void res.writeHead(404).end();
      if (LFS.has(file)) {
        // The Hub answers LFS files with a redirect carrying the checksum; the CDN serves bytes.
        res.writeHead(302, {
          location: `/cdn/${file}`,
          'x-linked-etag': `"${sha256(body)}"`,
          'x-linked-size': String(body.length),
          'x-repo-commit': COMMIT,
          etag: `"${sha256(body)}"`,
        });
        return void res.end();
      }
      return serve(req, res, file, body);
    }
    const cdn = /^\/cdn\/(.+)$/.exec(url.pathname);
    if (cdn && FILES[cdn[1]]) return serve(req, res, cdn[1], FILES[cdn[1]]);
    res.writeHead(404).end();
  });

  function serve(req: http.IncomingMessage, res: http.ServerResponse, file: string, original: Buffer): void {
    let body = original;
    if (opts.corrupt === file) {
      body = Buffer.from(original);
      body[body.length >> 1] ^= 0x01;
    }
    const headers: http.OutgoingHttpHeaders = { 'accept-ranges': 'bytes', etag: `"${LFS.has(file) ? sha256(original) : gitSha1(original)}"` };
    if (req.method === 'HEAD') {
      res.writeHead(200, { ...headers, 'content-length': body.length });
      return void res.end();
    }
    let start = 0;
    let status = 200;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && !opts.ignoreRange) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` });
        return void res.end();
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    }
    const part = body.subarray(start);
    res.writeHead(status, { ...headers, 'content-length': part.length, 'content-type': 'application/octet-stream' });
    if (opts.dropOnce === file && !dropped) {
      dropped = true;
      res.write(part.subarray(0, part.length >> 1), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    const at = opts.stallAt ?? 131072;
    if (opts.stall && part.length > at) return void res.write(part.subarray(0, at));
    if (opts.trickleMs) {
      const send = (from: number): void => {
        if (res.destroyed) return;
        if (from + 32768 >= part.length) return void res.end(part.subarray(from));
        res.write(part.subarray(from, from + 32768));
        setTimeout(() => send(from + 32768), opts.trickleMs);
      };
      return send(0);
    }
    res.end(part);
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}


/** The DownloadError a download fails with, checked to have this code. */
export async function expectDownloadError(p: Promise<unknown>, code: DownloadError['code']): Promise<DownloadError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DownloadError);
    expect((e as DownloadError).code).toBe(code);
    return e as DownloadError;
  }
  throw new Error(`expected a DownloadError '${code}'`);
}
