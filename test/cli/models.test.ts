import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer } from 'node:net';
import { expect, it } from 'vitest';
import { readSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { REPO, fixtureModel } from '../helpers/paths.js';

const plmw = (home: string, ...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, PLMW_HOME: home } });

/** A local port nothing listens on (opened, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

it('imports a model folder, lists it, runs it by name, and reports an unreachable Hub clearly', async () => {
  const home = mkdtempSync(path.join(tmpdir(), 'plmw-home-'));
  expect(plmw(home, 'models', 'import', fixtureModel('tiny'), '--name', 'tiny').status).toBe(0);
  const list = plmw(home, 'models', 'list');
  expect(list.stdout).toMatch(/\n {2}tiny +ready/);
  expect(list.stdout).toMatch(/esm2_t33_650M_UR50D +facebook\/esm2_t33_650M_UR50D +33 layers/);
  const fasta = path.join(home, 'a.fasta');
  writeFileSync(fasta, '>x\nMKTAYIAK\n');
  const out = path.join(home, 'a.safetensors');
  const r = plmw(home, 'infer', '--model', 'tiny', '--fasta', fasta, '--out', out, '--emit', 'logits');
  expect(r.status, r.stderr).toBe(0);
  expect(readSafetensors(out).tensors.get('x/logits')?.shape).toEqual([10, 33]);
  const d = spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', 'models', 'download', 'esm2_t6_8M_UR50D', '--endpoint', `http://127.0.0.1:${await closedPort()}`], {
    cwd: REPO, encoding: 'utf8', env: { ...process.env, PLMW_HOME: home },
  });
  expect(d.status).toBe(1);
  expect(d.stderr).toMatch(/unreachable|offline/);
  expect(d.stderr).toMatch(/import/);
});
