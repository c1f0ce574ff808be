// `plmw bench`: throughput, load time and peak RSS of inference and training on a model, each
// case in a fresh process. With a peer (fair-esm in PyTorch, bench-peer.py) the two sides run
// interleaved, A B A B, for several rounds, and every figure is a median with its min-max and
// the load average seen while it ran; ratios are computed only between figures of the same run.
// No reference numbers are stored anywhere: without the peer, no ratio is printed.
//
// The peer runs in its strong settings: torch.inference_mode() for inference, the same thread
// count, OPENBLAS_CORETYPE set to the kernel OpenBLAS itself detects for this CPU (environments
// often pin a conservative one), passive OpenMP waiting, and for top-k training the frozen lower
// blocks' outputs computed once, as the workbench does.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchCase, CaseRequest, CaseResult } from './bench-case.js';
import { readEsm2Config } from './esm2/config.js';
import type { ProviderName } from './runtime/index.js';

export type { BenchCase, CaseResult } from './bench-case.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export type Side = 'plmw' | 'fair-esm';

export interface Sample extends CaseResult {
  side: Side;
  round: number;
  /** index into the cases measured */
  caseIndex: number;
  /** 1-minute load average before and after the sample */
  load: [number, number];
}

export interface Summary {
  median: number;
  min: number;
  max: number;
}

export interface CaseSummary {
  case: BenchCase;
  label: string;
  unit: 'residues/s' | 'sequences/s';
  sides: Partial<Record<Side, { rate: Summary; peakRss: Summary; loadSeconds: Summary; firstSeconds: Summary; samples: number; estimateBytes?: number }>>;
  /** plmw / fair-esm, medians of the same run */
  speedRatio?: number;
  rssRatio?: number;
  loadRatio?: number;
}

export interface BenchReport {
  model: string;
  threads: number;
  rounds: number;
  repeats: number;
  peer: PeerInfo;
  samples: Sample[];
  cases: CaseSummary[];
  loadAverage: Summary;
}

export interface PeerInfo {
  available: boolean;
  /** why not, when unavailable */
  reason?: string;
  python?: string;
  fairEsm?: string;
  /** OPENBLAS_CORETYPE given to the peer (the kernel OpenBLAS detects for this CPU) */
  openblasCore?: string | null;
  /** what the environment had set before */
  openblasCoreBefore?: string | null;
}

export interface BenchOptions {
  model: string;
  cases: BenchCase[];
  rounds?: number;
  /** timed runs per process after the first */
  repeats?: number;
  threads?: number;
  providers?: ProviderName[];
  /** compare with fair-esm */
  peer?: boolean;
  log?: (line: string) => void;
}

export function caseLabel(c: BenchCase): string {
  if (c.kind === 'inference') return `inference ${c.batch} x ${c.length}`;
  return `LoRA step ${c.batch} x ${c.length}, ${c.topK ? `top ${c.topK} blocks, frozen outputs reused` : 'all blocks'}`;
}

/** The default cases for a model: 64 x 70 inference only for small models, top-2 with reuse. */
export function defaultCases(modelDir: string): BenchCase[] {
  const c = readEsm2Config(modelDir);
  const small = c.hiddenSize <= 320;
  return [
    ...(small ? [{ kind: 'inference', batch: 64, length: 70 } as const] : []),
    { kind: 'inference', batch: 8, length: 256 },
    { kind: 'inference', batch: 1, length: 1000 },
    { kind: 'training', batch: 16, length: 70 },
    { kind: 'training', batch: 16, length: 70, topK: 2 },
  ];
}

/** Cases from `infer:BxL` and `train:BxL[:topK]` items, comma-separated. */
export function parseCases(spec: string): BenchCase[] {
  return spec.split(',').map((item) => {
    const m = /^(infer|train):(\d+)x(\d+)(?::top(\d+))?$/.exec(item.trim());
    if (!m || (m[1] === 'infer' && m[4])) throw new Error(`bench case '${item}': expected infer:BxL or train:BxL[:topK], e.g. infer:8x256, train:16x70:top2`);
    const [batch, length] = [Number(m[2]), Number(m[3])];
    if (batch < 1 || length < 1) throw new Error(`bench case '${item}': batch and length must be at least 1`);
    return m[1] === 'infer' ? { kind: 'inference', batch, length } : { kind: 'training', batch, length, ...(m[4] ? { topK: Number(m[4]) } : {}) };
  });
}

