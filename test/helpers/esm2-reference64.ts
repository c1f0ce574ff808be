// ESM-2 in float64 plain TypeScript, written from fair-esm's definition, one sequence at a time
// (no padding). An independent reference for models and sequences that have no fixture.

export interface Ref64Weights {
  get(name: string): Float64Array;
}
export interface Ref64Config {
  d: number; layers: number; heads: number; ffn: number; vocab: number; eps: number; maskId: number;
}

const gelu = (x: number) => 0.5 * x * (1 + erf64(x / Math.SQRT2));

/** erf to float64 precision: Maclaurin series below 2.5, continued fraction above. */
export function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = ax, sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const a = term / (2 * n + 1);
      sum += a;
      if (Math.abs(a) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f));
}

/** y[t] = W x[t] + b, W [out, in] */
function linear(x: Float64Array[], W: Float64Array, b: Float64Array | null, out: number): Float64Array[] {
  return x.map((v) => {
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < v.length; i++) s += W[o * v.length + i] * v[i];
      y[o] = s;
    }
    return y;
  });
}
function layerNorm(x: Float64Array[], w: Float64Array, b: Float64Array, eps: number): Float64Array[] {
  return x.map((v) => {
    const mean = v.reduce((a, c) => a + c, 0) / v.length;
    const variance = v.reduce((a, c) => a + (c - mean) ** 2, 0) / v.length;
    return v.map((c, i) => ((c - mean) / Math.sqrt(variance + eps)) * w[i] + b[i]);
  });
}

export function esm2Forward64(c: Ref64Config, W: Ref64Weights, tokens: number[]) {
  const T = tokens.length;
  const hd = c.d / c.heads;
  const E = W.get('embeddings.word_embeddings.weight');
  const nMask = tokens.filter((t) => t === c.maskId).length;
  const scale = (1 - 0.15 * 0.8) / (1 - nMask / T);
  let x: Float64Array[] = tokens.map((t) => (t === c.maskId ? new Float64Array(c.d) : E.slice(t * c.d, (t + 1) * c.d).map((v) => v * scale)));
  const reprs: Float64Array[][] = [x];
  const attn: number[][][][] = [];
  for (let l = 0; l < c.layers; l++) {
    const p = (n: string) => W.get(`encoder.layer.${l}.${n}`);
    const h = layerNorm(x, p('attention.LayerNorm.weight'), p('attention.LayerNorm.bias'), c.eps);
    const q = linear(h, p('attention.self.query.weight'), p('attention.self.query.bias'), c.d).map((v) => v.map((z) => z * hd ** -0.5));
    const k = linear(h, p('attention.self.key.weight'), p('attention.self.key.bias'), c.d);
    const v = linear(h, p('attention.self.value.weight'), p('attention.self.value.bias'), c.d);
    const invFreq = p('attention.self.rotary_embeddings.inv_freq');
    const rot = (vec: Float64Array, t: number) => {
      const o = Float64Array.from(vec);
      for (let hh = 0; hh < c.heads; hh++)
        for (let i = 0; i < hd / 2; i++) {
          // rotary in float32 like the reference implementation's tables
          const ang = Math.fround(Math.fround(t) * Math.fround(invFreq[i]));
          const [cs, sn] = [Math.cos(ang), Math.sin(ang)];
          const a = vec[hh * hd + i], b = vec[hh * hd + i + hd / 2];
          o[hh * hd + i] = a * cs - b * sn;
          o[hh * hd + i + hd / 2] = b * cs + a * sn;
        }
      return o;
    };
    const qr = q.map(rot), kr = k.map(rot);
    const ctx = Array.from({ length: T }, () => new Float64Array(c.d));
    const layerAttn: number[][][] = [];
    for (let hh = 0; hh < c.heads; hh++) {
      const probs: number[][] = [];
      for (let i = 0; i < T; i++) {
        const s = Array.from({ length: T }, (_, j) => {
          let d = 0;
          for (let e = 0; e < hd; e++) d += qr[i][hh * hd + e] * kr[j][hh * hd + e];
          return d;
        });
        const m = Math.max(...s);
        const ex = s.map((z) => Math.exp(z - m));
        const z = ex.reduce((a, b) => a + b, 0);
        probs.push(ex.map((e) => e / z));
        for (let j = 0; j < T; j++) for (let e = 0; e < hd; e++) ctx[i][hh * hd + e] += probs[i][j] * v[j][hh * hd + e];
      }
      layerAttn.push(probs);
    }
    attn.push(layerAttn);
    const a = linear(ctx, p('attention.output.dense.weight'), p('attention.output.dense.bias'), c.d);
    x = x.map((r, t) => r.map((z, i) => z + a[t][i]));
    const f = layerNorm(x, p('LayerNorm.weight'), p('LayerNorm.bias'), c.eps);
    const mid = linear(f, p('intermediate.dense.weight'), p('intermediate.dense.bias'), c.ffn).map((r) => r.map(gelu));
    const y = linear(mid, p('output.dense.weight'), p('output.dense.bias'), c.d);
    x = x.map((r, t) => r.map((z, i) => z + y[t][i]));
    reprs.push(x);
  }
  const final = layerNorm(x, W.get('encoder.emb_layer_norm_after.weight'), W.get('encoder.emb_layer_norm_after.bias'), c.eps);
  reprs[c.layers] = final;
  const dense = linear(final, W.get('lm_head.dense.weight'), W.get('lm_head.dense.bias'), c.d).map((r) => r.map(gelu));
  const normed = layerNorm(dense, W.get('lm_head.layer_norm.weight'), W.get('lm_head.layer_norm.bias'), c.eps);
  const logits = linear(normed, E, W.get('lm_head.bias'), c.vocab);

  // contact head: drop <cls>/<eos>, symmetrize, APC, regression, sigmoid
  const n = T - 2;
  const reg = W.get('contact_head.regression.weight');
  const regB = W.get('contact_head.regression.bias')[0];
  const logit = Array.from({ length: n }, () => new Float64Array(n).fill(regB));
  attn.forEach((la, l) =>
    la.forEach((pr, hh) => {
      const s = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => pr[i + 1][j + 1] + pr[j + 1][i + 1]));
      const row = s.map((r) => r.reduce((a, b) => a + b, 0));
      const total = row.reduce((a, b) => a + b, 0);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) logit[i][j] += reg[l * c.heads + hh] * (s[i][j] - (row[i] * row[j]) / total);
    }),
  );
  const contacts = logit.map((r) => r.map((z) => 1 / (1 + Math.exp(-z))));
  return { logits, reprs, attn, contacts };
}
