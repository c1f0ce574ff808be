// One engine, three fronts: `plmw infer` and the browser-mode API `infer` job, given the same
// FASTA and model, write byte-identical files.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiService } from '../../src-main/api/service.js';
import { readSafetensors } from '../../src-main/engine/esm2/safetensors.js';
import { JobQueue } from '../../src-main/engine/jobs/queue.js';
import { startWebServer } from '../../src-main/server/server.js';
import { fixtureModel, REPO } from '../helpers/paths.js';
import { events, post } from './helpers.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'plmw-parity-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('CLI and browser mode', () => {
  it('write byte-identical infer outputs for the same request', async () => {
    const model = fixtureModel('tiny');
    const fasta = path.join(tmp, 'in.fasta');
    writeFileSync(
      fasta,
      [
        '>p1 short one\nMKTAYIAKQRQISFVKSHFSRQ\n',
        '>p2 lowercase, folded\nmdsklvvlgaagg\n',
        // Longer than the 20-residue window below: exercises the long-sequence rule and its metadata.
        '>p3 long\nMSEQNNTEMTFQIQRIYTKDISFEAPNAPHVFQKDWQPEVKLDLDTASSQLADDVYEVVLRVTVTASLGEETAFLCEVQQGGIFSIAGIEGTQMAHCLGAYCPNILFPYARECITSMVSRGTFPQLNLAPVNFDALFMNYLQQQAGEGTEEHQDA\n',
        '>p4\nGSHMLEDPVDAFQNL*\n',
      ].join(''),
    );
    const emit = ['logits', 'representations', 'attentions', 'contacts'];

    const cliOut = path.join(tmp, 'cli.safetensors');
    const cli = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src-main/cli/main.ts', 'infer', '--model', model, '--fasta', fasta, '--out', cliOut, '--emit', emit.join(','), '--repr-layers', 'all', '--provider', 'cpu', '--window', '20', '--overlap', '5'],
      { cwd: REPO, encoding: 'utf8' },
    );
    expect(cli.status, cli.stderr).toBe(0);

    const jobs = new JobQueue();
    const service = new ApiService({ front: 'web', jobs, home: tmp });
    const server = await startWebServer({ service });
    try {
      const sse = await events(server.port, server.token);
      const webOut = path.join(tmp, 'web.safetensors');
      const r = await post(server.port, 'infer', { model, fasta, out: webOut, emit, reprLayers: [0, 1, 2], providers: ['cpu'], window: 20, overlap: 5 }, server.token);
      expect(r.status, r.body).toBe(200);
      const { jobId } = r.json<{ result: { jobId: string } }>().result;
      const end = await sse.until((e) => (e.type === 'job.done' || e.type === 'job.failed') && e.jobId === jobId);
      sse.close();
      expect(end.type, JSON.stringify(end)).toBe('job.done');
      expect(end).toMatchObject({ result: { sequences: 4, longSequences: ['p1', 'p3'], provider: 'cpu' } });

      const a = readFileSync(cliOut);
      const b = readFileSync(webOut);
      expect(b.length).toBe(a.length);
      expect(b.equals(a)).toBe(true);
      const file = readSafetensors(webOut);
      expect(file.tensors.size).toBe(4 * (1 + 3 + 1 + 1)); // logits, representations.0..2, attentions, contacts
      expect(JSON.parse(file.metadata['p3/long_sequence']).window).toBe(20);
      expect(file.metadata.provider).toBe('cpu');
    } finally {
      await server.close();
      await jobs.close();
    }
  });
});
