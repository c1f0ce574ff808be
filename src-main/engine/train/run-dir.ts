// A run directory on disk: run.json (rewritten atomically), metrics.jsonl (appended and
// fsync'd line by line; a kill can at worst leave a torn last line, which readers ignore and
// resume removes), and checkpoints (written to a temporary name, then renamed).

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { writeFileAtomic } from '../atomic.js';
import os from 'node:os';
import path from 'node:path';

export type RunStatus = 'running' | 'completed' | 'interrupted' | 'failed' | 'cancelled';

export interface RunRecord {
  format: 1;
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  status: RunStatus;
  pid: number;
  hostname: string;
  task: string;
  method: { name: string } & Record<string, unknown>;
  head: { name: string } & Record<string, unknown>;
  model: { dir: string; sha256: string; name?: string; config: Record<string, unknown> };
  params: { trainable: number; total: number };
  config: Record<string, unknown>;
  seed: number;
  versions: Record<string, string>;
  provider: string;
  hardware: Record<string, unknown>;
  wallSeconds: number;
  peakRssBytes: number;
  best?: { metric: string; value: number; epoch: number };
  final?: Record<string, number>;
  /** the Hugging Face PEFT export in `adapter/`, or why there is none */
  adapter?: { exported: true; dir: string } | { exported: false; reason: string };
  error?: string;
}

export { writeFileAtomic };

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
  checkpoint(name: string): string {
    return path.join(this.dir, 'checkpoints', name);
  }

  readRecord(): RunRecord | null {
    return existsSync(this.runJson) ? (JSON.parse(readFileSync(this.runJson, 'utf8')) as RunRecord) : null;
  }
  writeRecord(r: RunRecord): void {
    writeFileAtomic(this.runJson, `${JSON.stringify(r, null, 2)}\n`);
  }

  /** Complete lines of metrics.jsonl (a torn last line is left out). */
  readMetrics(): Record<string, unknown>[] {
    if (!existsSync(this.metricsFile)) return [];
    const text = readFileSync(this.metricsFile, 'utf8');
    const lines = text.split('\n');
    if (!text.endsWith('\n')) lines.pop(); // torn by a kill mid-write
    return lines.filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>);
  }
  appendMetrics(row: Record<string, unknown>): void {
    const fd = openSync(this.metricsFile, 'a');
    try {
      writeSync(fd, `${JSON.stringify(row)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
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
