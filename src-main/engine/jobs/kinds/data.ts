// `data.download`: a public data set into <home>/data/NAME (datasets/store.ts), with progress in
// bytes, cancel (the .partial file stays and the next download resumes it) and the checksum check.
import type { DataDownloadRequest } from '../../../api/contract.js';
import { ApiError } from '../../../api/errors.js';
import type { JobContext } from '../../../api/job-kinds.js';
import { DatasetError, type InstalledDataset, downloadDataset } from '../../datasets/store.js';

export async function runDataDownloadJob(req: DataDownloadRequest, ctx: JobContext): Promise<InstalledDataset> {
  try {
    return await downloadDataset(req.name, {
      home: ctx.home, acceptLicence: req.acceptLicence, signal: ctx.signal,
      onProgress: (p) => ctx.progress({
        phase: `downloading ${p.file} (${p.fileIndex + 1}/${p.fileCount})`, done: p.overallDone, total: p.overallTotal ?? p.bytesTotal ?? 0,
        rate: p.bytesPerSecond, rateUnit: 'bytes/s',
        etaSeconds: p.overallTotal !== undefined && p.bytesPerSecond > 0 ? (p.overallTotal - p.overallDone) / p.bytesPerSecond : null,
      }),
    });
  } catch (e) {
    if (e instanceof DatasetError) throw new ApiError(e.code === 'unknown' ? 'not_found' : 'bad_request', e.message, e.code === 'licence' ? 'acceptLicence' : 'name');
    if (ctx.signal.aborted) throw new DOMException('download cancelled', 'AbortError');
    throw e;
  }
}
