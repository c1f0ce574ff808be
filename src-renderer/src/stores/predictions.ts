// Predictions: the ones kept on disk (predictions.list; a reload lists them again), the one
// being looked at (reopened with predictions.get), and the residue in focus, shared by the
// tracks, the tables and the 3D structure (zoom, brush and linked highlight). The open
// prediction, its sequence and the predict form are kept in the session.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { ExportResult, PredictionSummary, PredictRequest, PredictResult } from '../../../src-main/api/contract.js';
import { useApi } from '../composables/useApi.js';
import { useJobsStore } from './jobs.js';
import { useSessionStore } from './session.js';

interface SavedPredict {
  json: string;
  sequenceId: string;
  run: string;
  kingdom: string;
  headerKingdoms: boolean;
}

/** An annotated structure to show in 3D: the file's text and, per chain residue, its sequence position. */
export interface ShownStructure {
  text: string;
  format: 'pdb' | 'mmcif';
  file: string;
  chain: string;
  sequenceId: string;
  /** residues of the chain in file order, with the 1-based position of the predicted sequence (null: unmapped) */
  residues: NonNullable<ExportResult['structure']>['residues'];
}

export const usePredictionsStore = defineStore('predictions', () => {
  const api = useApi();
  const jobs = useJobsStore();
  const session = useSessionStore();
  const list = ref<PredictionSummary[]>([]);
  const current = shallowRef<PredictResult | null>(null);
  const sequenceId = ref('');
  const jobId = ref('');
  /** 1-based residue in focus (hovered in the tracks, the table or the 3D view) */
  const focus = ref<number | null>(null);
  const structure = shallowRef<ShownStructure | null>(null);
  const form = ref({ run: '', kingdom: 'EUKARYA', headerKingdoms: true });

  const sequence = computed(() => current.value?.sequences.find((s) => s.id === sequenceId.value) ?? current.value?.sequences[0] ?? null);

  function save() {
    session.save('predict', { json: current.value?.json ?? '', sequenceId: sequenceId.value, ...form.value } satisfies SavedPredict);
  }

  async function load() {
    list.value = (await api.call('predictions.list', {})).predictions;
  }

  function show(r: PredictResult, seq?: string) {
    current.value = r;
    sequenceId.value = seq && r.sequences.some((s) => s.id === seq) ? seq : r.sequences[0]?.id ?? '';
    focus.value = null;
    structure.value = null;
    save();
  }

  async function open(json: string, seq?: string) {
    show(await api.call('predictions.get', { json }), seq);
  }

  function select(id: string) {
    sequenceId.value = id;
    focus.value = null;
    if (structure.value && structure.value.sequenceId !== id) structure.value = null;
    save();
  }

  async function predict(req: PredictRequest, label: string) {
    const { jobId: id, done } = await jobs.start('predict', req, label);
    jobId.value = id;
    const r = await done;
    show(r);
    await load();
    return r;
  }

  async function restore() {
    await load();
    const s = session.get<SavedPredict>('predict');
    if (!s) return;
    form.value = { run: s.run ?? '', kingdom: s.kingdom ?? 'EUKARYA', headerKingdoms: s.headerKingdoms ?? true };
    if (s.json && list.value.some((p) => p.json === s.json)) {
      try {
        await open(s.json, s.sequenceId);
      } catch {
        /* the files were removed since */
      }
    }
  }

  return { list, current, sequenceId, sequence, jobId, focus, structure, form, load, open, show, select, predict, restore, save };
});
