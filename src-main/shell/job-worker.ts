/// <reference types="electron-vite/node" />
// The worker scripts in the Electron build: electron-vite bundles src-main/engine/jobs/worker.ts
// (jobs) and call-worker.ts (heavy plain calls) as files of their own beside the main bundle and
// these imports are their paths (`?modulePath`). Only the Electron main process imports this
// module; under tsx and vitest the queue and the call worker find their scripts by themselves.
import callPath from '../engine/jobs/call-worker?modulePath';
import workerPath from '../engine/jobs/worker?modulePath';

export const jobWorkerPath: string = workerPath;
export const callWorkerPath: string = callPath;
