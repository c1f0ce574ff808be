// Figures as files: an <svg> serialised with its computed text styles inlined (so the file
// looks like the page without the stylesheet), and PNG made by drawing that SVG on a canvas.
export const SVG_NS = 'http://www.w3.org/2000/svg';

const INLINE_PROPS = ['fill', 'stroke', 'stroke-width', 'stroke-dasharray', 'opacity', 'fill-opacity', 'stroke-opacity', 'font-size', 'font-family', 'font-weight', 'text-anchor', 'dominant-baseline', 'shape-rendering'];

/** A standalone SVG document of `svg`: namespaces, size, background, computed styles inlined. */
export function serializeSvg(svg: SVGSVGElement, background = '#ffffff'): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const src = svg.querySelectorAll<SVGElement>('*');
  const dst = clone.querySelectorAll<SVGElement>('*');
  src.forEach((el, i) => {
    const cs = getComputedStyle(el);
    const style = INLINE_PROPS.map((p) => {
      const v = cs.getPropertyValue(p);
      return v ? `${p}:${v}` : '';
    })
      .filter(Boolean)
      .join(';');
    if (style) dst[i].setAttribute('style', `${style};${dst[i].getAttribute('style') ?? ''}`);
  });
  const { width, height } = svgSize(svg);
  clone.setAttribute('xmlns', SVG_NS);
  clone.setAttribute('xmlns:xlink', 'http://www.w3.org/1999/xlink');
  clone.setAttribute('width', String(width));
  clone.setAttribute('height', String(height));
  if (!clone.getAttribute('viewBox')) clone.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const bg = document.createElementNS(SVG_NS, 'rect');
  bg.setAttribute('width', '100%');
  bg.setAttribute('height', '100%');
  bg.setAttribute('fill', background);
  clone.insertBefore(bg, clone.firstChild);
  clone.querySelectorAll('[data-export-ignore]').forEach((e) => e.remove());
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(clone)}\n`;
}

export function svgSize(svg: SVGSVGElement): { width: number; height: number } {
  const w = Number(svg.getAttribute('width'));
  const h = Number(svg.getAttribute('height'));
  if (w > 0 && h > 0) return { width: w, height: h };
  const r = svg.getBoundingClientRect();
  return { width: Math.max(1, Math.round(r.width)), height: Math.max(1, Math.round(r.height)) };
}

/** PNG bytes of an SVG document: the SVG blob drawn on a canvas at `scale`. */
export async function svgToPng(svgText: string, width: number, height: number, scale = 2): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([svgText], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.decoding = 'sync';
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('the figure could not be drawn as an image'));
      img.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const ctx = canvas.getContext('2d')!;
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0, width, height);
    return await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Offers a blob as a download (browser: the downloads folder; Electron: a save dialog). */
export function download(data: Blob | string, fileName: string, type = 'text/plain'): void {
  const blob = typeof data === 'string' ? new Blob([data], { type }) : data;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function safeFileName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '') || 'figure';
}

/** An SVG document as a data: URL (for an <img>, e.g. the printable report). */
export function svgToDataUrl(svgText: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svgText)}`;
}

/**
 * A report as one SVG document: lines of text (title first, in bold) above a figure, the figure's
 * computed styles inlined as for its own export.
 */
export function reportSvg(figure: SVGSVGElement, lines: readonly string[], background = '#ffffff'): string {
  const inner = serializeSvg(figure, background).replace(/^<\?xml[^>]*>\s*/, '');
  const { width, height } = svgSize(figure);
  const lineH = 18;
  const top = 16 + lines.length * lineH + 8;
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const text = lines
    .map((l, i) => `<text x="12" y="${16 + (i + 1) * lineH - 4}" font-family="system-ui, sans-serif" font-size="${i === 0 ? 15 : 13}"${i === 0 ? ' font-weight="600"' : ''} fill="#1d2330">${esc(l)}</text>`)
    .join('');
  const w = Math.max(width, 640);
  // the figure is nested as an <svg> of its own at the report's offset
  const nested = inner.replace(/^<svg/, `<svg x="0" y="${top}"`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="${SVG_NS}" xmlns:xlink="http://www.w3.org/1999/xlink" width="${w}" height="${top + height}" viewBox="0 0 ${w} ${top + height}"><rect width="100%" height="100%" fill="${background}"/>${text}${nested}</svg>\n`;
}
