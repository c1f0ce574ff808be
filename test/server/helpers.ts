// HTTP helpers for browser-mode tests: raw requests (any Host/Origin header) and an SSE reader.
import http from 'node:http';
import type { ApiEvent } from '../../src-main/api/contract.js';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json<T = unknown>(): T;
}

export function request(port: number, o: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: o.method ?? 'GET', path: o.path, headers: { host: `127.0.0.1:${port}`, ...o.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, json: () => JSON.parse(body) }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

export function post(port: number, method: string, body: unknown, token: string): Promise<RawResponse> {
  return request(port, { method: 'POST', path: `/api/${method}`, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
}

/** Subscribe to /api/events; collects events until closed. */
export function events(port: number, token: string): Promise<{ events: ApiEvent[]; status: number; until(pred: (e: ApiEvent) => boolean, ms?: number): Promise<ApiEvent>; close(): void }> {
  return new Promise((resolve, reject) => {
    const got: ApiEvent[] = [];
    const waiters: { pred: (e: ApiEvent) => boolean; resolve: (e: ApiEvent) => void }[] = [];
    const req = http.get({ host: '127.0.0.1', port, path: `/api/events?token=${token}`, headers: { host: `127.0.0.1:${port}` } }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (!data) continue;
          const e = JSON.parse(data) as ApiEvent;
          got.push(e);
          for (const w of [...waiters]) if (w.pred(e)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(e);
          }
        }
      });
      resolve({
        events: got,
        status: res.statusCode!,
        until: (pred, ms = 60_000) =>
          new Promise((res2, rej2) => {
            const hit = got.find(pred);
            if (hit) return res2(hit);
            const t = setTimeout(() => rej2(new Error('timed out waiting for an event')), ms);
            waiters.push({ pred, resolve: (e) => (clearTimeout(t), res2(e)) });
          }),
        close: () => req.destroy(),
      });
    });
    req.on('error', (e) => {
      if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(e);
    });
  });
}
