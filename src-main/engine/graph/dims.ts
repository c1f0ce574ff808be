// Symbolic dimensions. A dim is a number or a polynomial over named symbols (batch "B",
// length "T", ...) kept in a canonical string form, so that "T+4" minus 4 is "T" again and
// shapes built by different paths compare equal as strings.

export type Dim = number | string;
export type Shape = readonly Dim[];

/** Polynomial: monomial key ('' for the constant, else sorted symbols joined by '*') -> coefficient. */
type Poly = Map<string, number>;

const SYMBOL = /^[A-Za-z_][A-Za-z0-9_]*$/;

function parse(d: Dim): Poly {
  const p: Poly = new Map();
  if (typeof d === 'number') {
    if (d !== 0) p.set('', d);
    return p;
  }
  // Canonical strings are sums of terms 'c*s1*s2' with '+'/'-' separators, no spaces.
  const terms = d.replace(/\s+/g, '').replace(/-/g, '+-').split('+').filter((t) => t.length > 0);
  for (const term of terms) {
    let coeff = 1;
    let body = term;
    if (body.startsWith('-')) {
      coeff = -1;
      body = body.slice(1);
    }
    const syms: string[] = [];
    for (const f of body.split('*')) {
      if (/^\d+$/.test(f)) coeff *= Number(f);
      else if (SYMBOL.test(f)) syms.push(f);
      else throw new Error(`invalid dimension expression '${d}'`);
    }
    const key = syms.sort().join('*');
    p.set(key, (p.get(key) ?? 0) + coeff);
  }
  for (const [k, v] of p) if (v === 0) p.delete(k);
  return p;
}

function format(p: Poly): Dim {
  const keys = [...p.keys()].filter((k) => p.get(k) !== 0);
  if (keys.length === 0) return 0;
  if (keys.length === 1 && keys[0] === '') return p.get('')!;
  // Symbols first (sorted), constant last: "B*T+4".
  keys.sort((a, b) => (a === '' ? 1 : b === '' ? -1 : a < b ? -1 : a > b ? 1 : 0));
  let s = '';
  for (const k of keys) {
    const c = p.get(k)!;
    const mag = Math.abs(c);
    const body = k === '' ? String(mag) : mag === 1 ? k : `${mag}*${k}`;
    s += c < 0 ? `-${body}` : s.length ? `+${body}` : body;
  }
  return s;
}

export function dim(d: Dim): Dim {
  return format(parse(d));
}

export function addDims(a: Dim, b: Dim): Dim {
  const p = parse(a);
  for (const [k, v] of parse(b)) p.set(k, (p.get(k) ?? 0) + v);
  return format(p);
}

export function subDims(a: Dim, b: Dim): Dim {
  const p = parse(a);
  for (const [k, v] of parse(b)) p.set(k, (p.get(k) ?? 0) - v);
  return format(p);
}

export function mulDims(a: Dim, b: Dim): Dim {
  const pa = parse(a);
  const pb = parse(b);
  const out: Poly = new Map();
  for (const [ka, va] of pa)
    for (const [kb, vb] of pb) {
      const key = [...(ka ? ka.split('*') : []), ...(kb ? kb.split('*') : [])].sort().join('*');
      out.set(key, (out.get(key) ?? 0) + va * vb);
    }
  return format(out);
}

export function dimEq(a: Dim, b: Dim): boolean {
  return dim(a) === dim(b);
}

export function isStatic(shape: Shape): shape is readonly number[] {
  return shape.every((d) => typeof d === 'number');
}

export function numel(shape: Shape): Dim {
  return shape.reduce<Dim>((acc, d) => mulDims(acc, d), 1);
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** The value of a dim given values for its symbols. */
export function evalDim(d: Dim, env: Readonly<Record<string, number>>): number {
  let v = 0;
  for (const { coeff, symbols } of polyTerms(d)) {
    let term = coeff;
    for (const s of symbols) {
      if (env[s] === undefined) throw new Error(`dimension '${d}': no value for symbol '${s}'`);
      term *= env[s];
    }
    v += term;
  }
  return v;
}

/** The symbols a dim depends on (for lowering to runtime shape arithmetic). */
export function polyTerms(d: Dim): { coeff: number; symbols: string[] }[] {
  return [...parse(d)].map(([k, coeff]) => ({ coeff, symbols: k ? k.split('*') : [] }));
}

/**
 * Numpy broadcasting of two shapes. Unequal symbolic dims are refused: the builder cannot
 * prove they agree at run time, and a silent runtime broadcast error is worse than a build error.
 */
export function broadcastShapes(a: Shape, b: Shape): Dim[] | string {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (dimEq(da, db)) out.push(da);
    else if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else return `dimension ${i} differs (${da} vs ${db})`;
  }
  return out;
}
