// Predictions: results of `predict` jobs (per-residue probabilities for plotting, and the files
// export reads), the one being looked at, and the residue range and residue in focus (shared by
// the tracks: zoom, brush and linked highlight).
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { PredictResult } from '../../../src-main/api/contract.js';
import { useJobsStore } from './jobs.js';

export const usePredictionsStore = defineStore('predictions', () => {
  const jobs = useJobsStore();
  const results = ref<PredictResult[]>([]);
  const current = ref<PredictResult | null>(null);
  const sequenceId = ref('');
  const jobId = ref('');

  const sequence = computed(() => current.value?.sequences.find((s) => s.id === sequenceId.value) ?? current.value?.sequences[0] ?? null);

  async function predict(run: string, sequences: { id: string; sequence: string }[], kingdom?: string, root?: string) {
    const { jobId: id, done } = await jobs.start('predict', { run, sequences, root: root || undefined, ...(kingdom ? { kingdom: kingdom as 'EUKARYA' } : {}) }, `predict with ${run}`);
    jobId.value = id;
    const r = await done;
    results.value = [r, ...results.value];
    current.value = r;
    sequenceId.value = r.sequences[0]?.id ?? '';
    return r;
  }

  return { results, current, sequenceId, sequence, jobId, predict };
});
