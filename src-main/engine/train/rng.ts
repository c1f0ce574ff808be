import { createCipheriv, createHash } from 'node:crypto';

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
 * ops.dropout), from the stream for these key parts. Masks are tens of millions of draws per
 * training step, so the randomness is an AES-128-CTR keystream (OpenSSL, hardware AES) keyed by
 * sha256(seed, parts), 16 bits per element: p is honoured to 1 / 65536.
 */
export function bernoulliMask(n: number, p: number, seed: number, ...parts: (string | number)[]): Float32Array {
  const out = new Float32Array(n);
  const key = createHash('sha256').update(`${seed >>> 0}\u0000${parts.join('\u0000')}`).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  const threshold = Math.round(p * 65536);
  const keep = 1 / (1 - p);
  const chunk = 1 << 20; // elements per keystream piece
  const zeros = new Uint8Array(2 * Math.min(n, chunk));
  for (let at = 0; at < n; at += chunk) {
    const m = Math.min(chunk, n - at);
    const ks = cipher.update(zeros.subarray(0, 2 * m));
    const u = ks.byteOffset % 2 ? new Uint16Array(Uint8Array.from(ks).buffer) : new Uint16Array(ks.buffer, ks.byteOffset, m);
    for (let i = 0; i < m; i++) out[at + i] = u[i] < threshold ? 0 : keep;
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
