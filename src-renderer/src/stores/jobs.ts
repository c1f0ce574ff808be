// Jobs: every long call (train, predict, attention, export, downloads, estimates) is a job whose
// progress and end come as events. This store listens once for the whole app and keeps each
// job's latest state, so any view can show progress, and `start` resolves with the result.
import { defineStore } from 'pinia';
import { reactive, ref } from 'vue';
import type { JobKinds, JobMethod, JobProgress, JobResults } from '../../../src-main/api/contract.js';
import { ApiCallError, useApi } from '../composables/useApi.js';

export interface JobView {
  id: string;
  kind: string;
  state: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  progress?: JobProgress;
  result?: unknown;
  error?: string;
  startedAt: number;
  /** short human label given by the caller */
  label?: string;
}

type Waiter = { resolve: (v: unknown) => void; reject: (e: unknown) => void };
export type ResultOf<K extends JobMethod> = K extends keyof JobResults ? JobResults[K] : unknown;

export class JobCancelled extends Error {
  override name = 'JobCancelled';
}

export const useJobsStore = defineStore('jobs', () => {
  const api = useApi();
  const jobs = reactive(new Map<string, JobView>());
  const waiters = new Map<string, Waiter>();
  /** job id -> label, for the jobs this page started (kept in the session) */
  const labels = ref<Record<string, string>>({});

  const settle = (id: string) => {
    const j = jobs.get(id);
    const w = waiters.get(id);
    if (!j || !w) return;
    if (j.state === 'done') w.resolve(j.result);
    else if (j.state === 'failed') w.reject(new ApiCallError('failed', j.error ?? 'the job failed'));
    else if (j.state === 'cancelled') w.reject(new JobCancelled('cancelled'));
    else return;
    waiters.delete(id);
  };

  const view = (id: string, kind: string): JobView => {
    let j = jobs.get(id);
    if (!j) {
      j = { id, kind, state: 'queued', startedAt: Date.now() };
      jobs.set(id, j);
    }
    return jobs.get(id)!;
  };

  api.onEvent((e) => {
    if ('jobId' in e) lastHeard.set(e.jobId, Date.now());
    else if (e.type === 'job.queued') lastHeard.set(e.job.id, Date.now());
    switch (e.type) {
      case 'job.queued':
        view(e.job.id, e.job.kind);
        break;
      case 'job.started':
        view(e.jobId, e.kind).state = 'running';
        break;
      case 'job.progress': {
        const j = view(e.jobId, e.kind);
        j.state = 'running';
        j.progress = { ...e };
        break;
      }
      case 'job.done': {
        const j = view(e.jobId, e.kind);
        j.state = 'done';
        j.result = e.result;
        settle(e.jobId);
        break;
      }
      case 'job.failed': {
        const j = view(e.jobId, e.kind);
        j.state = 'failed';
        j.error = e.message;
        settle(e.jobId);
        break;
      }
      case 'job.cancelled':
        view(e.jobId, e.kind).state = 'cancelled';
        settle(e.jobId);
        break;
      default:
        break;
    }
  });

  // Events can be missed (the event stream reconnecting, a job that ended before the stream was
  // open): when a waited-for job has been silent for 5 s, the job list (summaries only) is read
  // instead, and the result of a job it shows done is fetched by id.
  let poller: ReturnType<typeof setInterval> | undefined;
  const lastHeard = new Map<string, number>();
  async function reconcile() {
    if (waiters.size === 0) {
      clearInterval(poller);
      poller = undefined;
      return;
    }
    const now = Date.now();
    if (![...waiters.keys()].some((id) => now - (lastHeard.get(id) ?? 0) > 5000)) return;
    try {
      const { jobs: list } = await api.call('jobs.list', {});
      for (const info of list) {
        if (!waiters.has(info.id)) continue;
        const j = view(info.id, info.kind);
        if (info.state !== 'done' && info.state !== 'failed' && info.state !== 'cancelled') continue;
        j.state = info.state;
        j.error = info.error;
        if (info.state === 'done') {
          try {
            j.result = (await api.call('jobs.result', { jobId: info.id })).result;
          } catch (e) {
            // A result the server no longer keeps: the job is over, its result lost to this page.
            if (!(e instanceof ApiCallError) || e.code !== 'not_found') throw e;
            j.state = 'failed';
            j.error = e.message;
          }
        }
        settle(info.id);
      }
    } catch {
      /* the next round tries again */
    }
  }

  /** Start a job; `done` resolves with its result (rejects with ApiCallError or JobCancelled). */
  async function start<K extends JobMethod>(kind: K, request: JobKinds[K], label?: string): Promise<{ jobId: string; done: Promise<ResultOf<K>> }> {
    const { jobId } = (await api.call(kind, request as never)) as { jobId: string };
    return { jobId, done: follow<K>(jobId, kind, label) };
  }

  /** Wait for a job that is already queued or running (one this page started, or found after a reload). */
  function follow<K extends JobMethod>(jobId: string, kind: string, label?: string): Promise<ResultOf<K>> {
    const j = view(jobId, kind);
    if (label) {
      j.label = label;
      labels.value = { ...labels.value, [jobId]: label };
    }
    if (!lastHeard.has(jobId)) lastHeard.set(jobId, Date.now());
    const done = new Promise<ResultOf<K>>((resolve, reject) => {
      waiters.set(jobId, { resolve: resolve as (v: unknown) => void, reject });
      settle(jobId);
    });
    poller ??= setInterval(() => void reconcile(), 2000);
    return done;
  }

  /**
   * After a reload: the engine's job list (jobs.list) becomes this page's, with the labels the
   * session kept; jobs still queued or running show their progress again.
   */
  async function adopt(saved: Record<string, string> = {}) {
    const { jobs: list } = await api.call('jobs.list', {});
    const known = new Set(list.map((j) => j.id));
    labels.value = Object.fromEntries(Object.entries(saved).filter(([id]) => known.has(id)));
    for (const info of list) {
      const j = view(info.id, info.kind);
      j.state = info.state;
      if (info.progress) j.progress = info.progress;
      if (info.startedAt) j.startedAt = Date.parse(info.startedAt);
      j.error = info.error;
      j.label = labels.value[info.id] ?? j.label;
    }
    return list;
  }

  /** Start a job and wait for its result. */
  async function run<K extends JobMethod>(kind: K, request: JobKinds[K], label?: string): Promise<ResultOf<K>> {
    return (await start(kind, request, label)).done;
  }

  async function cancel(jobId: string): Promise<void> {
    await api.call('jobs.cancel', { jobId });
  }

  const active = () => [...jobs.values()].filter((j) => j.state === 'queued' || j.state === 'running');

  /** The result of a finished job, fetched by id (the job list carries summaries only). */
  async function resultOf(jobId: string): Promise<unknown> {
    const j = jobs.get(jobId);
    if (j?.result === undefined) {
      const info = await api.call('jobs.result', { jobId });
      if (j) j.result = info.result;
      return info.result;
    }
    return j.result;
  }

  return { jobs, labels, start, follow, adopt, run, cancel, active, resultOf };
});
