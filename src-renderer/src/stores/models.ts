// Models: the registry (names, sizes), what is installed, downloads (jobs) and imports.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ModelsListResponse } from '../../../src-main/api/contract.js';
import { useApi } from '../composables/useApi.js';
import { useJobsStore } from './jobs.js';

export const useModelsStore = defineStore('models', () => {
  const api = useApi();
  const jobs = useJobsStore();
  const list = ref<ModelsListResponse | null>(null);
  /** model name -> running download job */
  const downloads = ref<Record<string, string>>({});

  async function load() {
    list.value = await api.call('models.list', {});
  }

  async function download(model: string) {
    const { jobId, done } = await jobs.start('models.download', { model }, `download ${model}`);
    downloads.value = { ...downloads.value, [model]: jobId };
    try {
      await done;
    } finally {
      const { [model]: _, ...rest } = downloads.value;
      downloads.value = rest;
      await load();
    }
  }

  async function importFolder(dir: string, name?: string) {
    const m = await api.call('models.import', { dir, name: name || undefined, mode: 'auto' });
    await load();
    return m;
  }

  async function remove(name: string) {
    await api.call('models.remove', { name });
    await load();
  }

  return { list, downloads, load, download, importFolder, remove };
});
