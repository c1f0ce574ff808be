// Heatmaps drawn pixel by pixel on a canvas (one pixel per cell), then shown scaled as an image
// inside an SVG (crisp with image-rendering: pixelated), so the figure still exports as SVG.
import * as d3 from 'd3';

export function heatmapCanvas(rows: number, cols: number, value: (i: number, j: number) => number, max: number, interpolate: (t: number) => string = d3.interpolateBlues): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = cols;
  c.height = rows;
  const ctx = c.getContext('2d')!;
  const img = ctx.createImageData(cols, rows);
  const lut: [number, number, number][] = Array.from({ length: 256 }, (_, k) => {
    const col = d3.color(interpolate(k / 255))!.rgb();
    return [col.r, col.g, col.b];
  });
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      const v = max > 0 ? Math.max(0, Math.min(1, value(i, j) / max)) : 0;
      const [r, g, b] = lut[Math.round(v * 255)];
      const o = (i * cols + j) * 4;
      img.data[o] = r;
      img.data[o + 1] = g;
      img.data[o + 2] = b;
      img.data[o + 3] = 255;
    }
  ctx.putImageData(img, 0, 0);
  return c;
}

/** One head's attention map of the attention job (bytes, scaled: value = byte / 255 * scale). */
export class HeadMap {
  constructor(
    readonly T: number,
    private readonly bytes: Uint8Array,
    readonly scale: number,
  ) {}
  at(i: number, j: number): number {
    return (this.bytes[i * this.T + j] / 255) * this.scale;
  }
}

/** Every head's thumbnail [L, H, S, S] of the attention job, scaled per head. */
export class HeadThumbnails {
  constructor(
    readonly L: number,
    readonly H: number,
    readonly S: number,
    private readonly bytes: Uint8Array,
    readonly scale: number[],
  ) {}
  at(l: number, h: number, i: number, j: number): number {
    const lh = l * this.H + h;
    return (this.bytes[(lh * this.S + i) * this.S + j] / 255) * this.scale[lh];
  }
}
