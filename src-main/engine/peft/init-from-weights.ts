// Initial values computed from the frozen backbone.
import type { WeightSource } from '../esm2/forward.js';

/** L2 norm of each row of a [out, in] weight. */
export function readTensorRowNorms(w: WeightSource, name: string): Float32Array {
  const [out, inp] = w.get(name).shape;
  const data = w.read(name);
  return Float32Array.from({ length: out }, (_, o) => {
    let s = 0;
    for (let i = 0; i < inp; i++) s += data[o * inp + i] ** 2;
    return Math.sqrt(s);
  });
}
