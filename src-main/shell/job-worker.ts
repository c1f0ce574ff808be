/// <reference types="electron-vite/node" />
// The job worker's script in the Electron build: electron-vite bundles
// src-main/engine/jobs/worker.ts as a file of its own beside the main bundle and this import
// is its path (`?modulePath`). Only the Electron main process imports this module; under tsx and
// vitest the queue finds worker.ts by itself (see src-main/engine/jobs/queue.ts).
import workerPath from '../engine/jobs/worker?modulePath';

export const jobWorkerPath: string = workerPath;
