// Seeded mutations of real input files. Input k of a format is a pure function of (seed, format,
// k): mutateInput draws from the engine's own seeded stream keyed by those three, so any input
// a run reports can be made again from its numbers alone.
//
// Operators (1 to 3 per input): bit flips, byte overwrites with structurally meaningful bytes,
// truncation, insertion and deletion of ranges, duplicated ranges and lines, huge or odd numbers
// in place of a number, NUL bytes, invalid UTF-8, a byte-order mark (UTF-8 or UTF-16), line
// endings turned into CR-only / CRLF / LF, a very long line, Unicode line separators, swapped
// lines; for JSON files (config.json, adapter_config.json, a safetensors header) a value
// replaced by one of another type or size, so that most inputs get past the JSON syntax check.
import { stream } from '../../src-main/engine/train/rng.js';

export type Random = () => number;

export interface Mutated {
  bytes: Uint8Array;
  /** which seed file it was made from */
  seed: number;
  /** the operators applied, in order (for the report of a failing input) */
  ops: string[];
}

export interface MutateOptions {
  /** the file holds JSON (config.json, adapter_config.json) */
  json?: boolean;
  /** a safetensors file: most mutations go to its length field and JSON header */
  safetensors?: boolean;
}

const enc = new TextEncoder();
const int = (r: Random, n: number) => Math.floor(r() * n);
const pick = <T>(r: Random, xs: readonly T[]): T => xs[int(r, xs.length)];

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** One character per byte, both ways (Buffer's latin1; TextDecoder's 'latin1' is windows-1252). */
const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
const bytesOf = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

const insertAt = (b: Uint8Array, at: number, x: Uint8Array) => concat(b.subarray(0, at), x, b.subarray(at));

const MEANINGFUL = [...'\n\r>|,";_ {}[]:-.*0123456789#\t'].map((c) => c.charCodeAt(0)).concat([0x00, 0x7f, 0x80, 0xff, 0xc3, 0xe2]);
const NUMBERS = ['99999999999999999999', '-1', '1e308', '-0', '4294967296', '9007199254740993', 'NaN', 'Infinity', '1e-400', '300000', '0', '1.5', '0x10', '-2147483649'];
const INVALID_UTF8 = [[0xff], [0xc0, 0xaf], [0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xfe, 0xfe]];
const SEPARATORS = [[0xe2, 0x80, 0xa8], [0xe2, 0x80, 0xa9], [0xc2, 0x85]];
const BOMS = [[0xef, 0xbb, 0xbf], [0xff, 0xfe], [0xfe, 0xff]];
const JSON_VALUES: unknown[] = [null, [], {}, '', 'constructor', '__proto__', 'toString', -1, 0, 1e9, 300_000, 1e308, 2 ** 53 + 2, 0.5, true, 'LORA', 'F32', [0, 0], [1e12, 1e12], [-1], 'x'.repeat(5000), ['query', 1]];

type Op = (b: Uint8Array, r: Random) => [Uint8Array, string];

const OPS: Record<string, Op> = {
  bitflip: (b, r) => {
    const out = b.slice();
    const n = 1 + int(r, 8);
    for (let k = 0; k < n && out.length; k++) out[int(r, out.length)] ^= 1 << int(r, 8);
    return [out, `bitflip x${n}`];
  },
  overwrite: (b, r) => {
    const out = b.slice();
    const n = 1 + int(r, 4);
    for (let k = 0; k < n && out.length; k++) out[int(r, out.length)] = pick(r, MEANINGFUL);
    return [out, `overwrite x${n}`];
  },
  truncate: (b, r) => {
    const at = int(r, b.length + 1);
    return [b.slice(0, at), `truncate at ${at}`];
  },
  insert: (b, r) => {
    const x = Uint8Array.from({ length: 1 + int(r, 64) }, () => (r() < 0.5 ? pick(r, MEANINGFUL) : int(r, 256)));
    const at = int(r, b.length + 1);
    return [insertAt(b, at, x), `insert ${x.length} at ${at}`];
  },
  delete: (b, r) => {
    const at = int(r, b.length + 1);
    const n = 1 + int(r, Math.max(1, Math.min(4096, b.length - at)));
    return [concat(b.subarray(0, at), b.subarray(at + n)), `delete ${n} at ${at}`];
  },
  duplicate: (b, r) => {
    const from = int(r, b.length + 1);
    const n = int(r, Math.min(2048, b.length - from) + 1);
    const at = int(r, b.length + 1);
    return [insertAt(b, at, b.slice(from, from + n)), `duplicate ${n} from ${from} at ${at}`];
  },
  number: (b, r) => {
    const s = latin1(b);
    const runs = [...s.matchAll(/-?\d+(\.\d+)?(e-?\d+)?/g)];
    if (runs.length === 0) return [b, 'number (none)'];
    const m = pick(r, runs);
    const v = pick(r, NUMBERS);
    return [concat(b.subarray(0, m.index), enc.encode(v), b.subarray(m.index! + m[0].length)), `number ${m[0].slice(0, 20)} -> ${v} at ${m.index}`];
  },
  nul: (b, r) => {
    const at = int(r, b.length + 1);
    return [insertAt(b, at, new Uint8Array(1 + int(r, 3))), `NUL at ${at}`];
  },
  invalidUtf8: (b, r) => {
    const x = Uint8Array.from(pick(r, INVALID_UTF8));
    const at = int(r, b.length + 1);
    return [insertAt(b, at, x), `invalid UTF-8 ${[...x].map((v) => v.toString(16)).join(' ')} at ${at}`];
  },
  bom: (b, r) => {
    const x = Uint8Array.from(pick(r, BOMS));
    return [concat(x, b), `BOM ${[...x].map((v) => v.toString(16)).join(' ')}`];
  },
  lineEndings: (b, r) => {
    const s = latin1(b);
    const k = int(r, 3);
    const t = k === 0 ? s.replace(/\r?\n/g, '\r') : k === 1 ? s.replace(/\r?\n/g, '\r\n') : s.replace(/\r\n?/g, '\n');
    return [bytesOf(t), ['CR only', 'CRLF', 'LF'][k]];
  },
  longLine: (b, r) => {
    const n = (1 + int(r, 3)) << 20;
    const x = new Uint8Array(n).fill(pick(r, [0x41, 0x4d, 0x31, 0x20, 0x4c, 0x2c, 0x22]));
    const at = int(r, b.length + 1);
    return [insertAt(b, at, x), `long line ${n} at ${at}`];
  },
  separator: (b, r) => {
    const x = Uint8Array.from(pick(r, SEPARATORS));
    const at = int(r, b.length + 1);
    return [insertAt(b, at, x), `line separator at ${at}`];
  },
  swapLines: (b, r) => {
    const s = latin1(b);
    const lines = s.split('\n');
    if (lines.length < 2) return [b, 'swap lines (one line)'];
    const [i, j] = [int(r, lines.length), int(r, lines.length)];
    [lines[i], lines[j]] = [lines[j], lines[i]];
    return [bytesOf(lines.join('\n')), `swap lines ${i + 1} ${j + 1}`];
  },
};

