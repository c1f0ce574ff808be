// TensorBoard's scalar smoothing: an exponential moving average with debiasing, so the first
// points are not pulled towards 0: s_t = w s_{t-1} + (1 - w) x_t, shown as s_t / (1 - w^t).
export function emaDebiased(values: readonly number[], weight: number): number[] {
  const out: number[] = [];
  let last = 0;
  let n = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) {
      out.push(v);
      continue;
    }
    last = last * weight + (1 - weight) * v;
    n++;
    const debias = weight === 0 ? 1 : 1 - weight ** n;
    out.push(last / debias);
  }
  return out;
}
