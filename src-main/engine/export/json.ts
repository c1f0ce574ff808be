// JSON output: pretty-printed, a trailing newline, non-finite numbers refused (JSON has none),
// written atomically (temporary name, then rename).
import { writeFileAtomic } from '../atomic.js';

/** Refuses non-finite numbers (JSON has none) and writes typed arrays as arrays. */
export function jsonReplacer(key: string, v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`JSON: ${key || 'value'} is ${v}, which JSON cannot hold`);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
  return v;
}

export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, jsonReplacer, 2)}\n`;
}

export function writeJson(file: string, value: unknown): void {
  writeFileAtomic(file, formatJson(value));
}
