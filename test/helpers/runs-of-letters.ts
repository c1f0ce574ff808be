// Letter runs in a secondary-structure string, written out for tests independently of the code
// under test.

/** Length of the run of equal letters that position k is in. */
export function runLength(s: string, k: number): number {
  let a = k;
  let b = k;
  while (a > 0 && s[a - 1] === s[k]) a--;
  while (b < s.length - 1 && s[b + 1] === s[k]) b++;
  return b - a + 1;
}
