// Runs onnxruntime-node's own install step (it fetches the CUDA provider libraries on linux-x64)
// and never fails the install: offline machines keep the CPU provider, which ships in the package.
// npm is told not to run that script itself ("allowScripts" in package.json) because its failure
// would abort the whole install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
let script;
try {
  script = path.join(path.dirname(require.resolve('onnxruntime-node/package.json')), 'script', 'install.js');
} catch {
  process.exit(0);
}
if (process.env.ONNXRUNTIME_NODE_INSTALL === 'skip' || !existsSync(script)) process.exit(0);

// The script exits early when it believes it is installing itself; these two variables make it
// think so when it is called from our root lifecycle script.
const env = { ...process.env };
delete env.npm_config_local_prefix;
delete env.npm_package_json;
const r = spawnSync(process.execPath, [script], { cwd: path.dirname(path.dirname(script)), env, stdio: 'pipe', timeout: 300_000 });
if (r.status !== 0) {
  const lines = (r.stderr?.toString() || r.error?.message || '').split('\n');
  const why = lines.find((l) => /Error|ENOTFOUND|EAI_AGAIN|ECONN/.test(l))?.trim();
  console.warn(`plm-workbench: CUDA libraries for onnxruntime-node were not installed (${why || 'no network?'}); the CPU provider is used.`);
}
