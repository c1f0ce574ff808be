import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { REPO } from '../helpers/paths.js';

const plmw = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', ...args], { cwd: REPO, encoding: 'utf8' });

it('lists its commands with --help', () => {
  const r = plmw('--help');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^plmw: /);
  expect(r.stdout).toMatch(/\n {2}version +print versions/);
});

it('refuses an unknown command with usage status 2', () => {
  const r = plmw('frobnicate');
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
});
