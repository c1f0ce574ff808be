// Sortable tables: a column key and a direction, clicked on a header; numbers sort as numbers,
// text as text (locale, numeric collation: 'P2' before 'P10'), missing values last either way.
import { type Ref, computed, ref } from 'vue';

export type SortValue = number | string | null | undefined;

export function compareValues(a: SortValue, b: SortValue): number {
  const missA = a === null || a === undefined || (typeof a === 'number' && Number.isNaN(a));
  const missB = b === null || b === undefined || (typeof b === 'number' && Number.isNaN(b));
  if (missA || missB) return missA === missB ? 0 : missA ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: 'base' });
}

/** Rows sorted stably by `by(row, key)`; `toggle(key)` sorts by a column, then reverses it. */
export function useSorted<R>(rows: Ref<readonly R[]>, by: (row: R, key: string) => SortValue, initial: { key: string; desc?: boolean } | null = null) {
  const key = ref<string | null>(initial?.key ?? null);
  const desc = ref(initial?.desc ?? false);
  const sorted = computed(() => {
    const k = key.value;
    if (k === null) return rows.value;
    const sign = desc.value ? -1 : 1;
    return rows.value
      .map((r, i) => ({ r, i }))
      .sort((x, y) => {
        const a = by(x.r, k);
        const b = by(y.r, k);
        const missing = (v: SortValue) => v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));
        // missing values stay last in both directions
        if (missing(a) || missing(b)) return compareValues(a, b) || x.i - y.i;
        return sign * compareValues(a, b) || x.i - y.i;
      })
      .map((x) => x.r);
  });
  function toggle(k: string) {
    if (key.value === k) desc.value = !desc.value;
    else {
      key.value = k;
      desc.value = false;
    }
  }
  /** aria-sort of a header */
  const ariaSort = (k: string) => (key.value === k ? (desc.value ? 'descending' : 'ascending') : 'none');
  return { key, desc, sorted, toggle, ariaSort };
}
