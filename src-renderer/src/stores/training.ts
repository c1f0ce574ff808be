// Training: the form (kept in the session, and following the active model), its checks, the
// estimate, the run being followed and its curves. Curves come from the run's metrics rows
// (runs.get, polled while the job trains: every optimizer step is a row) plus the job's progress
// events (latest loss) between two polls. After a reload the store finds its job again (the
// session keeps its id; jobs.list says whether it still runs) and follows it; any past run opens
// from the run store with its curves, metrics and configuration.
import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef, watch } from 'vue';
import type { TrainEstimate, TrainRequest, TrainResult } from '../../../src-main/api/contract.js';
import type { MetricRecord, RunDetail } from '../../../src-main/engine/runs/types.js';
import { ApiCallError, useApi } from '../composables/useApi.js';
import { type DataChoice, type TrainForm, dataInput, defaultForm, formErrors, inFormWords, methodOptions, newRunId, taskFields } from '../lib/train-form.js';
import { useJobsStore } from './jobs.js';
import { useRunsStore } from './runs.js';
import { useSessionStore } from './session.js';
import { useSettingsStore } from './settings.js';

/** Picked files up to this size are kept in the session with the form (larger: their name only). */
const KEEP_TEXT = 2 * 1024 * 1024;

interface FollowedJob {
  jobId: string;
  runId: string;
  kind: 'train' | 'train.resume';
}

