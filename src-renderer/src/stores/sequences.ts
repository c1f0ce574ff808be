// Sequences: the loaded FASTA (parsed by the engine's one FASTA parser: fasta.parse), its
// validation report, search and selection. Records are kept shallow (a 25 MB file has tens of
// thousands; deep reactivity on them would freeze the page) and saved in the session: the
// records once per load (part 'sequences'), the selection on every change (part 'selection').
import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef } from 'vue';
import type { FastaParseResponse } from '../../../src-main/api/contract.js';
import { useApi } from '../composables/useApi.js';
import { useSessionStore } from './session.js';

type Rec = FastaParseResponse['records'][number];
type Note = FastaParseResponse['notes'][number];

interface SavedSequences {
  source: string;
  records: Rec[];
  notes: Note[];
}
interface SavedSelection {
  /** every record is selected except these (the usual case after a load) ... */
  allExcept?: string[];
  /** ... or exactly these */
  only?: string[];
}

export const useSequencesStore = defineStore('sequences', () => {
  const api = useApi();
  const session = useSessionStore();
  const source = ref('');
  const records = shallowRef<readonly Rec[]>([]);
  const notes = shallowRef<readonly Note[]>([]);
  const selectedSet = shallowRef<ReadonlySet<string>>(new Set());
  const query = ref('');
  /** the file being read (name and size), while it is read */
  const reading = ref<{ name: string; bytes: number } | null>(null);

  const filtered = computed(() => {
    const q = query.value.trim().toLowerCase();
    if (!q) return records.value;
    return records.value.filter((r) => r.id.toLowerCase().includes(q) || r.description.toLowerCase().includes(q) || (q.length >= 3 && r.sequence.toLowerCase().includes(q)));
  });
  const selectedRecords = computed(() => records.value.filter((r) => selectedSet.value.has(r.id)));
  const selected = computed(() => selectedRecords.value.map((r) => r.id));
  const rejected = computed(() => notes.value.filter((n) => n.kind === 'rejected'));
  const isSelected = (id: string) => selectedSet.value.has(id);

  function saveSelection() {
    const all = records.value.length;
    const n = selectedSet.value.size;
    const value: SavedSelection = n * 2 >= all ? { allExcept: records.value.filter((r) => !selectedSet.value.has(r.id)).map((r) => r.id) } : { only: [...selectedSet.value] };
    session.save('selection', value);
  }

  function setLoaded(name: string, r: { records: Rec[]; notes: Note[] }, fileName?: string) {
    source.value = name;
    records.value = markRaw(r.records);
    // The engine names text input '<text>'; the report shows the file the user gave.
    notes.value = markRaw(fileName ? r.notes.map((n) => ({ ...n, loc: { ...n.loc, file: fileName } })) : r.notes);
    selectedSet.value = new Set(r.records.map((x) => x.id));
    session.save('sequences', { source: source.value, records: records.value as Rec[], notes: notes.value as Note[] } satisfies SavedSequences, 0, true);
    saveSelection();
  }

  async function parse(text: string, name: string) {
    reading.value = { name, bytes: text.length };
    try {
      setLoaded(name, await api.call('fasta.parse', { text }), name);
    } finally {
      reading.value = null;
    }
  }

  async function parsePath(path: string) {
    reading.value = { name: path, bytes: 0 };
    try {
      setLoaded(path, await api.call('fasta.parse', { path }));
    } finally {
      reading.value = null;
    }
  }

  /** Back from the session after a reload. */
  function restore() {
    const s = session.get<SavedSequences>('sequences');
    if (!s?.records) return;
    source.value = s.source;
    records.value = markRaw(s.records);
    notes.value = markRaw(s.notes ?? []);
    const sel = session.get<SavedSelection>('selection');
    const ids = records.value.map((r) => r.id);
    if (sel?.only) selectedSet.value = new Set(sel.only.filter((id) => ids.includes(id)));
    else {
      const except = new Set(sel?.allExcept ?? []);
      selectedSet.value = new Set(ids.filter((id) => !except.has(id)));
    }
  }

  function toggle(id: string, on?: boolean) {
    const s = new Set(selectedSet.value);
    if (on ?? !s.has(id)) s.add(id);
    else s.delete(id);
    selectedSet.value = s;
    saveSelection();
  }

  function selectAll(on: boolean) {
    const s = new Set(selectedSet.value);
    for (const r of filtered.value) {
      if (on) s.add(r.id);
      else s.delete(r.id);
    }
    selectedSet.value = s;
    saveSelection();
  }

  return { source, records, notes, selected, selectedRecords, query, filtered, rejected, reading, isSelected, parse, parsePath, restore, toggle, selectAll };
});
