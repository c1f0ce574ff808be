// Seeded random streams. Every random choice of a run (initial values, epoch order, dropout
// masks) comes from a stream derived from (seed, purpose, indices), so a resumed run draws the
// same numbers as an uninterrupted one without saving generator state.

/** 32-bit FNV-1a over the key parts, mixed with the seed. */
function derive(seed: number, parts: readonly (string | number)[]): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (const p of parts) {
    const s = `${p}\u0000`;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h >>> 0;
}

/**
 * An inverted-dropout mask of n elements: 0 with probability p, else 1 / (1 - p) (see
 * ops.dropout), drawn from the stream for these key parts. The generator is inlined: masks are
 * millions of draws per step.
 */
export function bernoulliMask(n: number, p: number, seed: number, ...parts: (string | number)[]): Float32Array {
  const out = new Float32Array(n);
  const threshold = Math.floor(p * 4294967296);
  const keep = 1 / (1 - p);
  let s = derive(seed, parts);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) | 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (t ^ (t >>> 14)) >>> 0 < threshold ? 0 : keep;
  }
  return out;
}

/** mulberry32: small, fast, good enough for shuffles, masks and initialisation. */
export function stream(seed: number, ...parts: (string | number)[]): () => number {
  let s = derive(seed, parts);
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box-Muller). */
export function normal(random: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    const u = Math.max(random(), 1e-12);
    const r = Math.sqrt(-2 * Math.log(u));
    const a = 2 * Math.PI * random();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
}

export function shuffled(n: number, random: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
