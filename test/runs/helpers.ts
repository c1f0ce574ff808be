// Hand-made run directories in the trainer's format (see src-main/engine/runs/types.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunJson } from '../../src-main/engine/runs/types.js';

export function runJson(id: string, over: Partial<RunJson> = {}): RunJson {
  return {
    format: 1,
    id,
    name: `run ${id}`,
    createdAt: '2026-11-01T10:00:00.000Z',
    updatedAt: '2026-11-01T11:00:00.000Z',
    status: 'completed',
    pid: 1,
    hostname: os.hostname(),
    task: 'ss',
    method: { name: 'lora', r: 8, alpha: 16 },
    model: { dir: '/models/esm2_t6_8M_UR50D', sha256: 'ab'.repeat(32), name: 'esm2_t6_8M_UR50D' },
    params: { trainable: 92_160, total: 7_604_634 },
    seed: 1,
    versions: { 'plm-workbench': '0.1.0' },
    provider: 'cpu',
    hardware: { cpus: 2 },
    wallSeconds: 120.5,
    peakRssBytes: 800 * 1024 * 1024,
    best: { metric: 'q3', value: 0.71, epoch: 3 },
    final: { q3: 0.7, loss: 0.61 },
    ...over,
  };
}

export function writeRun(root: string, id: string, over: Partial<RunJson> = {}, metrics?: string): string {
  const dir = path.join(root, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'run.json'), JSON.stringify(runJson(id, over), null, 2));
  if (metrics !== undefined) writeFileSync(path.join(dir, 'metrics.jsonl'), metrics);
  return dir;
}
