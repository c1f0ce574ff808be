// jobs.list gives summaries only, whatever the results weigh; a result is fetched by job id; the
// queue keeps results within a byte budget (newest first) and says so for one it let go.
import { afterAll, describe, expect, it } from 'vitest';
import { ApiService } from '../../src-main/api/service.js';
import { JobQueue } from '../../src-main/engine/jobs/queue.js';

const queues: JobQueue[] = [];
afterAll(async () => Promise.all(queues.map((q) => q.close())));

describe('jobs.list and jobs.result', () => {
  it('lists 200 kept jobs in under 100 KB while their results weigh 10 MB, and fetches each result by id', async () => {
    const jobs = new JobQueue({ diagnostics: true, progressIntervalMs: 1000 });
    queues.push(jobs);
    const api = new ApiService({ front: 'cli', jobs });
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push(((await api.call('selftest', { ms: 0, steps: 1, payloadBytes: 50_000 })) as { jobId: string }).jobId);
    for (const id of ids) expect((await jobs.wait(id)).state).toBe('done');
    const list = await api.call('jobs.list', {});
    const bytes = Buffer.byteLength(JSON.stringify(list));
    console.log(`jobs.list of ${list.jobs.length} finished jobs (results 200 x 50 KB): ${bytes} bytes`);
    expect(list.jobs).toHaveLength(200);
    expect(bytes).toBeLessThan(100 * 1024);
    expect(list.jobs.every((j) => !('result' in j) && j.state === 'done' && j.resultBytes! > 50_000)).toBe(true);
    const one = await api.call('jobs.result', { jobId: ids[17] });
    expect(one).toMatchObject({ id: ids[17], kind: 'selftest', state: 'done', result: { ms: 0, steps: 1 } });
    expect((one.result as { payload: string }).payload).toHaveLength(50_000);
    await expect(api.call('jobs.result', { jobId: 'nope' })).rejects.toMatchObject({ code: 'not_found' });
    api.dispose();
  });

  it('keeps results within its budget, newest first, and says which one it let go', async () => {
    const jobs = new JobQueue({ diagnostics: true, keepResultBytes: 250_000 });
    queues.push(jobs);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(jobs.submit('selftest', { ms: 0, steps: 1, payloadBytes: 100_000 }).id);
    for (const id of ids) await jobs.wait(id);
    // the newest two fit in 250 KB; the three before them are let go
    expect(ids.map((id) => jobs.list().find((j) => j.id === id)!.resultDropped ?? false)).toEqual([true, true, true, false, false]);
    expect(() => jobs.result(ids[0])).toThrow(/the result of job '.*' \(selftest\) is no longer kept: results of older jobs are let go past 250000 bytes; run the job again/);
    expect((jobs.result(ids[4]).result as { payload: string }).payload).toHaveLength(100_000);
    // one result larger than the whole budget is still kept while it is the newest
    const big = jobs.submit('selftest', { ms: 0, steps: 1, payloadBytes: 400_000 }).id;
    await jobs.wait(big);
    expect((jobs.result(big).result as { payload: string }).payload).toHaveLength(400_000);
    expect(() => jobs.result(ids[4])).toThrow(/no longer kept/);
  });
});
