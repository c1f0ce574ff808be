// The session: what this page has open, kept in the user data folder (session.get / session.set)
// so that a reload, another window or a restart finds it again. Each store names a part and a
// getter (`keep`); a change is saved after a short pause (typing) or at once (`save`), and
// `pending` counts the saves still on their way (the page shows it, tests wait on it).
import { defineStore } from 'pinia';
import { ref, shallowRef, watch } from 'vue';
import { useApi } from '../composables/useApi.js';

/** A reactive value as plain JSON (no proxies, no undefined fields). */
export function plain<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

export const useSessionStore = defineStore('session', () => {
  const api = useApi();
  const parts = shallowRef<Record<string, unknown>>({});
  const loaded = ref(false);
  const problems = ref<string[]>([]);
  const error = ref('');
  const pending = ref(0);
  const savedAt = ref('');
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const queued = new Map<string, unknown>();
  /** parts given as plain data already (large record lists): sent as they are, not copied first */
  const alreadyPlain = new Set<string>();

  async function load() {
    const s = await api.call('session.get', {});
    parts.value = Object.fromEntries(Object.entries(s.parts).map(([k, v]) => [k, v.value]));
    problems.value = s.problems;
    loaded.value = true;
  }

  function get<T>(part: string): T | undefined {
    return parts.value[part] as T | undefined;
  }

  async function write(part: string) {
    if (!queued.has(part)) return;
    const value = queued.get(part);
    queued.delete(part);
    timers.delete(part);
    try {
      const r = await api.call('session.set', { part, value: (alreadyPlain.has(part) ? value : plain(value)) ?? null });
      savedAt.value = r.savedAt;
      error.value = '';
    } catch (e) {
      error.value = `the session could not be saved (${part}): ${(e as Error).message}`;
    } finally {
      pending.value--;
    }
  }

  /**
   * Save a part after `delayMs` (0 = now); a newer value replaces one still waiting. `isPlain`:
   * the value holds no reactive proxies (e.g. records straight from the engine), so the copy that
   * strips them is skipped (it costs a second of main thread for a 25 MB FASTA).
   */
  function save(part: string, value: unknown, delayMs = 0, isPlain = false) {
    if (isPlain) alreadyPlain.add(part);
    else alreadyPlain.delete(part);
    if (!queued.has(part)) pending.value++;
    queued.set(part, value);
    clearTimeout(timers.get(part));
    timers.set(part, setTimeout(() => void write(part), delayMs));
  }

  /** Save `source()` under `part` whenever it changes (deeply). */
  function keep(part: string, source: () => unknown, delayMs = 300) {
    watch(source, (v) => save(part, v, delayMs), { deep: true });
  }

  return { parts, loaded, problems, error, pending, savedAt, load, get, save, keep };
});
