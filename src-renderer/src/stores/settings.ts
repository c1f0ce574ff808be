// Settings: the engine's (execution providers, threads, model folder; settings.get/set) and the
// page's own choices kept in localStorage (the active model).
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { Settings, SettingsResponse } from '../../../src-main/api/contract.js';
import { useApi } from '../composables/useApi.js';

const ACTIVE_MODEL_KEY = 'plmw.activeModel';

function stored(key: string): string {
  try {
    return localStorage.getItem(key) ?? '';
  } catch {
    return '';
  }
}

export const useSettingsStore = defineStore('settings', () => {
  const api = useApi();
  const settings = ref<Settings>({});
  const file = ref('');
  const problem = ref<string | undefined>();
  const activeModel = ref(stored(ACTIVE_MODEL_KEY));

  function apply(r: SettingsResponse) {
    settings.value = r.settings;
    file.value = r.file;
    problem.value = r.problem;
  }

  async function load() {
    apply(await api.call('settings.get', {}));
  }

  async function save(next: Settings) {
    apply(await api.call('settings.set', next));
  }

  function setActiveModel(m: string) {
    activeModel.value = m;
    try {
      localStorage.setItem(ACTIVE_MODEL_KEY, m);
    } catch {
      /* storage disabled: kept for this page only */
    }
  }

  return { settings, file, problem, activeModel, load, save, setActiveModel };
});
