// `npm run web`: the workbench in the system browser. Serves the built renderer (out/renderer,
// built first with `electron-vite build` when missing) and the API on 127.0.0.1, prints exactly
// one line on stdout:
//
//   plm-workbench listening on http://127.0.0.1:PORT/?token=TOKEN
//
// and opens that address in the browser (xdg-open / open / start; failures ignored).
// Everything else (build output, warnings) goes to stderr.
//
// options: --port N (default 0: chosen by the OS), --no-open, --renderer DIR (serve another
// built renderer folder; no build), --home DIR (data root instead of $PLMW_HOME).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ApiService } from '../api/service.js';
import { CallWorker } from '../engine/jobs/calls.js';
import { JobQueue } from '../engine/jobs/queue.js';
import { plmwHome, sweepUserData } from '../engine/models/store.js';
import { MAX_BODY_BYTES, startWebServer } from './server.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * electron-vite's command-line script. Its package exports only '.' and './package.json', so the
 * script is found through the `bin` field of its package.json, not by a subpath.
 */
function electronViteBin(): string {
  const req = createRequire(import.meta.url);
  const pkgFile = req.resolve('electron-vite/package.json');
  const { bin } = JSON.parse(readFileSync(pkgFile, 'utf8')) as { bin?: string | Record<string, string> };
  const rel = typeof bin === 'string' ? bin : bin?.['electron-vite'];
  if (!rel) throw new Error(`${pkgFile}: no 'electron-vite' command in its bin field`);
  return path.join(path.dirname(pkgFile), rel);
}

function ensureRenderer(dir: string): void {
  if (existsSync(path.join(dir, 'index.html'))) return;
  process.stderr.write(`plm-workbench: ${dir} is missing; building the renderer (electron-vite build)\n`);
  const bin = electronViteBin();
  // Build output goes to stderr: stdout carries only the address line.
  const r = spawnSync(process.execPath, [bin, 'build'], { cwd: REPO, stdio: ['ignore', 2, 2] });
  if (r.status !== 0 || !existsSync(path.join(dir, 'index.html'))) {
    throw new Error(`building the renderer failed (exit ${r.status ?? r.signal}); run \`npx electron-vite build\` to see why`);
  }
}

function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args as string[], { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    /* no browser: the printed address still works */
  }
}

async function main(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, 'no-open': { type: 'boolean' }, renderer: { type: 'string' }, home: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (v.help) {
    process.stderr.write('usage: npm run web -- [--port N] [--no-open] [--renderer DIR] [--home DIR]\n');
    return;
  }
  const port = v.port === undefined ? 0 : Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: expected 0..65535, got '${v.port}'`);
  const rendererDir = v.renderer ? path.resolve(v.renderer) : path.join(REPO, 'out', 'renderer');
  if (!v.renderer) ensureRenderer(rendererDir);

  sweepUserData(v.home ? path.resolve(v.home) : plmwHome());
  const jobs = new JobQueue();
  const calls = new CallWorker();
  const service = new ApiService({ front: 'web', jobs, calls, home: v.home, limits: { requestBodyBytes: MAX_BODY_BYTES } });
  const server = await startWebServer({ service, port, rendererDir });
  const address = `${server.url}?token=${server.token}`;
  process.stdout.write(`plm-workbench listening on ${address}\n`);
  if (!v['no-open']) openBrowser(address);

  const stop = async () => {
    await server.close();
    await jobs.close();
    await calls.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`plm-workbench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
