// A CLI that speaks to people: usage errors show the usage (exit 2), OS errors are one line
// naming the file (exit 1), unexpected errors are one line with the stack only under --debug,
// and the execution provider that ran is one line saying why the others did not, with none of
// the WebGPU runtime's own output (Dawn's Vulkan warnings) reaching the terminal.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UserError } from '../../src-main/cli/command.js';
import { runCli } from '../../src-main/cli/run.js';
import { REPO, fixtureModel } from '../helpers/paths.js';
import { testDir } from '../helpers/scratch.js';

const TINY = fixtureModel('tiny');
const SAMPLE = path.join(REPO, 'resources', 'samples', 'proteins.fasta');
const plmw = (args: string[], o: { env?: NodeJS.ProcessEnv; uid?: number } = {}) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', ...args], {
    cwd: REPO, encoding: 'utf8', env: { ...process.env, ...o.env }, ...(o.uid !== undefined ? { uid: o.uid, gid: o.uid } : {}),
  });
const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '');
const STACK = /^\s+at /m;

describe('user and OS errors', () => {
  it('an unknown option: the message and the usage, exit 2, no stack', () => {
    const r = plmw(['infer', '--bogus']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^plmw infer: Unknown option '--bogus'/);
    expect(r.stderr).toMatch(/\nusage: plmw infer /);
    expect(r.stderr).not.toMatch(STACK);
    expect(plmw(['train', '--epochs']).status).toBe(2);
  });

  it('EACCES: one line naming the file, exit 1', () => {
    const dir = testDir('plmw-eacces'); // root's, mode 0700: not writable for nobody
    const out = path.join(dir, 'out.safetensors');
    const r = plmw(['infer', '--model', TINY, '--fasta', SAMPLE, '--out', out, '--provider', 'cpu'], { uid: 65534, env: { HOME: tmpdir() } });
    expect(r.status).toBe(1);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(new RegExp(`^plmw infer: ${dir}/out\\.safetensors(\\.spool)?: cannot write: permission denied \\[EACCES\\]$`))]);
  });

  it('a read-only file system: one line naming the file, exit 1', () => {
    const dir = testDir('plmw-erofs');
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir], { encoding: 'utf8' });
    if (m.status !== 0) throw new Error(`cannot mount a read-only tmpfs on ${dir} (this test needs root): ${m.stderr}`);
    try {
      const r = plmw(['infer', '--model', TINY, '--fasta', SAMPLE, '--out', path.join(dir, 'o.safetensors'), '--provider', 'cpu']);
      expect(r.status).toBe(1);
      expect(lines(r.stderr)).toEqual([expect.stringMatching(/: cannot write: read-only file system \[EROFS\]$/)]);
      expect(r.stderr).toContain(dir);
    } finally {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a bad input file: one located line, exit 1', () => {
    const dir = testDir('plmw-badin');
    writeFileSync(path.join(dir, 'bad.fasta'), '>a\nMK1TAY\n');
    const r = plmw(['infer', '--model', TINY, '--fasta', path.join(dir, 'bad.fasta'), '--out', path.join(dir, 'o.safetensors'), '--provider', 'cpu']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bad\.fasta/);
    expect(r.stderr).not.toMatch(STACK);
  });
});

describe('unexpected errors', () => {
  afterEach(() => vi.restoreAllMocks());
  const failing = [{ name: 'boom', summary: '', usage: 'usage: plmw boom', run: async (): Promise<number> => {
    throw new TypeError("Cannot read properties of undefined (reading 'x')");
  } }];

  it('print one line, and the stack only with --debug', async () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await runCli(['boom'], failing)).toBe(1);
    expect(err.mock.calls.map((c) => String(c[0]))).toEqual(["plmw boom: internal error: Cannot read properties of undefined (reading 'x') (run again with --debug for the stack trace)"]);
    err.mockClear();
    expect(await runCli(['boom', '--debug'], failing)).toBe(1);
    const printed = err.mock.calls.map((c) => String(c[0]));
    expect(printed[0]).toBe("plmw boom: internal error: Cannot read properties of undefined (reading 'x')");
    expect(printed[1]).toMatch(/^TypeError: Cannot read properties[\s\S]*\n\s+at /);
  });

  it('a UserError keeps its own exit status', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const usage = [{ name: 'u', summary: '', usage: 'usage: plmw u', run: async (): Promise<number> => {
      throw new UserError('--x must be positive', 2);
    } }];
    expect(await runCli(['u'], usage)).toBe(2);
  });
});

describe('which provider ran', () => {
  const providerLines = (stderr: string) => lines(stderr).filter((l) => /running on /.test(l));
  /** Lines on stderr that plmw did not write (each of its own starts with "plmw <command>: "). */
  const runtimeNoise = (stderr: string) => lines(stderr).filter((l) => !l.startsWith('plmw infer: '));

  it('one line for the fallback, nothing from the WebGPU runtime itself (no Vulkan loader here)', () => {
    const r = plmw(['infer', '--model', TINY, '--fasta', SAMPLE, '--out', path.join(testDir('plmw-prov'), 'o.safetensors')], { env: { LD_LIBRARY_PATH: '' } });
    expect(r.status, r.stderr).toBe(0);
    expect(runtimeNoise(r.stderr)).toEqual([]);
    expect(providerLines(r.stderr)).toEqual([expect.stringMatching(/^plmw infer: running on cpu \(cuda unavailable: [^;]+; webgpu unavailable: [^;]+\)$/)]);
  });

  it('with a Vulkan loader and driver manifest but no usable adapter, the probe runs aside and its warnings stay there', () => {
    const dir = testDir('plmw-vk');
    mkdirSync(path.join(dir, 'lib'));
    writeFileSync(path.join(dir, 'lib', 'libvulkan.so.1'), ''); // a loader that cannot load
    writeFileSync(path.join(dir, 'icd.json'), JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: '/nonexistent/libvulkan_none.so', api_version: '1.3.0' } }));
    const r = plmw(['infer', '--model', TINY, '--fasta', SAMPLE, '--out', path.join(dir, 'o.safetensors')], {
      env: { LD_LIBRARY_PATH: path.join(dir, 'lib'), VK_ICD_FILENAMES: path.join(dir, 'icd.json') },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(runtimeNoise(r.stderr)).toEqual([]);
    const [line, ...more] = providerLines(r.stderr);
    expect(more).toEqual([]);
    expect(line).toMatch(/^plmw infer: running on cpu \(cuda unavailable: [^;]+; webgpu unavailable: .+\)$/);
    expect(line).not.toMatch(/no Vulkan (loader|driver)/); // judged by the probe, not by the file checks
  });
});