function summary(xs: number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] };
}

function runJson(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<CaseResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0) {
        try {
          return resolve(JSON.parse(line) as CaseResult);
        } catch {
          /* fall through */
        }
      }
      reject(new Error(`${path.basename(cmd)} exited with ${code}: ${(err.trim() || out.trim()).split('\n').slice(-6).join('\n')}`));
    });
  });
}

function runOurs(req: CaseRequest): Promise<CaseResult> {
  const tsx = pathToFileURL(require.resolve('tsx/esm')).href;
  return runJson(process.execPath, ['--import', tsx, path.join(here, 'bench-case.ts'), JSON.stringify(req)], process.env);
}

/** Finds python3 with torch and fair-esm, and the OpenBLAS kernel for this CPU. */
export function findPeer(env: NodeJS.ProcessEnv = process.env): PeerInfo {
  const fairEsm = env.FAIR_ESM;
  const candidates = [env.PLMW_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  const probe = [
    'import sys, os',
    "p = os.environ.get('FAIR_ESM')",
    'sys.path.insert(0, p) if p else None',
    'import torch, esm',
    'arch = None',
    'try:',
    '    import threadpoolctl',
    "    arch = next((i.get('architecture') for i in threadpoolctl.threadpool_info() if i.get('internal_api') == 'openblas'), None)",
    'except ImportError: pass',
    'print(arch or "")',
  ].join('\n');
  const reasons: string[] = [];
  for (const python of candidates) {
    // OPENBLAS_CORETYPE removed: OpenBLAS then reports the kernel it detects for this CPU
    const { OPENBLAS_CORETYPE: before, ...rest } = env;
    const r = spawnSync(python, ['-c', probe], { env: rest, encoding: 'utf8', timeout: 120_000 });
    if (r.status === 0) {
      const core = r.stdout.trim() || null;
      return { available: true, python, fairEsm: fairEsm ?? '(installed esm package)', openblasCore: core, openblasCoreBefore: before ?? null };
    }
    reasons.push(`${python}: ${(r.stderr || String(r.error ?? '')).trim().split('\n').pop()}`);
  }
  return { available: false, reason: `no python3 with torch and fair-esm (set FAIR_ESM to a fair-esm checkout; tried ${reasons.join('; ')})` };
}

function runPeer(peer: PeerInfo, req: CaseRequest): Promise<CaseResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' };
  if (peer.openblasCore) env.OPENBLAS_CORETYPE = peer.openblasCore;
  const args = { model: req.model, case: req.case, repeats: req.repeats, threads: req.threads, seed: req.seed };
  return runJson(peer.python!, [path.join(here, 'bench-peer.py'), JSON.stringify(args)], env);
}

export async function runBench(o: BenchOptions): Promise<BenchReport> {
  const rounds = o.rounds ?? 3;
  const repeats = o.repeats ?? 2;
  const threads = o.threads ?? 2;
  const log = o.log ?? (() => undefined);
  const model = path.resolve(o.model);
  if (!existsSync(path.join(model, 'config.json'))) throw new Error(`${model}: not a model folder (no config.json)`);
  const peer: PeerInfo = o.peer ? findPeer() : { available: false, reason: 'not requested (--peer)' };
  if (o.peer && !peer.available) log(`cannot compare with fair-esm: ${peer.reason}`);
  if (peer.available) log(`peer: fair-esm from ${peer.fairEsm} (${peer.python}), OPENBLAS_CORETYPE=${peer.openblasCore ?? '(not detected)'} (was ${peer.openblasCoreBefore ?? 'unset'}), OMP_WAIT_POLICY=PASSIVE`);
  const samples: Sample[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const [caseIndex, c] of o.cases.entries()) {
      const req: CaseRequest = { model, case: c, repeats, threads, providers: o.providers, seed: round };
      for (const side of peer.available ? (['plmw', 'fair-esm'] as const) : (['plmw'] as const)) {
        const before = os.loadavg()[0];
        const res = side === 'plmw' ? await runOurs(req) : await runPeer(peer, req);
        const s: Sample = { ...res, side, round, caseIndex, load: [before, os.loadavg()[0]] };
        samples.push(s);
        const per = c.kind === 'inference' ? c.length : 1;
        const rate = summary(res.seconds.map((t) => (res.items * per) / t)).median;
        log(`round ${round} ${caseLabel(c)} ${side}: ${rate.toFixed(c.kind === 'inference' ? 0 : 2)} ${c.kind === 'inference' ? 'residues/s' : 'sequences/s'}, ` +
          `peak RSS ${(res.peakRss / 2 ** 20).toFixed(0)} MiB${res.loadSeconds ? `, load ${res.loadSeconds.toFixed(1)} s + first batch ${res.firstSeconds.toFixed(1)} s` : ''} (load average ${before.toFixed(2)})`);
      }
    }
  }
  const cases = o.cases.map((c, i) => summarise(c, samples.filter((s) => s.caseIndex === i)));
  return { model, threads, rounds, repeats, peer, samples, cases, loadAverage: summary(samples.flatMap((s) => s.load)) };
}

