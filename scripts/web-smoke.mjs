// The newcomer path, as CI checks it: `npm run web` in a fresh clone (no build yet) must build
// what it needs, print its address, serve the workbench page and answer /api/health. Exits 0
// when it does, 1 (with the server's output) when it does not within the time limit.
import { spawn } from 'node:child_process';

const LIMIT_MS = 240_000;
const child = spawn('npm', ['run', '--silent', 'web', '--', '--no-open'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
let out = '';
let err = '';
const fail = (why) => {
  process.stderr.write(`web-smoke: ${why}\n--- stdout\n${out}\n--- stderr\n${err}\n`);
  stop(1);
};
const stop = (code) => {
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  process.exit(code);
};
const timer = setTimeout(() => fail(`no address line within ${LIMIT_MS / 1000} s`), LIMIT_MS);
child.stderr.on('data', (d) => (err += d));
child.on('exit', (code) => fail(`npm run web exited (${code}) before it was checked`));
child.stdout.on('data', async (d) => {
  out += d;
  const m = /plm-workbench listening on (http:\/\/127\.0\.0\.1:\d+\/)\?token=([0-9a-f]+)/.exec(out);
  if (!m) return;
  clearTimeout(timer);
  child.removeAllListeners('exit');
  const [, base, token] = m;
  try {
    const page = await fetch(base);
    const html = await page.text();
    if (page.status !== 200 || !/<div id="app">|<script/.test(html)) return fail(`GET / answered ${page.status}: ${html.slice(0, 200)}`);
    const health = await fetch(`${base}api/health`, { headers: { 'x-plmw-token': token } });
    const body = await health.json();
    if (health.status !== 200 || body.ok !== true) return fail(`GET /api/health answered ${health.status}: ${JSON.stringify(body)}`);
    process.stdout.write(`web-smoke: npm run web on a fresh checkout serves ${base} (page and /api/health answered)\n`);
    stop(0);
  } catch (e) {
    fail(`request failed: ${e.message}`);
  }
});
