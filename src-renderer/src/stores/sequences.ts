// Sequences: the loaded FASTA (parsed by the engine's one FASTA parser: fasta.parse), its
// validation report, search and selection.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { FastaParseResponse } from '../../../src-main/api/contract.js';
import { useApi } from '../composables/useApi.js';

type Rec = FastaParseResponse['records'][number];
type Note = FastaParseResponse['notes'][number];

export const useSequencesStore = defineStore('sequences', () => {
  const api = useApi();
  const source = ref('');
  const records = ref<Rec[]>([]);
  const notes = ref<Note[]>([]);
  const selected = ref<string[]>([]);
  const query = ref('');

  const filtered = computed(() => {
    const q = query.value.trim().toLowerCase();
    if (!q) return records.value;
    return records.value.filter((r) => r.id.toLowerCase().includes(q) || r.description.toLowerCase().includes(q) || (q.length >= 3 && r.sequence.toLowerCase().includes(q)));
  });
  const selectedRecords = computed(() => {
    const s = new Set(selected.value);
    return records.value.filter((r) => s.has(r.id));
  });
  const rejected = computed(() => notes.value.filter((n) => n.kind === 'rejected'));

  async function parse(text: string, name: string) {
    const r = await api.call('fasta.parse', { text });
    source.value = name;
    // The engine names text input '<text>'; the report shows the file the user gave.
    records.value = r.records;
    notes.value = r.notes.map((n) => ({ ...n, loc: { ...n.loc, file: name } }));
    selected.value = r.records.map((x) => x.id);
  }

  async function parsePath(path: string) {
    const r = await api.call('fasta.parse', { path });
    source.value = path;
    records.value = r.records;
    notes.value = r.notes;
    selected.value = r.records.map((x) => x.id);
  }

  function toggle(id: string, on?: boolean) {
    const s = new Set(selected.value);
    if (on ?? !s.has(id)) s.add(id);
    else s.delete(id);
    selected.value = records.value.map((r) => r.id).filter((x) => s.has(x));
  }

  function selectAll(on: boolean) {
    const ids = new Set(filtered.value.map((r) => r.id));
    const s = new Set(selected.value);
    for (const id of ids) {
      if (on) s.add(id);
      else s.delete(id);
    }
    selected.value = records.value.map((r) => r.id).filter((x) => s.has(x));
  }

  return { source, records, notes, selected, query, filtered, selectedRecords, rejected, parse, parsePath, toggle, selectAll };
});
