// Execution providers in order of preference. onnxruntime does not fall back by itself when a
// provider fails to initialise (missing CUDA libraries, no WebGPU adapter), so each is tried in
// turn and every refusal is kept for the report the user sees.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { Graph, ops, serialize } from '../graph/index.js';

export type ProviderName = 'cuda' | 'webgpu' | 'cpu';
export const PROVIDER_PREFERENCE: readonly ProviderName[] = ['cuda', 'webgpu', 'cpu'];

export interface ProviderAttempt {
  provider: ProviderName;
  error: string;
}

export interface ProviderReport {
  /** the provider the session runs on */
  provider: ProviderName;
  /** providers tried before it, with the reason each was refused */
  fallbacks: ProviderAttempt[];
}

/** Which providers this onnxruntime build knows (a known one may still fail to load). */
export function compiledProviders(): ProviderName[] {
  const names = ort.listSupportedBackends().map((b) => b.name);
  return PROVIDER_PREFERENCE.filter((p) => names.includes(p));
}

/** The preference list, always ending with cpu, with duplicates removed. */
export function providerOrder(requested?: readonly ProviderName[]): ProviderName[] {
  const list = requested && requested.length ? [...requested] : [...PROVIDER_PREFERENCE];
  if (!list.includes('cpu')) list.push('cpu');
  return [...new Set(list)];
}

const reportWatchers = new Set<(r: ProviderReport) => void>();

/** Calls `f` with the report of every session opened from now on (the CLI prints each distinct one once). */
export function watchProviderReports(f: (r: ProviderReport) => void): () => void {
  reportWatchers.add(f);
  return () => reportWatchers.delete(f);
}

/** Tells the watchers which provider a new session runs on (called by createSession). */
export function announceProvider(r: ProviderReport): void {
  for (const f of reportWatchers) f(r);
}

export function describeReport(r: ProviderReport): string {
  const why = r.fallbacks.map((f) => `${f.provider} unavailable: ${f.error}`).join('; ');
  return why ? `running on ${r.provider} (${why})` : `running on ${r.provider}`;
}

/**
 * The useful part of an onnxruntime error: native messages carry source paths and lambda
 * signatures before the sentence that says what failed ("Failed to load shared library",
 * "Failed to get a WebGPU adapter: No supported adapters").
 */
export function shortError(e: unknown): string {
  const first = (e instanceof Error ? e.message : String(e)).split('\n')[0].replace(/^\[[^\]]*\]\s*/, '');
  const at = first.lastIndexOf('Failed to');
  return (at > 0 ? first.slice(at) : first).slice(0, 400);
}

// ---------------------------------------------------------------------------------------------
// Asking before trying. onnxruntime's WebGPU provider is Dawn, and on Linux Dawn prints its
// Vulkan failures straight to the process's stderr (multi-line "Warning: Couldn't load Vulkan
// ..." blocks), whatever onnxruntime's log level says; Node cannot silence a native library's
// stderr in its own process. So on Linux, webgpu is only tried when it can work here:
//  - no Vulkan loader (libvulkan.so.1) on the library path, or no Vulkan driver manifest (ICD):
//    there can be no adapter, it is not tried at all (costs a few file checks);
//  - both present: a child process creates a one-node session on webgpu, with its stderr
//    captured; only if that succeeds does this process try webgpu itself. Dawn's lines never
//    reach the user; the report keeps the one that says why.
// Measured on the 2-core machine (load average 12): the file checks take under 1 ms; the child
// probe 0.23-0.69 s (median 0.31 s of 5), paid once per process and only on machines with a
// Vulkan loader and driver manifest. Silencing the native stderr in this process instead would
// need dup2, which Node does not offer without a native addon.

const LIB_DIRS = ['/lib', '/usr/lib', '/lib64', '/usr/lib64', '/usr/local/lib', '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu'];

/** Folders the dynamic loader searches: LD_LIBRARY_PATH, /etc/ld.so.conf(.d), the usual ones. */
function libraryDirs(env: NodeJS.ProcessEnv): string[] {
  const dirs = (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  const conf = (file: string, depth = 0): void => {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) continue;
      const inc = /^include\s+(.+)$/.exec(line);
      if (inc && depth < 3) {
        const pattern = inc[1];
        const dir = path.dirname(pattern);
        const ext = path.basename(pattern).replace(/^\*/, '');
        try {
          for (const f of readdirSync(dir).sort()) if (f.endsWith(ext)) conf(path.join(dir, f), depth + 1);
        } catch {
          // no such folder
        }
      } else if (!inc) dirs.push(line);
    }
  };
  conf('/etc/ld.so.conf');
  return [...new Set([...dirs, ...LIB_DIRS])];
}

