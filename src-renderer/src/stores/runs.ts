// Runs: the run store (runs.list / runs.get / runs.compare / runs.rename / runs.delete) and
// per-class evaluations.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { RunsEvaluationResult } from '../../../src-main/api/contract.js';
import type { CompareTable, RunDetail, RunSummary } from '../../../src-main/engine/runs/types.js';
import { useApi } from '../composables/useApi.js';
import { useJobsStore } from './jobs.js';

/** The task family of a run ('ss-ss8-cnn' -> 'ss'). */
export const taskFamily = (task: string | undefined): 'ss' | 'sp' | 'other' => (task?.startsWith('ss') ? 'ss' : task?.startsWith('sp') ? 'sp' : 'other');

export const useRunsStore = defineStore('runs', () => {
  const api = useApi();
  const jobs = useJobsStore();
  const root = ref('');
  const runs = ref<RunSummary[]>([]);
  const compareIds = ref<string[]>([]);
  const table = ref<CompareTable | null>(null);
  const evaluations = ref<RunsEvaluationResult['runs']>([]);

  async function load() {
    const r = await api.call('runs.list', {});
    root.value = r.root;
    runs.value = r.runs;
  }

  async function get(id: string): Promise<RunDetail> {
    return api.call('runs.get', { id, root: root.value || undefined });
  }

  async function compare(ids: string[]) {
    compareIds.value = ids;
    if (ids.length === 0) {
      table.value = null;
      evaluations.value = [];
      return;
    }
    table.value = await api.call('runs.compare', { ids, root: root.value || undefined });
    evaluations.value = (await jobs.run('runs.evaluation', { ids, root: root.value || undefined }, 'per-class scores')).runs;
  }

  async function rename(id: string, name: string) {
    await api.call('runs.rename', { id, name, root: root.value || undefined });
    await load();
  }

  async function remove(id: string) {
    const r = await api.call('runs.delete', { id, root: root.value || undefined });
    compareIds.value = compareIds.value.filter((x) => x !== id);
    await load();
    return r;
  }

  const completed = () => runs.value.filter((r) => r.status === 'completed');

  return { root, runs, compareIds, table, evaluations, load, get, compare, rename, remove, completed };
});
