// The sample files that ship with the workbench (samples.list): proteins to try, and small
// training and validation sets for a first run that works offline.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { SampleFile } from '../../../src-main/api/contract.js';
import { useApi } from '../composables/useApi.js';

export const useSamplesStore = defineStore('samples', () => {
  const api = useApi();
  const samples = ref<SampleFile[]>([]);
  async function load() {
    samples.value = (await api.call('samples.list', {})).samples;
  }
  const of = (use: SampleFile['use']) => samples.value.filter((s) => s.use === use);
  return { samples, load, of };
});