export const useTrainingStore = defineStore('training', () => {
  const api = useApi();
  const jobs = useJobsStore();
  const runs = useRunsStore();
  const session = useSessionStore();
  const settings = useSettingsStore();

  const form = reactive<TrainForm>(defaultForm(settings.activeModel));
  const trainData = reactive<DataChoice>({ path: '' });
  const valData = reactive<DataChoice>({ path: '' });
  const errors = computed(() => formErrors(form));

  const estimate = ref<TrainEstimate | null>(null);
  const estimateError = ref('');
  const jobId = ref('');
  const runId = ref('');
  const runName = ref('');
  const detail = shallowRef<RunDetail | null>(null);
  const metrics = shallowRef<MetricRecord[]>([]);
  /** [step, loss] of optimizer steps reported by the job's progress events, ahead of the rows */
  const live = ref<[number, number][]>([]);
  const result = ref<TrainResult | null>(null);
  const error = ref('');
  const status = ref<'idle' | 'running' | 'done' | 'failed' | 'cancelled' | 'opened'>('idle');
  let timer: ReturnType<typeof setInterval> | undefined;
  let estimateSeq = 0;
  let pollSeq = 0;

  // "Make active" on a model is the model the next run trains.
  watch(() => settings.activeModel, (m) => {
    if (m) form.model = m;
  });

  const trainingActive = () => jobs.active().some((j) => j.kind === 'train' || j.kind === 'train.resume');

  async function refreshEstimate() {
    if (!form.model || Object.keys(errors.value).some((k) => ['model', 'batchSize', 'topK', 'r', 'alpha', 'dropout', 'size', 'tokens', 'loraTargets', 'ia3Targets'].includes(k))) {
      estimate.value = null;
      estimateError.value = errors.value.model ? '' : 'Fix the marked fields to see the estimate.';
      return;
    }
    // jobs run one at a time: no estimate queued behind a running training job
    if (trainingActive()) return;
    const mine = ++estimateSeq;
    const t = dataInput(trainData);
    const small = t && (t.path !== undefined || (t.text?.length ?? 0) < 4 * 1024 * 1024);
    try {
      const e = await jobs.run('train.estimate', { model: form.model, ...taskFields(form), method: form.method, options: methodOptions(form), batchSize: Number(form.batchSize), ...(small ? { train: t } : { maxLength: 512 }) });
      if (mine === estimateSeq) {
        estimate.value = e;
        estimateError.value = '';
      }
    } catch (e) {
      if (mine === estimateSeq) {
        estimate.value = null;
        estimateError.value = inFormWords((e as Error).message, (e as ApiCallError).field);
      }
    }
  }

  /** The run's rows; not before the job has read its data (the run folder does not exist yet). */
  async function poll() {
    if (!runId.value) return;
    const j = jobs.jobs.get(jobId.value);
    if (j && (j.state === 'queued' || !j.progress || j.progress.phase === 'reading data')) return;
    const mine = ++pollSeq;
    try {
      const d = await runs.get(runId.value);
      // polls can overlap: an older answer arriving late must not replace newer rows
      if (mine === pollSeq) {
        metrics.value = d.metrics;
        detail.value = d;
        runName.value = d.name;
      }
    } catch {
      /* the run folder appears once the data is read */
    }
  }

  function follow(f: FollowedJob, done: Promise<TrainResult>) {
    status.value = 'running';
    result.value = null;
    error.value = '';
    metrics.value = [];
    detail.value = null;
    live.value = [];
    jobId.value = f.jobId;
    runId.value = f.runId;
    runName.value = f.runId;
    session.save('train-job', f);
    clearInterval(timer);
    timer = setInterval(() => void poll(), 500);
    // The run's last rows are fetched before the outcome is shown, so a finished run's curve is complete.
    const settle = async () => {
      clearInterval(timer);
      await poll();
      await runs.load();
    };
    done
      .then(async (r) => {
        await settle();
        if (jobId.value !== f.jobId) return;
        result.value = r;
        status.value = 'done';
      })
      .catch(async (e: Error) => {
        await settle();
        if (jobId.value !== f.jobId) return;
        status.value = e.name === 'JobCancelled' ? 'cancelled' : 'failed';
        error.value = e.name === 'JobCancelled' ? '' : inFormWords(e.message, (e as ApiCallError).field);
      });
  }

  // Each optimizer step's loss as the job reports it (phase 'train · epoch e/E', done = step).
  api.onEvent((e) => {
    if (e.type !== 'job.progress' || e.jobId !== jobId.value || !e.phase.startsWith('train') || e.loss === undefined) return;
    const last = live.value.at(-1);
    if (!last || e.done > last[0]) live.value = [...live.value, [e.done, e.loss]];
  });

  function request(): TrainRequest {
    const train = dataInput(trainData)!;
    const val = dataInput(valData)!;
    return {
      model: form.model.trim(), ...taskFields(form), method: form.method, options: methodOptions(form), train, val,
      epochs: Number(form.epochs), batchSize: Number(form.batchSize), lr: Number(form.lr), seed: Number(form.seed),
      id: newRunId(form), name: form.name.trim() || undefined, root: runs.root || undefined,
    };
  }

  /**
   * Start a run. Throws with a message in the form's words when the form or the engine refuses;
   * nothing of a previous run is shown under the new run's name (the panel switches only once
   * the job is accepted).
   */
  async function start() {
    const bad = Object.entries(errors.value);
    if (bad.length) throw new Error(bad.map(([k, v]) => `${inFormWords(`${k}: ${v}`)}`).join('; '));
    if (!dataInput(trainData) || !dataInput(valData)) throw new Error('Choose training and validation data first.');
    const req = request();
    let s;
    try {
      s = await jobs.start('train', req, `train ${req.name ?? req.id}`);
    } catch (e) {
      throw new ApiCallError((e as ApiCallError).code ?? 'failed', inFormWords((e as Error).message, (e as ApiCallError).field), (e as ApiCallError).field);
    }
    follow({ jobId: s.jobId, runId: req.id!, kind: 'train' }, s.done);
    runName.value = req.name ?? req.id!;
  }

  async function resume(id: string) {
    const name = runs.runs.find((r) => r.id === id)?.name ?? id;
    const s = await jobs.start('train.resume', { id, root: runs.root || undefined }, `resume ${name}`);
    follow({ jobId: s.jobId, runId: id, kind: 'train.resume' }, s.done);
    runName.value = name;
  }

  async function stop() {
    if (jobId.value) await jobs.cancel(jobId.value);
  }

  /** Show a past (or another) run from the run store: its curves, metrics and configuration. */
  async function open(id: string) {
    const d = await runs.get(id);
    clearInterval(timer);
    jobId.value = '';
    runId.value = id;
    runName.value = d.name;
    detail.value = d;
    metrics.value = d.metrics;
    live.value = [];
    result.value = null;
    error.value = d.status === 'failed' ? d.error ?? '' : '';
    status.value = 'opened';
    session.save('train-job', { jobId: '', runId: id, kind: 'train' } satisfies FollowedJob);
  }

  /** After a reload: the form and data from the session, and the job or run that was followed. */
  async function restore() {
    const f = session.get<Partial<TrainForm>>('train-form');
    if (f) Object.assign(form, defaultForm(settings.activeModel), f);
    // the model typed in the form stays; an empty one takes the active model
    if (!form.model) form.model = settings.activeModel;
    const d = session.get<{ train: DataChoice; val: DataChoice }>('train-data');
    if (d) {
      Object.assign(trainData, { path: '', text: undefined, name: undefined }, d.train);
      Object.assign(valData, { path: '', text: undefined, name: undefined }, d.val);
    }
    const followed = session.get<FollowedJob>('train-job');
    if (!followed?.runId) return;
    const j = followed.jobId ? jobs.jobs.get(followed.jobId) : undefined;
    if (j && (j.state === 'queued' || j.state === 'running')) {
      follow(followed, jobs.follow<'train'>(followed.jobId, followed.kind, j.label));
      await poll();
      // the curve continues from the rows read; progress events add the steps after them
    } else {
      try {
        await open(followed.runId);
        // a job that finished while the page was away: its outcome, fetched by id
        if (j?.state === 'done') {
          result.value = (await jobs.resultOf(followed.jobId)) as TrainResult;
          status.value = 'done';
        }
      } catch {
        /* the run was deleted since */
      }
    }
  }

  /** Save the form and data as they change (after restore, so restoring saves nothing). */
  function persist() {
    session.keep('train-form', () => ({ ...form }));
    const keepText = (c: DataChoice): DataChoice => (c.text && c.text.length > KEEP_TEXT ? { path: '', name: c.name } : { ...c });
    session.keep('train-data', () => ({ train: keepText(trainData), val: keepText(valData) }));
    // the estimate follows the form (debounced)
    let t: ReturnType<typeof setTimeout> | undefined;
    watch(
      () => [JSON.stringify(form), trainData.text?.length, trainData.path, trainingActive()],
      () => {
        clearTimeout(t);
        t = setTimeout(() => void refreshEstimate(), 500);
      },
      { immediate: true },
    );
  }

  return {
    form, trainData, valData, errors, estimate, estimateError, jobId, runId, runName, detail, metrics, live, result, error, status,
    refreshEstimate, start, resume, stop, open, restore, persist, poll,
  };
});
