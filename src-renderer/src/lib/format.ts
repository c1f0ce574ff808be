// Number and size formatting shared by the views.
export function bytes(n: number | undefined | null): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : v < 10 ? 2 : 1)} ${u[i]}`;
}

export function count(n: number | undefined | null): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US');
}

export function compact(n: number | undefined | null): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return '–';
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (a >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

export function fixed(n: number | undefined | null, digits = 3): string {
  return n === undefined || n === null || !Number.isFinite(n) ? '–' : n.toFixed(digits);
}

export function pct(n: number | undefined | null, digits = 1): string {
  return n === undefined || n === null || !Number.isFinite(n) ? '–' : `${(100 * n).toFixed(digits)} %`;
}

export function seconds(s: number | undefined | null): string {
  if (s === undefined || s === null || !Number.isFinite(s)) return '–';
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - 60 * m)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A cleavage site as SignalP 6.0 writes it: between the last signal-peptide residue and the next. */
export function csLabel(site: number, probability?: number | null): string {
  return `CS pos: ${site}-${site + 1}${probability !== undefined && probability !== null ? `. Pr: ${probability.toFixed(4)}` : ''}`;
}