/** Vulkan driver manifests the loader would read (VK_DRIVER_FILES/VK_ICD_FILENAMES, else the icd.d folders). */
function vulkanDrivers(env: NodeJS.ProcessEnv): string[] {
  const explicit = env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES;
  const list = (s: string | undefined) => (s ?? '').split(':').filter(Boolean);
  if (explicit) return [...list(explicit), ...list(env.VK_ADD_DRIVER_FILES)].filter((f) => existsSync(f));
  const home = env.HOME ?? '';
  const config = [env.XDG_CONFIG_HOME || path.join(home, '.config'), ...list(env.XDG_CONFIG_DIRS || '/etc/xdg'), '/etc'];
  const data = [env.XDG_DATA_HOME || path.join(home, '.local/share'), ...list(env.XDG_DATA_DIRS || '/usr/local/share:/usr/share')];
  const out: string[] = list(env.VK_ADD_DRIVER_FILES).filter((f) => existsSync(f));
  for (const d of [...config, ...data].map((x) => path.join(x, 'vulkan', 'icd.d'))) {
    try {
      for (const f of readdirSync(d)) if (f.endsWith('.json')) out.push(path.join(d, f));
    } catch {
      // no such folder
    }
  }
  return out;
}

/** Why WebGPU cannot have an adapter on this Linux machine, judged from files alone; undefined: it might. */
export function webgpuMissing(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!libraryDirs(env).some((d) => existsSync(path.join(d, 'libvulkan.so.1')))) return 'no Vulkan loader (libvulkan.so.1) on this machine';
  if (vulkanDrivers(env).length === 0) return 'no Vulkan driver installed (no ICD manifest in the vulkan/icd.d folders)';
  return undefined;
}

/** A model of one Identity node, for the probe. */
function probeModel(): Uint8Array {
  const g = new Graph('probe');
  const x = g.input('x', 'float32', [1]);
  return serialize(g, { outputs: { y: ops.identity(x) } }).model;
}

const PROBE = `
const ort = require(process.argv[1]);
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c)).on('end', async () => {
  let answer;
  try {
    await ort.InferenceSession.create(Buffer.concat(chunks), { executionProviders: ['webgpu'], logSeverityLevel: 4 });
    answer = { ok: true };
  } catch (e) {
    answer = { ok: false, error: String((e && e.message) || e) };
  }
  process.stdout.write(JSON.stringify(answer), () => process.exit(0));
});`;

/** Creates a webgpu session in a child process; resolves with why it failed, or undefined. */
function probeWebgpu(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', PROBE, ortPath], { env: { ...env, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', (e) => resolve(`could not start the WebGPU probe: ${e.message}`));
    child.on('close', () => {
      clearTimeout(timer);
      try {
        const a = JSON.parse(out) as { ok: boolean; error?: string };
        if (a.ok) return resolve(undefined);
        // Dawn's own first warning says more than onnxruntime's summary.
        const dawn = /Warning: (.+)/.exec(err)?.[1];
        resolve(dawn ? `${shortError(a.error)} (${dawn.trim()})` : shortError(a.error));
      } catch {
        resolve(`the WebGPU probe ended without an answer${err ? `: ${err.trim().split('\n')[0]}` : ''}`);
      }
    });
    child.stdin.end(probeModel());
  });
}

const prechecks = new Map<ProviderName, Promise<string | undefined>>();

/**
 * Why `provider` cannot run here, found without letting its native code print anything in this
 * process; undefined when it is worth trying. Asked once per process.
 */
export function providerPrecheck(provider: ProviderName, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (provider !== 'webgpu' || process.platform !== 'linux') return Promise.resolve(undefined);
  let p = prechecks.get(provider);
  if (!p) {
    const missing = webgpuMissing(env);
    p = missing ? Promise.resolve(missing) : probeWebgpu(env);
    prechecks.set(provider, p);
  }
  return p;
}
