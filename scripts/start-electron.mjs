// `npm start`: builds and opens the Electron window where the Electron binary is available.
// The electron package downloads its binary on first use; without network that fails, and the
// browser mode (`npm run web`) serves the same interface instead.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
let binary = null;
try {
  const dir = path.dirname(require.resolve('electron/package.json'));
  const pathFile = path.join(dir, 'path.txt');
  if (existsSync(pathFile)) {
    const rel = (await import('node:fs')).readFileSync(pathFile, 'utf8').trim();
    const p = path.join(dir, 'dist', rel);
    if (existsSync(p)) binary = p;
  }
} catch {
  /* electron not installed */
}
if (!binary) {
  console.error(
    [
      'plm-workbench: the Electron binary is not installed on this machine.',
      'It is downloaded on first use from the Electron release servers; with internet access run',
      '  npx electron --version',
      'once to fetch it, then `npm start` again.',
      'Without it, `npm run web` serves the same workbench in your browser at http://127.0.0.1.',
    ].join('\n'),
  );
  process.exit(1);
}
const build = spawnSync(process.execPath, [require.resolve('electron-vite/bin/electron-vite.js'), 'build'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const r = spawnSync(binary, ['.'], { stdio: 'inherit' });
process.exit(r.status ?? 0);
