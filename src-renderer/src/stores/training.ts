// Training: the form's request, the estimate, the running job and its live curves. Curves come
// from the run's metrics rows (runs.get polled while the job runs: every optimizer step is a
// row) plus the job's progress events (latest loss) between two polls.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { TrainEstimate, TrainRequest, TrainResult } from '../../../src-main/api/contract.js';
import type { MetricRecord } from '../../../src-main/engine/runs/types.js';
import { useApi } from '../composables/useApi.js';
import { useJobsStore } from './jobs.js';

export const useTrainingStore = defineStore('training', () => {
  const api = useApi();
  const jobs = useJobsStore();
  const estimate = ref<TrainEstimate | null>(null);
  const estimateError = ref('');
  const jobId = ref('');
  const runId = ref('');
  const metrics = ref<MetricRecord[]>([]);
  /** [step, loss] of optimizer steps reported by the job's progress events, ahead of the rows */
  const live = ref<[number, number][]>([]);
  const result = ref<TrainResult | null>(null);
  const error = ref('');
  const status = ref<'idle' | 'running' | 'done' | 'failed' | 'cancelled'>('idle');
  let timer: ReturnType<typeof setInterval> | undefined;
  let estimateSeq = 0;
  let pollSeq = 0;

  async function refreshEstimate(req: Parameters<typeof jobs.run<'train.estimate'>>[1]) {
    const mine = ++estimateSeq;
    try {
      const e = await jobs.run('train.estimate', req, 'estimate');
      if (mine === estimateSeq) {
        estimate.value = e;
        estimateError.value = '';
      }
    } catch (e) {
      if (mine === estimateSeq) {
        estimate.value = null;
        estimateError.value = (e as Error).message;
      }
    }
  }

  async function poll() {
    if (!runId.value) return;
    const mine = ++pollSeq;
    try {
      const d = await api.call('runs.get', { id: runId.value });
      // polls can overlap: an older answer arriving late must not replace newer rows
      if (mine === pollSeq) metrics.value = d.metrics;
    } catch {
      /* the run folder appears once the data is read */
    }
  }

  function follow(id: string, done: Promise<TrainResult>) {
    status.value = 'running';
    result.value = null;
    error.value = '';
    metrics.value = [];
    live.value = [];
    clearInterval(timer);
    timer = setInterval(() => void poll(), 500);
    // The run's last rows are fetched before the outcome is shown, so a finished run's curve is complete.
    const settle = async () => {
      clearInterval(timer);
      await poll();
    };
    done
      .then(async (r) => {
        await settle();
        result.value = r;
        status.value = 'done';
      })
      .catch(async (e: Error) => {
        await settle();
        status.value = e.name === 'JobCancelled' ? 'cancelled' : 'failed';
        error.value = e.name === 'JobCancelled' ? '' : e.message;
      });
    jobId.value = id;
  }

  // Each optimizer step's loss as the job reports it (phase 'train · epoch e/E', done = step).
  api.onEvent((e) => {
    if (e.type !== 'job.progress' || e.jobId !== jobId.value || !e.phase.startsWith('train') || e.loss === undefined) return;
    const last = live.value.at(-1);
    if (!last || e.done > last[0]) live.value = [...live.value, [e.done, e.loss]];
  });

  async function start(req: TrainRequest) {
    runId.value = req.id!;
    const { jobId: id, done } = await jobs.start('train', req, `train ${req.id}`);
    follow(id, done);
  }

  async function resume(id: string) {
    runId.value = id;
    const s = await jobs.start('train.resume', { id }, `resume ${id}`);
    follow(s.jobId, s.done);
  }

  async function stop() {
    if (jobId.value) await jobs.cancel(jobId.value);
  }

  return { estimate, estimateError, jobId, runId, metrics, live, result, error, status, refreshEstimate, start, resume, stop, poll };
});
