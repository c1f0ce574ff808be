// A local stand-in for the servers public data sets come from (node:http on 127.0.0.1): any path
// whose file name is one of ../shared's NetSurfP CSVs (byte-identical to the pinned upstream
// files) is served, with Range requests, and on request a dropped connection, a corrupted body
// or a slow transfer.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { shared } from './paths.js';

export const LOCAL_DATA: Record<string, string> = {
  'CASP12_HHblits.csv': shared('data', 'secondary-structure', 'netsurfp', 'CASP12_HHblits.csv'),
  'TS115_HHblits.csv': shared('data', 'secondary-structure', 'netsurfp', 'TS115_HHblits.csv'),
  'CB513_HHblits.csv': shared('data', 'secondary-structure', 'netsurfp', 'CB513_HHblits.csv'),
};

export interface DataServer {
  url: string;
  log: { path: string; range?: string }[];
  /** the next GET sends this many bytes, then drops the connection */
  dropAfter?: number;
  /** serve files with one byte flipped */
  corrupt?: boolean;
  /** bytes per write and pause between writes (slow enough to cancel mid-way) */
  slow?: { chunk: number; ms: number };
  close(): Promise<void>;
}

export async function startDataServer(): Promise<DataServer> {
  const s: Partial<DataServer> = { log: [] };
  const server = http.createServer(async (req, res) => {
    const p = new URL(req.url!, 'http://x').pathname;
    s.log!.push({ path: p, range: req.headers.range });
    const file = LOCAL_DATA[path.basename(p)];
    if (!file) return void res.writeHead(404).end('not found');
    let body = readFileSync(file);
    if (s.corrupt) {
      body = Buffer.from(body);
      body[100] ^= 1;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (start > body.length) return void res.writeHead(416).end();
    res.writeHead(m ? 206 : 200, { 'content-length': body.length - start, ...(m ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}) });
    const rest = body.subarray(start);
    if (s.dropAfter !== undefined) {
      const n = s.dropAfter;
      s.dropAfter = undefined;
      res.write(rest.subarray(0, n));
      return void setTimeout(() => res.destroy(), 50);
    }
    const slow = s.slow;
    if (slow) {
      let gone = false;
      res.on('close', () => (gone = true));
      for (let k = 0; k < rest.length && !gone; k += slow.chunk) {
        res.write(rest.subarray(k, k + slow.chunk));
        await new Promise((r) => setTimeout(r, slow.ms));
      }
      return void res.end();
    }
    res.end(rest);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  s.close = () => new Promise((r) => server.close(() => r()));
  return s as DataServer;
}