function summarise(c: BenchCase, samples: Sample[]): CaseSummary {
  const per = c.kind === 'inference' ? c.length : 1;
  const out: CaseSummary = { case: c, label: caseLabel(c), unit: c.kind === 'inference' ? 'residues/s' : 'sequences/s', sides: {} };
  for (const side of ['plmw', 'fair-esm'] as const) {
    const mine = samples.filter((s) => s.side === side);
    if (!mine.length) continue;
    // a process's rate is the median of its timed runs; the case's rate is over processes
    const rates = mine.map((s) => summary(s.seconds.map((t) => (s.items * per) / t)).median);
    out.sides[side] = {
      rate: summary(rates), peakRss: summary(mine.map((s) => s.peakRss)), loadSeconds: summary(mine.map((s) => s.loadSeconds)),
      firstSeconds: summary(mine.map((s) => s.firstSeconds)), samples: mine.length,
      ...(mine[0].estimateBytes ? { estimateBytes: mine[0].estimateBytes } : {}),
    };
  }
  const [a, b] = [out.sides.plmw, out.sides['fair-esm']];
  if (a && b) {
    out.speedRatio = a.rate.median / b.rate.median;
    out.rssRatio = a.peakRss.median / b.peakRss.median;
    if (c.kind === 'inference') out.loadRatio = (a.loadSeconds.median + a.firstSeconds.median) / (b.loadSeconds.median + b.firstSeconds.median);
  }
  return out;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const range = (s: Summary, digits: number) => `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`;

/** The report as text: one block per case, then how it was measured. */
export function formatReport(r: BenchReport): string {
  const lines: string[] = [];
  for (const c of r.cases) {
    const digits = c.unit === 'residues/s' ? 0 : 2;
    lines.push(`${c.label}:`);
    for (const side of ['plmw', 'fair-esm'] as const) {
      const s = c.sides[side];
      if (!s) continue;
      const load = c.case.kind === 'inference' ? `, load ${range(s.loadSeconds, 1)} s + first batch ${range(s.firstSeconds, 1)} s` : '';
      const est = s.estimateBytes ? ` (train.estimate: ${mib(s.estimateBytes)}, measured / estimate ${(s.peakRss.median / s.estimateBytes).toFixed(2)})` : '';
      lines.push(`  ${side.padEnd(8)} ${range(s.rate, digits)} ${c.unit}, peak RSS ${mib(s.peakRss.median)} (${mib(s.peakRss.min)}-${mib(s.peakRss.max)})${est}${load}`);
    }
    if (c.speedRatio !== undefined) {
      lines.push(`  plmw / fair-esm: speed ${c.speedRatio.toFixed(2)}x, peak RSS ${c.rssRatio!.toFixed(2)}x${c.loadRatio !== undefined ? `, load + first batch ${c.loadRatio.toFixed(2)}x` : ''}`);
    }
  }
  lines.push(
    `${r.rounds} round(s), each case in a fresh process per side${r.peer.available ? ', sides interleaved (plmw, fair-esm, plmw, ...)' : ''}; ` +
      `${r.repeats} timed run(s) per process after a first one; medians (min-max over rounds); ${r.threads} thread(s); ` +
      `load average ${r.loadAverage.median.toFixed(2)} (${r.loadAverage.min.toFixed(2)}-${r.loadAverage.max.toFixed(2)}).`,
  );
  if (r.peer.available) {
    lines.push(`fair-esm: PyTorch, inference_mode, OPENBLAS_CORETYPE=${r.peer.openblasCore ?? '(not detected)'}, OMP_WAIT_POLICY=PASSIVE, weights from the same checkpoint.`);
  } else {
    lines.push(`No comparison: ${r.peer.reason}.`);
  }
  return lines.join('\n');
}
