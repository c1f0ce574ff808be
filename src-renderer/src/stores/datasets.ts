// Public training and test sets (data.list / data.download): what exists, under which licence,
// what is installed, and downloads as jobs (progress, cancel; a cancelled download resumes).
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ApiResponse } from '../../../src-main/api/contract.js';
import { useApi } from '../composables/useApi.js';
import { useJobsStore } from './jobs.js';

type Listing = ApiResponse<'data.list'>['sets'][number];

export const useDatasetsStore = defineStore('datasets', () => {
  const api = useApi();
  const jobs = useJobsStore();
  const root = ref('');
  const sets = ref<Listing[]>([]);
  /** set name -> running download job */
  const downloads = ref<Record<string, string>>({});

  async function load() {
    const r = await api.call('data.list', {});
    root.value = r.root;
    sets.value = r.sets;
  }

  async function download(name: string, acceptLicence: boolean) {
    const { jobId, done } = await jobs.start('data.download', { name, ...(acceptLicence ? { acceptLicence } : {}) }, `download ${name}`);
    downloads.value = { ...downloads.value, [name]: jobId };
    try {
      return await done;
    } finally {
      const { [name]: _, ...rest } = downloads.value;
      downloads.value = rest;
      await load();
    }
  }

  return { root, sets, downloads, load, download };
});
