// Public data sets: the registry's entries are pinned and checksummed, and downloads run against
// a local HTTP server that serves the same paths (node:http on 127.0.0.1) with the genuine files
// from ../shared (the NetSurfP CSVs there are byte-identical to the pinned upstream files, so the
// registry's recorded sha256s are checked for real). Licence agreement, progress, an interrupted
// transfer resumed with Range, cancel then resume, a corrupted file refused, and the CLI.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDataFile } from '../../src-main/engine/data/detect.js';
import { DatasetError, downloadDataset, listDatasetSpecs, listDatasets, type DatasetProgress } from '../../src-main/engine/datasets/store.js';
import { DownloadError } from '../../src-main/engine/models/hub.js';
import { type DataServer, LOCAL_DATA as LOCAL, startDataServer } from '../helpers/data-server.js';
import { REPO } from '../helpers/paths.js';

const sha256 = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
let server: DataServer;
let home: string;
beforeAll(async () => {
  server = await startDataServer();
  home = mkdtempSync(path.join(os.tmpdir(), 'plmw-data-'));
});
afterAll(async () => {
  await server.close();
  rmSync(home, { recursive: true, force: true });
});

describe('the data set registry', () => {
  it('pins every file to a commit and records a checksum and a licence for every set', () => {
    const sets = listDatasetSpecs();
    expect(sets.map((s) => s.name)).toEqual(expect.arrayContaining(['netsurfp2-train', 'netsurfp2-cb513', 'netsurfp2-ts115', 'netsurfp2-casp12', 'signalp6-train']));
    for (const s of sets) {
      expect(s.licence.name.length, s.name).toBeGreaterThan(2);
      expect(s.licence.url).toMatch(/^https:\/\//);
      for (const f of s.files) {
        expect(f.url, f.name).toMatch(/^https:\/\/raw\.githubusercontent\.com\/[^/]+\/[^/]+\/[0-9a-f]{40}\//);
        expect(f.sha256 ?? f.gitSha1, f.name).toMatch(/^[0-9a-f]{40,64}$/);
      }
    }
    // SignalP 6.0's data is not open: it is only fetched after the licence is accepted
    expect(sets.find((s) => s.name === 'signalp6-train')!.licence).toMatchObject({ open: false, name: expect.stringMatching(/BY-NC-ND/) });
  });
});

describe('downloading a data set', () => {
  it('refuses a set whose licence is not open until it is accepted, and writes nothing', async () => {
    await expect(downloadDataset('netsurfp2-casp12', { home, mirror: server.url })).rejects.toThrow(DatasetError);
    await expect(downloadDataset('netsurfp2-casp12', { home, mirror: server.url })).rejects.toThrow(/research and educational use[\s\S]*Accept the licence/);
    expect(existsSync(path.join(home, 'data', 'netsurfp2-casp12'))).toBe(false);
    await expect(downloadDataset('no-such-set', { home })).rejects.toThrow(/unknown data set 'no-such-set'/);
  });

  it('downloads with progress, checks the recorded sha256 and records the accepted licence', async () => {
    const progress: DatasetProgress[] = [];
    const d = await downloadDataset('netsurfp2-casp12', { home, mirror: server.url, acceptLicence: true, onProgress: (p) => progress.push(p) });
    const file = path.join(home, 'data', 'netsurfp2-casp12', 'CASP12_HHblits.csv');
    expect(d.files).toEqual([{ name: 'CASP12_HHblits.csv', path: file, size: statSync(LOCAL['CASP12_HHblits.csv']).size, sha256: sha256(LOCAL['CASP12_HHblits.csv']), verified: 'sha256' }]);
    expect(d.licenceAcceptedAt).toMatch(/^\d{4}-/);
    expect(progress.at(-1)).toMatchObject({ overallDone: d.files[0].size, overallTotal: d.files[0].size });
    expect(server.log.at(-1)!.path).toBe('/XinshaoAmosWang/DeepCriticalLearning/3df42ac1ac3e21266a6e3c0945cd2723f8b7d6b3/dataset/CASP12_HHblits.csv');
    // the file is a data set the trainer reads
    const parsed = await readDataFile(file);
    expect(parsed.format).toBe('netsurfp-csv');
    expect(parsed.result.records.length).toBeGreaterThan(10);
    expect(listDatasets(home).sets.find((s) => s.name === 'netsurfp2-casp12')!.installed?.dir).toBe(path.dirname(file));
    // an installed set is not fetched again
    const before = server.log.length;
    await downloadDataset('netsurfp2-casp12', { home, mirror: server.url, acceptLicence: true });
    expect(server.log.length).toBe(before);
  });

  it('resumes an interrupted transfer with a Range request', async () => {
    server.dropAfter = 100_000;
    const d = await downloadDataset('netsurfp2-ts115', { home, mirror: server.url, acceptLicence: true });
    expect(d.files[0].sha256).toBe(sha256(LOCAL['TS115_HHblits.csv']));
    expect(server.log.slice(-2).map((l) => l.range)).toEqual([undefined, 'bytes=100000-']);
  });

  it('keeps a cancelled download as a partial file and resumes it next time', async () => {
    server.slow = { chunk: 64 * 1024, ms: 30 };
    const ctrl = new AbortController();
    const err = await downloadDataset('netsurfp2-cb513', {
      home, mirror: server.url, acceptLicence: true, signal: ctrl.signal,
      onProgress: (p) => p.bytesDone > 300_000 && ctrl.abort(),
    }).catch((e: unknown) => e);
    server.slow = undefined;
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as DownloadError).code).toBe('cancelled');
    const listed = listDatasets(home).sets.find((s) => s.name === 'netsurfp2-cb513')!;
    expect(listed.installed).toBeUndefined();
    expect(listed.partialBytes).toBeGreaterThan(300_000);
    const d = await downloadDataset('netsurfp2-cb513', { home, mirror: server.url, acceptLicence: true });
    expect(server.log.at(-1)!.range).toBe(`bytes=${listed.partialBytes}-`);
    expect(d.files[0].sha256).toBe(sha256(LOCAL['CB513_HHblits.csv']));
  });

  it('deletes a file that fails its checksum', async () => {
    const other = mkdtempSync(path.join(os.tmpdir(), 'plmw-data-bad-'));
    server.corrupt = true;
    try {
      const err = await downloadDataset('netsurfp2-casp12', { home: other, mirror: server.url, acceptLicence: true, retries: 0 }).catch((e: unknown) => e);
      expect((err as DownloadError).code).toBe('checksum');
      expect(readdirSync(path.join(other, 'data', 'netsurfp2-casp12'))).toEqual([]);
    } finally {
      server.corrupt = false;
      rmSync(other, { recursive: true, force: true });
    }
  });
});