/** Operators and how often each is drawn (a long line costs time: rarely). */
const WEIGHTS: [string, number][] = [
  ['bitflip', 10], ['overwrite', 10], ['truncate', 6], ['insert', 6], ['delete', 6], ['duplicate', 6], ['number', 8], ['nul', 4],
  ['invalidUtf8', 5], ['bom', 3], ['lineEndings', 5], ['longLine', 1], ['separator', 4], ['swapLines', 5],
];
const TOTAL = WEIGHTS.reduce((a, [, w]) => a + w, 0);

function drawOp(r: Random): string {
  let x = r() * TOTAL;
  for (const [name, w] of WEIGHTS) if ((x -= w) < 0) return name;
  return WEIGHTS[0][0];
}

/** Replace one value somewhere inside parsed JSON by a value of another type or size. */
function mutateJsonValue(v: unknown, r: Random, path: string[] = []): [unknown, string] {
  const isObj = typeof v === 'object' && v !== null;
  const keys = isObj ? Object.keys(v as object) : [];
  if (!isObj || keys.length === 0 || (path.length > 0 && r() < 0.3)) {
    const nv = pick(r, JSON_VALUES);
    return [nv, `${path.join('.') || '(root)'} = ${JSON.stringify(nv)?.slice(0, 30)}`];
  }
  const k = pick(r, keys);
  const copy: Record<string, unknown> | unknown[] = Array.isArray(v) ? [...v] : { ...(v as Record<string, unknown>) };
  if (r() < 0.1 && !Array.isArray(copy)) {
    delete (copy as Record<string, unknown>)[k];
    return [copy, `delete ${[...path, k].join('.')}`];
  }
  const [nv, what] = mutateJsonValue((copy as Record<string, unknown>)[k], r, [...path, k]);
  (copy as Record<string, unknown>)[k] = nv;
  return [copy, what];
}

function jsonOp(b: Uint8Array, r: Random): [Uint8Array, string] {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(b));
  } catch {
    return OPS.overwrite(b, r);
  }
  const [nv, what] = mutateJsonValue(v, r);
  return [enc.encode(JSON.stringify(nv)), `json ${what}`];
}

/** Mutate a safetensors file's header: its JSON (re-encoded with a right or wrong length) or the length itself. */
function safetensorsOp(b: Uint8Array, r: Random): [Uint8Array, string] {
  if (b.length < 8) return OPS.bitflip(b, r);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n > b.length - 8 || r() < 0.15) {
    const out = b.slice();
    const v = pick(r, [0n, 1n, 2n, BigInt(n + 1), BigInt(Math.max(0, n - 1)), BigInt(b.length), 1n << 40n, (1n << 64n) - 1n]);
    new DataView(out.buffer).setBigUint64(0, v, true);
    return [out, `header length -> ${v}`];
  }
  const header = b.subarray(8, 8 + n);
  const data = b.subarray(8 + n);
  const [nh, what] = r() < 0.8 ? jsonOp(header, r) : pick(r, [OPS.bitflip, OPS.overwrite, OPS.invalidUtf8, OPS.number])(header, r);
  const len = new Uint8Array(8);
  const lie = r() < 0.1 ? int(r, 17) - 8 : 0;
  new DataView(len.buffer).setBigUint64(0, BigInt(Math.max(0, nh.length + lie)), true);
  return [concat(len, nh, data), `header ${what}${lie ? ` (length off by ${lie})` : ''}`];
}

/** Input `index` of a format: 1 to 3 mutations of one of its seed files. */
export function mutateInput(seeds: readonly Uint8Array[], seed: number, format: string, index: number, o: MutateOptions = {}): Mutated {
  const r = stream(seed, 'fuzz', format, index);
  const s = int(r, seeds.length);
  let bytes = seeds[s];
  const ops: string[] = [`seed file ${s}`];
  const n = 1 + int(r, 3);
  for (let k = 0; k < n; k++) {
    let out: [Uint8Array, string];
    if (o.safetensors && r() < 0.75) out = safetensorsOp(bytes, r);
    else if (o.json && r() < 0.6) out = jsonOp(bytes, r);
    else out = OPS[drawOp(r)](bytes, r);
    bytes = out[0];
    ops.push(out[1]);
  }
  return { bytes, seed: s, ops };
}
