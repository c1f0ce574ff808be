// A run directory on disk: run.json (rewritten atomically), metrics.jsonl (appended and
// fsync'd line by line, all or nothing per line; a kill can at worst leave a torn last line,
// which readers ignore and resume removes through the atomic writer), and checkpoints (written
// through the atomic writer and recorded with their sha256 in run.json: see checkpoint.ts).

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { appendFileDurable, writeFileAtomic } from '../atomic.js';
import os from 'node:os';
import { parseMetrics } from '../runs/store.js';
import type { RunRecord } from '../runs/types.js';
import path from 'node:path';

export type { RunRecord, RunStatus } from '../runs/types.js';

export class RunDir {
  constructor(readonly dir: string) {
    mkdirSync(path.join(dir, 'checkpoints'), { recursive: true });
  }
  get runJson(): string {
    return path.join(this.dir, 'run.json');
  }
  get metricsFile(): string {
    return path.join(this.dir, 'metrics.jsonl');
  }

  readRecord(): RunRecord | null {
    return existsSync(this.runJson) ? (JSON.parse(readFileSync(this.runJson, 'utf8')) as RunRecord) : null;
  }
  writeRecord(r: RunRecord): void {
    writeFileAtomic(this.runJson, `${JSON.stringify(r, null, 2)}\n`);
  }

  /** The rows of metrics.jsonl, read as the run store reads them (a torn last line is left out); any other bad line is an error here: the trainer wrote this file. */
  readMetrics(): Record<string, unknown>[] {
    if (!existsSync(this.metricsFile)) return [];
    const { metrics, problems } = parseMetrics(readFileSync(this.metricsFile, 'utf8'));
    if (problems.length) throw new Error(`${this.metricsFile}:${problems[0].line}: ${problems[0].message}`);
    return metrics;
  }
  appendMetrics(row: Record<string, unknown>): void {
    appendFileDurable(this.metricsFile, `${JSON.stringify(row)}\n`);
  }
  /** Keeps the first n complete lines (resume drops what the lost part of a run wrote). */
  truncateMetrics(n: number): void {
    const rows = this.readMetrics().slice(0, n);
    writeFileAtomic(this.metricsFile, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }
}

export function hardware(): Record<string, unknown> {
  const cpus = os.cpus();
  return { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memoryBytes: os.totalmem(), platform: `${os.platform()}-${os.arch()}` };
}