describe('plmw data', () => {
  // asynchronous: the server answering the CLI runs in this process
  const plmw = (h: string, ...args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', 'data', ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, PLMW_HOME: h, PLMW_DATA_MIRROR: server.url } }, (e, stdout, stderr) =>
        resolve({ status: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr }),
      );
    });

  it('shows the licence and needs --accept-licence, then downloads and lists the set as installed', async () => {
    const h = mkdtempSync(path.join(os.tmpdir(), 'plmw-data-cli-'));
    try {
      const refused = await plmw(h, 'download', 'netsurfp2-casp12');
      expect(refused.status).toBe(2);
      expect(refused.stderr).toMatch(/licence: NetSurfP-2.0 data: research and educational use/);
      expect(refused.stderr).toMatch(/run again with --accept-licence/);
      const ok = await plmw(h, 'download', 'netsurfp2-casp12', '--accept-licence');
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/CASP12_HHblits\.csv \(0\.10 MB, sha256 verified\)/);
      const list = await plmw(h, 'list');
      expect(list.stdout).toMatch(/netsurfp2-casp12 +SS test +0\.10 MB {2}installed/);
      expect(list.stdout).toMatch(/signalp6-train[\s\S]*licence: Creative Commons Attribution-NonCommercial-NoDerivs 2\.0 Generic \(CC BY-NC-ND 2\.0\) \(needs --accept-licence\)/);
      expect((await plmw(h, 'download', 'nope')).status).toBe(2);
    } finally {
      rmSync(h, { recursive: true, force: true });
    }
  });
});
