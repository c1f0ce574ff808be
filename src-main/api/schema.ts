// A tiny runtime schema helper for the API contract: each schema checks an unknown value and
// returns it typed, or throws an ApiError that names the offending field ("sequences[2].id: must
// be a string"). Pure TypeScript, no Node imports: the renderer may use it too.
import { ApiError } from './errors.js';

export interface Schema<T> {
  /** Checks `value` (found at `path`, e.g. "request.emit[1]") and returns it typed. */
  parse(value: unknown, path: string): T;
  /** Human description used in error messages ("a string", "one of cpu, cuda"). */
  readonly describe: string;
  /** true for schemas made by optional(): the object may omit the key. */
  readonly optional?: boolean;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

function fail(path: string, message: string): never {
  throw new ApiError('bad_request', `${path}: ${message}`, path);
}

function got(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : `'${v}'`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v === 'object' ? 'an object' : typeof v;
}

export function string(o: { minLength?: number; maxLength?: number; pattern?: RegExp; patternHint?: string } = {}): Schema<string> {
  return {
    describe: 'a string',
    parse(v, path) {
      if (typeof v !== 'string') fail(path, `must be a string, got ${got(v)}`);
      if (o.minLength !== undefined && v.length < o.minLength) fail(path, o.minLength === 1 ? 'must not be empty' : `must have at least ${o.minLength} characters`);
      if (o.maxLength !== undefined && v.length > o.maxLength) fail(path, `must have at most ${o.maxLength} characters`);
      if (o.pattern && !o.pattern.test(v)) fail(path, o.patternHint ?? `must match ${o.pattern}`);
      return v;
    },
  };
}

export function number(o: { min?: number; max?: number; integer?: boolean } = {}): Schema<number> {
  const what = o.integer ? 'a whole number' : 'a number';
  return {
    describe: what,
    parse(v, path) {
      if (typeof v !== 'number' || !Number.isFinite(v)) fail(path, `must be ${what}, got ${got(v)}`);
      if (o.integer && !Number.isInteger(v)) fail(path, `must be ${what}, got ${v}`);
      if (o.min !== undefined && v < o.min) fail(path, `must be at least ${o.min}, got ${v}`);
      if (o.max !== undefined && v > o.max) fail(path, `must be at most ${o.max}, got ${v}`);
      return v;
    },
  };
}

export const integer = (o: { min?: number; max?: number } = {}) => number({ ...o, integer: true });

export function boolean(): Schema<boolean> {
  return {
    describe: 'true or false',
    parse(v, path) {
      if (typeof v !== 'boolean') fail(path, `must be true or false, got ${got(v)}`);
      return v;
    },
  };
}

export function oneOf<const T extends string>(values: readonly T[]): Schema<T> {
  return {
    describe: `one of ${values.join(', ')}`,
    parse(v, path) {
      if (typeof v !== 'string' || !values.includes(v as T)) fail(path, `must be one of ${values.join(', ')}, got ${got(v)}`);
      return v as T;
    },
  };
}

export function array<T>(item: Schema<T>, o: { minItems?: number; maxItems?: number; unique?: boolean } = {}): Schema<T[]> {
  return {
    describe: `a list of ${item.describe}`,
    parse(v, path) {
      if (!Array.isArray(v)) fail(path, `must be a list, got ${got(v)}`);
      if (o.minItems !== undefined && v.length < o.minItems) fail(path, o.minItems === 1 ? 'must not be empty' : `must have at least ${o.minItems} items`);
      if (o.maxItems !== undefined && v.length > o.maxItems) fail(path, `must have at most ${o.maxItems} items`);
      const out = v.map((x, i) => item.parse(x, `${path}[${i}]`));
      if (o.unique) {
        const seen = new Set<unknown>();
        out.forEach((x, i) => {
          if (seen.has(x)) fail(`${path}[${i}]`, `repeats ${got(x)}`);
          seen.add(x);
        });
      }
      return out;
    },
  };
}

export function optional<T>(s: Schema<T>): Schema<T | undefined> {
  return {
    describe: s.describe,
    optional: true,
    parse: (v, path) => (v === undefined ? undefined : s.parse(v, path)),
  };
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: undefined extends Infer<S[K]> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
export type ObjectOf<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> };

/**
 * A plain object with exactly these keys (unknown keys are refused: a misspelt option must not
 * be ignored silently). `check` runs after the fields, for rules across fields.
 */
export function object<S extends Shape>(shape: S, check?: (v: ObjectOf<S>, path: string) => void): Schema<ObjectOf<S>> {
  return {
    describe: 'an object',
    parse(v, path) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, `must be an object, got ${got(v)}`);
      const src = v as Record<string, unknown>;
      for (const k of Object.keys(src)) {
        if (!Object.prototype.hasOwnProperty.call(shape, k)) {
          fail(path === 'request' ? k : `${path}.${k}`, `unknown field (expected ${Object.keys(shape).join(', ') || 'no fields'})`);
        }
      }
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(shape)) {
        const p = path === 'request' ? k : `${path}.${k}`;
        if (src[k] === undefined) {
          if (!s.optional) fail(p, `is required (${s.describe})`);
          continue;
        }
        out[k] = s.parse(src[k], p);
      }
      const typed = out as ObjectOf<S>;
      check?.(typed, path);
      return typed;
    },
  };
}

/** Throw a bad_request error naming `field` (for cross-field rules inside object checks). */
export function invalid(field: string, message: string): never {
  fail(field, message);
}
