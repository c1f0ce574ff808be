import { writeFileSync } from 'node:fs';

const AA = 'ACDEFGHIKLMNPQRSTVWY';

/** Writes n random protein sequences of minLen..maxLen residues (deterministic for a seed). */
export function randomFasta(file: string, n: number, minLen: number, maxLen: number, seed: number): string {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = minLen + Math.floor(rnd() * (maxLen - minLen + 1));
    out.push(`>s${i}\n${Array.from({ length: len }, () => AA[Math.floor(rnd() * 20)]).join('')}\n`);
  }
  writeFileSync(file, out.join(''));
  return file;
}
