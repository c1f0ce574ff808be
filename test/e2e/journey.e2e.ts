// A biologist's session through the workbench in a real browser: Debian's Chromium (driven by
// playwright-core, no browser download) against the browser mode (`npm run web`) on the fixture
// models, offline. The first-start checklist to a first prediction with the bundled samples;
// FASTA with SignalP-style, plain and mixed headers through secondary-structure and
// signal-peptide prediction; training with checked numbers, a reload in the middle of a run and
// after a prediction; NetSurfP-style and SignalP-style result views; TensorBoard-style curves
// overlaid in Compare; exports; the annotated structure in 3D; public training data behind its
// licence. Each numbered defect of the first field report has an assertion here (marked "#N").
// Screenshots of every view at 1280x800 and 1024x700 go to test/e2e/screenshots/.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src-main/engine/export/csv.js';
import { SP_COLORS } from '../../src-renderer/src/lib/colors.js';
import { type DataServer, startDataServer } from '../helpers/data-server.js';
import { REPO, fixtureModel, shared } from '../helpers/paths.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(REPO, 'test', 'e2e', 'screenshots');
const SAMPLES = path.join(REPO, 'resources', 'samples');
let tmp: string;
let server: ChildProcess;
let data: DataServer;
let url: string;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
/** API calls the page made that were answered with an error status */
const failedCalls: { method: string; status: number; request: string }[] = [];

function liftSs(file: string, n: number, maxLen: number): string {
  const text = readFileSync(shared('data', 'secondary-structure', 'lift_ss', file), 'utf8');
  return text.split('>').slice(1).map((r) => `>${r}`).filter((r) => r.split('\n')[1].trim().length <= maxLen).slice(0, n).join('');
}

const FASTA = [
  '>ubiquitin human ubiquitin',
  'MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG',
  '>lysozyme lowercase and a stop codon',
  'kvfgrcelaaamkrhgldnyrgyslgnwvcaakfesnfntqatnrntdgstdygilqinsrwwcndgrtpgsrnlcnipcsallssditasvncakkivsdgngmnawvawrnrckgtdvqawirgcrl*',
  '>broken contains digits',
  'MKV1234LLA',
  '',
].join('\n');

/** SignalP-style headers (one 3-line record with its label line) and a plain one, in one file. */
const SIGNALP_RECORDS = readFileSync(shared('data', 'signalp6', 'small_dataset_20.partitions-0-1.fasta'), 'utf8').trim().split('\n');
const sp3 = (k: number) => SIGNALP_RECORDS.slice(3 * k, 3 * k + 3);
const MIXED = [
  ...sp3(40), // 3-line record: header, sequence, labels
  ...sp3(120).slice(0, 2), // header and sequence only
  ...sp3(300).slice(0, 2),
  '>plain_lysozyme human lysozyme C, a plain header',
  'MKALIVLGLVLLSVTVQGKVFERCELARTLKRLGMDGYRGISLANWMCLAKWESGYNTRATNYNAGDRSTDYGIFQINSRYWCNDGKTPGAVNACHLSCSALLQDNIADAVACAKRVVRDPQGIRAWVAWRNRCQNRDVRQYVQGCGV',
  '',
].join('\n');
const MIXED_IDS = MIXED.split('\n').filter((l) => l.startsWith('>')).map((l) => l.slice(1).split(' ')[0]);

async function startServer(home: string): Promise<string> {
  const tsx = path.join(REPO, 'node_modules', '.bin', 'tsx');
  server = spawn(tsx, ['src-main/server/main.ts', '--no-open', '--home', home], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PLMW_HOME: home, PLMW_DATA_MIRROR: data.url } });
  let err = '';
  server.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${err}`)), 120_000);
    server.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`the server exited (${code}): ${err}`)));
  });
}

const view = async (name: string) => {
  await page.getByRole('tab', { name, exact: true }).click();
  await page.locator(`main[data-view="${name.toLowerCase()}"]`).waitFor();
};
/** every session save the page started has reached the data folder */
const sessionSaved = () => expect.poll(() => page.getByTestId('session-state').getAttribute('data-pending'), { timeout: 10_000 }).toBe('0');
const reload = async () => {
  await sessionSaved();
  await page.reload();
  await page.locator('main[data-view]').waitFor({ timeout: 30_000 });
};
const text = (testId: string) => page.getByTestId(testId).innerText();
/** how far the page is wider than the window, and the outermost elements that stick out */
const overflowOf = () =>
  page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const over = [...document.querySelectorAll('main *')].filter((e) => e.getBoundingClientRect().right > w + 0.5 && !e.parentElement?.closest('.scroll, .figure-body, .panel'));
    return { by: document.documentElement.scrollWidth - w, what: over.slice(0, 5).map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}`) };
  });

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh (npm run e2e does)`);
  mkdirSync(SHOTS, { recursive: true });
  tmp = mkdtempSync(path.join(os.tmpdir(), 'plmw-e2e-'));
  data = await startDataServer();
  url = await startServer(path.join(tmp, 'home'));
  context = await chromium.launchPersistentContext(path.join(tmp, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    // WebGL for the 3D view: Chromium renders it with SwiftShader (software) when there is no GPU
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('response', (r) => {
    const m = /\/api\/([^?]+)$/.exec(new URL(r.url()).pathname);
    if (m && r.status() >= 400) failedCalls.push({ method: decodeURIComponent(m[1]), status: r.status(), request: r.request().postData() ?? '' });
  });
  await page.goto(url);
});

afterAll(async () => {
  await context?.close();
  server?.kill('SIGTERM');
  await data?.close();
  // PLMW_E2E_KEEP=1 keeps the data folder (runs, predictions) for a look afterwards
  if (tmp && !process.env.PLMW_E2E_KEEP) rmSync(tmp, { recursive: true, force: true });
  else if (tmp) console.log(`kept ${tmp}`);
});

describe('a first start', () => {
  it('opens on the checklist with every step to do', async () => {
    await page.locator('main[data-view="start"]').waitFor();
    for (const s of ['model', 'data', 'train', 'predict']) expect(await page.getByTestId(`step-${s}`).getAttribute('data-done')).toBe('false');
    expect(await page.getByTestId('checklist').getAttribute('data-next')).toBe('model');
  });

  it('imports two models; "Make active" moves the Train form and its estimate to the chosen model (#7); removes one', async () => {
    await page.getByTestId('step-model').getByRole('button', { name: 'Get a model' }).click();
    await page.locator('main[data-view="models"]').waitFor();
    for (const [name, dir] of [['tiny', fixtureModel('tiny')], ['small', fixtureModel('small')], ['spare', fixtureModel('tiny')]]) {
      await page.getByLabel('Folder', { exact: true }).fill(dir);
      await page.getByLabel('Name (optional)').fill(name);
      await page.getByRole('button', { name: 'Import' }).click();
      await page.getByText(`Imported ${name} (ready).`).waitFor();
    }
    await page.locator('.model-chip', { hasText: 'tiny' }).waitFor();
    // removal from the page, with a confirmation
    await page.getByRole('button', { name: 'remove spare' }).click();
    await page.getByTestId('confirm-remove-spare').click();
    await page.getByText('Removed spare.').waitFor();
    expect(await page.locator('main table').first().innerText()).not.toMatch(/spare/);

    await view('Train');
    await expect.poll(() => page.getByTestId('train-model').inputValue()).toBe('tiny');
    await page.getByTestId('estimate').getByText(/of 2$/).waitFor(); // the tiny model has 2 blocks
    await view('Models');
    await page.getByTestId('activate-small').click();
    await view('Train');
    expect(await page.getByTestId('train-model').inputValue()).toBe('small'); // #7: the form follows
    await page.getByTestId('estimate').getByText(/of 4$/).waitFor({ timeout: 30_000 }); // #7: and so does the estimate
    await view('Models');
    await page.getByTestId('activate-tiny').click();
  });

  it('walks the checklist with the bundled samples to a first prediction', async () => {
    await view('Start');
    expect(await page.getByTestId('step-model').getAttribute('data-done')).toBe('true');
    await page.getByTestId('start-samples').click();
    await expect.poll(() => page.getByTestId('step-data').getAttribute('data-done')).toBe('true');
    await page.getByTestId('start-first-run').click();
    await page.locator('main[data-view="train"]').waitFor();
    await page.getByTestId('train-result').waitFor({ timeout: 120_000 });
    expect(await text('train-using')).toContain('ss3-train.flip.txt');
    await view('Start');
    expect(await page.getByTestId('step-train').getAttribute('data-done')).toBe('true');
    await page.getByTestId('start-first-prediction').click();
    await page.locator('main[data-view="predict"]').waitFor();
    const table = page.getByTestId('ss-summary');
    await table.waitFor({ timeout: 60_000 });
    expect(await table.locator('tbody tr').count()).toBe(2); // ubiquitin and lysozyme, the sample proteins
    await view('Start');
    expect(await page.getByTestId('step-predict').getAttribute('data-done')).toBe('true');
    expect(await page.getByTestId('checklist').getAttribute('data-next')).toBe('done');
  });
});

describe('sequences', () => {
  it('reads a FASTA with one bad record, and says which file failed without showing its report as another file\'s', async () => {
    await view('Sequences');
    await page.getByTestId('fasta-file').setInputFiles({ name: 'mine.fasta', mimeType: 'text/plain', buffer: Buffer.from(FASTA) });
    const report = page.getByTestId('validation-report');
    await report.getByText('Validation report: mine.fasta').waitFor();
    expect(await page.getByTestId('report-counts').innerText()).toMatch(/2 accepted · 1 rejected · [1-9]\d* changed/);
    const rejected = report.locator('tr[data-kind="rejected"]');
    expect(await rejected.count()).toBe(1);
    expect(await rejected.innerText()).toMatch(/broken[\s\S]*line 6/);
    await page.getByRole('searchbox').fill('lyso');
    expect(await page.getByRole('checkbox', { name: 'select lysozyme' }).count()).toBe(1);
    expect(await page.getByRole('checkbox', { name: 'select ubiquitin' }).count()).toBe(0);
    await page.getByRole('searchbox').fill('');
    // a file that is not FASTA: named, and the report left standing is said to be the earlier file's
    await page.getByTestId('fasta-file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('my notes\n>not a record first\n') });
    const err = page.getByTestId('load-error');
    await err.waitFor();
    expect(await err.innerText()).toMatch(/notes\.txt could not be read[\s\S]*Still loaded: mine\.fasta \(2 records\); the report below is that file's/);
  });

  it('reads SignalP-style, 3-line and plain headers in one file, ids whole', async () => {
    await page.getByTestId('fasta-file').setInputFiles({ name: 'mixed.fasta', mimeType: 'text/plain', buffer: Buffer.from(MIXED) });
    await page.getByTestId('validation-report').getByText('Validation report: mixed.fasta').waitFor();
    expect(await text('report-counts')).toMatch(/^4 accepted · 0 rejected/);
    for (const id of MIXED_IDS) expect(await page.getByRole('checkbox', { name: `select ${id}` }).count()).toBe(1);
  });
});

describe('training', () => {
  it('checks the numbers where they are typed, in the form\'s words, and keeps Start off (#6)', async () => {
    await view('Train');
    await page.getByLabel('secondary structure').check();
    await page.getByLabel('Labels').selectOption('ss8');
    await page.getByTestId('train-file').setInputFiles({ name: 'train.txt', mimeType: 'text/plain', buffer: Buffer.from(liftSs('CB433.txt', 40, 70)) });
    await page.getByTestId('val-file').setInputFiles({ name: 'val.txt', mimeType: 'text/plain', buffer: Buffer.from(liftSs('CASP12.txt', 4, 140)) });
    // the chosen file replaced the sample path: one source, said plainly
    expect(await text('train-using')).toMatch(/^Using: file train\.txt/);
    expect(await page.getByTestId('train-path').inputValue()).toBe('');
    await page.getByTestId('method').selectOption('lora');
    await page.getByLabel('Run name').fill('journey lora');
    await page.getByLabel('epochs').fill('0');
    await page.getByLabel('batch').fill('0');
    await page.getByLabel('learning rate').fill('-0.01');
    const errs = await text('opt-errors');
    expect(errs).toMatch(/epochs: must be at least 1/);
    expect(errs).toMatch(/batch: must be at least 1/);
    expect(errs).toMatch(/learning rate: must be more than 0/);
    expect(errs).not.toMatch(/batchSize|\blr\b/);
    expect(await page.getByTestId('start-training').isDisabled()).toBe(true);
    expect(await page.getByTestId('run-panel').innerText()).not.toMatch(/journey lora/); // nothing shown under the new name
    // a failed pre-check (no such model) keeps Start off too
    // batch 1: 240 steps, a few seconds of training, so that the reload below lands mid-run
    await page.getByLabel('epochs').fill('6');
    await page.getByLabel('batch').fill('1');
    await page.getByLabel('learning rate').fill('0.001');
    await page.getByTestId('train-model').fill('/no/such/model');
    await page.getByTestId('estimate-error').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('start-training').isDisabled()).toBe(true);
    await page.getByTestId('train-model').fill('tiny');
    await page.getByTestId('estimate').getByText('Trainable parameters').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('start-training').isDisabled()).toBe(false);
  });

  it('keeps a run that is training across a reload: its name, live curve and job come back (#4)', async () => {
    // Every state of the job line while the run trains: no "ETA 0.0 s" flash after a validation (#10)
    const watchJobs = () =>
      page.evaluate(() => {
        const seen: string[] = [];
        (window as unknown as { jobTexts: string[] }).jobTexts = seen;
        new MutationObserver(() => {
          for (const j of document.querySelectorAll('.jobs .jobline')) if (seen.at(-1) !== j.textContent) seen.push(j.textContent ?? '');
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
      });
    await watchJobs();
    await page.getByTestId('start-training').click();
    const curve = page.locator('[data-testid="run-panel"] figure[data-tag="train/loss"] g.lines path').nth(1);
    const points = async () => ((await curve.getAttribute('d').catch(() => '')) ?? '').split('L').length - 1;
    await expect.poll(points, { timeout: 60_000 }).toBeGreaterThan(2);
    const before = await points();
    expect(before).toBeLessThan(239); // still training
    await reload();
    await view('Train');
    // the run panel follows the same run, by name, still running, and its curve goes on from the rows on disk
    await page.getByTestId('run-panel').getByText('Run journey lora').waitFor();
    expect(await text('run-status')).toBe('running');
    // its job line, once the page has asked which jobs still run (the run panel can come back first)
    await expect.poll(() => page.locator('.jobs .jobline', { hasText: 'train journey lora' }).count(), { timeout: 10_000 }).toBe(1);
    expect(await page.locator('.jobs .jobline').count()).toBe(1); // and no phantom estimate job
    await expect.poll(points, { timeout: 30_000 }).toBeGreaterThanOrEqual(before);
    await watchJobs();
    // the form came back as it was
    expect(await page.getByLabel('Run name').inputValue()).toBe('journey lora');
    expect(await page.getByLabel('epochs').inputValue()).toBe('6');
    await page.getByTestId('train-result').waitFor({ timeout: 120_000 });
    expect(await points()).toBe(240 - 1); // 40 sequences, batch 1, 6 epochs: every step
    const seen = await page.evaluate(() => (window as unknown as { jobTexts: string[] }).jobTexts);
    // (the last validation, with no step left, is the one place an ETA of 0 is true)
    const flashes = seen.filter((t) => /validated/.test(t) && /ETA 0\.0 s/.test(t) && !/(\d+)\/\1\b/.test(t));
    expect(flashes).toEqual([]);
    // the sequences loaded before the reload are still there
    await view('Sequences');
    expect(await text('selected-count')).toBe('4 of 4 selected');
    await page.locator('main[data-view="sequences"] h3', { hasText: 'Validation report: mixed.fasta' }).waitFor();
  });

  it('trains a second run with another method, and reopens a past run with its curves, metrics and configuration', async () => {
    await view('Train');
    await page.getByTestId('method').selectOption('ia3');
    await page.getByLabel('Run name').fill('journey ia3');
    await page.getByLabel('epochs').fill('2');
    await page.getByTestId('start-training').click();
    await page.getByTestId('train-result').waitFor({ timeout: 120_000 });
    await expect.poll(async () => (await text('train-result')).length).toBeGreaterThan(10);
    const past = page.getByTestId('past-run');
    await past.selectOption({ label: (await past.locator('option').allInnerTexts()).find((t) => t.startsWith('journey lora'))! });
    await page.getByTestId('open-past').click();
    await page.getByTestId('run-panel').getByText('Run journey lora').waitFor();
    expect(await text('run-status')).toBe('completed');
    expect(await text('run-final')).toMatch(/Q8 \(8-state accuracy\)\s+\d\.\d{4}/);
    expect(await text('run-config')).toMatch(/method\s+name=lora/);
    expect(await page.locator('[data-testid="run-panel"] figure[data-tag="val/q8"]').count()).toBe(1);
    // metric names are words, not keys
    expect(await page.locator('[data-testid="run-panel"] figure[data-tag="val/q8"] figcaption').innerText()).toMatch(/validation Q8 \(8-state accuracy\)/);
  });
});

describe('secondary-structure prediction', () => {
  it('predicts a file with SignalP-style and plain headers (#1), with progress that moves (#10)', async () => {
    await view('Predict');
    const runSelect = page.getByTestId('predict-run');
    await runSelect.selectOption({ label: (await runSelect.locator('option').allInnerTexts()).find((t) => t.startsWith('journey lora'))! });
    await page.getByTestId('predict-button').click();
    const table = page.getByTestId('ss-summary');
    await table.locator(`tbody tr[data-id="${MIXED_IDS[0]}"]`).waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('predict-error').count()).toBe(0);
    expect(await table.locator('tbody tr').count()).toBe(4);
    expect(await page.getByTestId('result-title').innerText()).toMatch(/run journey lora \(ss-ss8\), 4 sequence\(s\)/);
  });

  it('says which SS3 rule each column follows and shows both when they differ (#5)', async () => {
    expect(await text('ss3-rule')).toMatch(/SS3 follows the SS8 call mapped to 3 states/);
    const table = page.getByTestId('residue-table');
    expect(await table.locator('thead').innerText()).toMatch(/SS3 \(SS8 call\)[\s\S]*SS3 \(argmax p3\)/);
    // where the rules differ (if anywhere), the tracks draw the second one too
    const differ = /differs at (\d+) of/.exec(await text('ss3-rule'));
    expect(await page.locator('.track-chart .track-glyph3').count()).toBe(differ ? 1 : 0);
  });

  it('has one compact row per protein, sortable, and a per-residue table that sorts and filters', async () => {
    const table = page.getByTestId('ss-summary');
    await table.getByRole('button', { name: 'Length' }).click();
    const lengths = async () => (await table.locator('tbody tr td:nth-child(2)').allInnerTexts()).map(Number);
    expect(await lengths()).toEqual([...(await lengths())].sort((a, b) => a - b));
    await table.getByRole('button', { name: 'Length' }).click();
    expect(await lengths()).toEqual([...(await lengths())].sort((a, b) => b - a));
    expect(await table.locator('svg.strip').count()).toBe(4);
    await table.locator('tbody tr[data-id="plain_lysozyme"] button').click();
    await page.locator('figcaption', { hasText: 'Per-residue tracks: plain_lysozyme' }).waitFor();
    const residues = page.getByTestId('residue-table');
    expect(await text('residue-count')).toBe('148 of 148 residues');
    await page.getByTestId('residue-class').selectOption('H');
    const shown = Number(/^(\d+) of/.exec(await text('residue-count'))![1]);
    expect(await residues.locator('tbody tr').count()).toBe(Math.min(400, shown));
    for (const c of (await residues.locator('tbody tr td:nth-child(4)').allInnerTexts()).slice(0, 20)) expect(c.trim()).toBe('H');
    await page.getByTestId('residue-class').selectOption('');
    await residues.getByRole('button', { name: 'Confidence' }).click();
    const conf = (await residues.locator('tbody tr td:last-child').allInnerTexts()).map(Number);
    expect(conf).toEqual([...conf].sort((a, b) => a - b));
  });

  it('keeps zoomed tracks inside their plotting area, whichever sequence is shown (#3)', async () => {
    // switch sequences, then zoom in far enough for letters (the old clip path was named after the first sequence)
    await page.getByRole('combobox', { name: 'Sequence shown in the tracks' }).selectOption(MIXED_IDS[1]);
    await page.getByRole('combobox', { name: 'Sequence shown in the tracks' }).selectOption('plain_lysozyme');
    const tracks = page.locator('.track-chart rect.overlay-zoom');
    await tracks.focus();
    for (let k = 0; k < 4; k++) await page.keyboard.press('+');
    for (let k = 0; k < 30; k++) await page.keyboard.press('ArrowRight');
    const clip = await page.evaluate(() => {
      const svg = document.querySelector('.track-chart svg')!;
      return [...svg.querySelectorAll('g.track g.content')].map((g) => {
        const ref = /url\(#([^)]+)\)/.exec(g.getAttribute('clip-path') ?? '')?.[1];
        const el = ref ? svg.querySelector(`clipPath[id="${ref}"] rect`) : null;
        return { ref, found: !!el, width: Number(el?.getAttribute('width') ?? 0) };
      });
    });
    expect(clip.length).toBeGreaterThanOrEqual(4);
    const inner = await page.locator('.track-chart rect.overlay-zoom').getAttribute('width');
    for (const c of clip) expect(c).toEqual({ ref: expect.any(String), found: true, width: Number(inner) });
    // and nothing drawn can be hit in the label column left of the plotting area
    const hits = await page.evaluate(() => {
      const svg = document.querySelector('.track-chart svg')!;
      const box = svg.querySelector('rect.overlay-zoom')!.getBoundingClientRect();
      const out: string[] = [];
      for (const g of svg.querySelectorAll('g.track')) {
        const r = g.getBoundingClientRect();
        for (let x = box.left - 100; x < box.left - 4; x += 6) {
          const el = document.elementFromPoint(x, r.top + r.height / 2);
          if (el && el.closest('g.content')) out.push(el.tagName);
        }
      }
      return out;
    });
    expect(hits).toEqual([]);
  });
});

describe('signal peptides', () => {
  it('trains a signal-peptide run on the bundled samples', async () => {
    await view('Train');
    await page.getByLabel('signal peptides').check();
    await page.getByTestId('use-samples').click();
    expect(await text('train-using')).toContain('sp-train.signalp.fasta');
    await page.getByTestId('method').selectOption('probe');
    await page.getByLabel('Run name').fill('journey sp');
    await page.getByLabel('epochs').fill('1');
    await page.getByLabel('batch').fill('6');
    await page.getByTestId('start-training').click();
    await page.getByTestId('train-result').getByText(/best MCC2/).waitFor({ timeout: 120_000 });
  });

  it('predicts SignalP-headed records with their tracks (#2), says the header kingdoms are used (#9), and agrees with itself (#8)', async () => {
    await view('Predict');
    const runSelect = page.getByTestId('predict-run');
    await runSelect.selectOption({ label: (await runSelect.locator('option').allInnerTexts()).find((t) => t.startsWith('journey sp'))! });
    await page.getByTestId('predict-kingdom').selectOption('POSITIVE');
    const note = await text('kingdom-note');
    expect(note).toMatch(/3 of the 4 selected sequences name their kingdom in the header/);
    expect(note).toMatch(/the kingdom chosen above applies to the other 1/);
    await page.getByTestId('predict-button').click();
    const table = page.getByTestId('sp-summary');
    await table.waitFor({ timeout: 60_000 });
    expect(await table.locator('tbody tr').count()).toBe(4);
    const hinted = MIXED_IDS[0];
    expect(await table.locator(`tr[data-id="${hinted}"]`).innerText()).toContain(`${hinted.split('|')[1]} from the header`);
    expect(await table.locator('tr[data-id="plain_lysozyme"]').innerText()).toMatch(/POSITIVE chosen/);
    // the SignalP-headed record's tracks are drawn (#2)
    await table.locator(`tr[data-id="${hinted}"] button`).click();
    await page.locator('figcaption', { hasText: `Per-residue tracks: ${hinted}` }).waitFor();
    expect(await page.locator('.track-chart .hint').innerText()).not.toMatch(/of 0\b/);
    expect(await page.locator('.track-chart .track-spregion rect').count()).toBeGreaterThan(0);
    // #8: the type, the region letters and the cleavage site agree in every row
    const sum = await page.evaluate(() => [...document.querySelectorAll('[data-testid="sp-summary"] tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? '')));
    for (const row of sum) {
      const [, , prediction, , , , , , , cs] = row;
      if (/^Other/.test(prediction)) expect(cs).toBe('–');
      else if (cs !== '–') {
        expect(cs).toMatch(/^CS pos: \d+-\d+\. Pr: \d\.\d{4}$/);
        // never at the last residue read (70): a signal peptide that runs to the end has no site inside the window
        expect(Number(/CS pos: (\d+)/.exec(cs)![1])).toBeLessThan(70);
      }
    }
    for (const id of MIXED_IDS) {
      await table.locator(`tr[data-id="${id}"] button`).click();
      await page.locator('figcaption', { hasText: `Per-residue tracks: ${id}` }).waitFor();
      const headline = await text('sp-headline');
      const fills = await page.evaluate(() => [...document.querySelectorAll('.track-chart .track-spregion rect')].map((r) => r.getAttribute('fill') ?? ''));
      const letters = new Set(fills.map((f) => Object.entries(SP_COLORS).find(([, c]) => c === f)?.[0] ?? '?'));
      const csMarkers = await page.locator('.track-chart .cs-marker').count();
      expect(fills.length).toBeGreaterThan(0);
      // the region path's signal-peptide letters are the predicted type's own, and no other type's
      const own = /^Other/.test(headline) ? '' : /^Sec\/SPI /.test(headline) ? 'S' : /^Sec\/SPII/.test(headline) ? 'L' : /^Tat/.test(headline) ? 'T' : /^Sec\/SPIII/.test(headline) ? 'P' : '?';
      for (const l of letters) expect(`${id}: ${l}`).toMatch(new RegExp(`: [IMO${own}]$`));
      if (own === '') {
        expect(csMarkers).toBe(0);
        expect(headline).toMatch(/no cleavage site/);
      } else expect(letters.has(own)).toBe(true);
      // one cleavage-site label, in SignalP's words, the same in the plot and the table
      const plotLabel = await page.locator('.track-chart .cs-label').allTextContents();
      const row = sum.find((r) => r[0] === id)!;
      if (row[9] !== '–') expect(plotLabel).toEqual([row[9].replace(/\. Pr: .*$/, '')]);
    }
  });

  it('shows the batch summary per type and kingdom, sorts the table, and plots region and cleavage-site probabilities', async () => {
    const batch = page.getByTestId('sp-batch-summary');
    const totalRow = await batch.locator('tr.total').innerText();
    expect(totalRow).toMatch(/All[\s\S]*4$/);
    const kingdoms = await batch.locator('tbody tr[data-kingdom]').evaluateAll((trs) => trs.map((t) => t.getAttribute('data-kingdom')));
    expect(kingdoms).toEqual([...new Set([...MIXED_IDS.slice(0, 3).map((id) => id.split('|')[1]), 'POSITIVE'])].sort());
    const table = page.getByTestId('sp-summary');
    await table.getByRole('button', { name: 'OTHER' }).click();
    const other = (await table.locator('tbody tr td:nth-child(4)').allInnerTexts()).map(Number);
    expect(other).toEqual([...other].sort((a, b) => a - b));
    const plot = page.getByTestId('sp-region-plot');
    expect(await plot.locator('path.curve').count()).toBeGreaterThanOrEqual(3); // regions, other, cleavage site
    expect(await plot.locator('path.curve-cs').count()).toBe(1);
    expect(await plot.locator('path.curve-other').count()).toBe(1);
    // the signal-peptide side of Predict, at both sizes
    for (const [w, h] of [[1280, 800], [1024, 700]]) {
      await page.setViewportSize({ width: w, height: h });
      await page.waitForTimeout(300);
      expect(await overflowOf(), `signal-peptide results at ${w}`).toEqual({ by: 0, what: [] });
      await page.screenshot({ path: path.join(SHOTS, `predict-sp-${w}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('writes a printable per-protein report (SVG with the plot and the numbers; PDF)', async () => {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('report-svg').click()]);
    const file = path.join(tmp, 'report.svg');
    await dl.saveAs(file);
    const svg = readFileSync(file, 'utf8');
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg).toMatch(/Prediction: /);
    expect(svg).toMatch(/Type probabilities: OTHER \d\.\d{4}, SP \d\.\d{4}/);
    expect(svg).toMatch(/class="curve curve-cs"/);
    // the button prepares the print layout and opens the browser's print dialog (stubbed here: a
    // headless browser prints through page.pdf, which renders the same print layout)
    await page.evaluate(() => {
      window.print = () => ((window as unknown as { printed: boolean }).printed = true);
    });
    await page.getByTestId('report-print').click();
    await expect.poll(() => page.evaluate(() => (window as unknown as { printed?: boolean }).printed)).toBe(true);
    expect(await page.locator('.print-report img').getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
    expect(await page.locator('.print-report').textContent()).toMatch(/Prediction: [\s\S]*Type probabilities: /);
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.length).toBeGreaterThan(5000);
  });
});

describe('a reload after predicting', () => {
  it('reopens the same prediction, and the kept predictions are listed with their time and run (#4)', async () => {
    const title = await text('result-title');
    const shownId = (await page.locator('figcaption', { hasText: 'Per-residue tracks:' }).innerText()).replace(/^.*tracks: (\S+)[\s\S]*$/, '$1');
    await reload();
    await view('Predict');
    expect(await text('result-title')).toBe(title);
    await page.locator('figcaption', { hasText: `Per-residue tracks: ${shownId}` }).waitFor();
    const kept = await page.getByTestId('kept-predictions').locator('option').allInnerTexts();
    expect(kept.filter((k) => /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d · /.test(k)).length).toBeGreaterThanOrEqual(3);
    expect(kept.some((k) => /journey sp · 4 sequence\(s\)/.test(k))).toBe(true);
    expect(kept.some((k) => /journey lora · 4 sequence\(s\)/.test(k))).toBe(true);
  });
});

describe('attention', () => {
  it('shows the base model and a fine-tuned run side by side; one thumbnail per head is the picker', async () => {
    await view('Attention');
    await page.getByTestId('attention-run').selectOption({ index: 1 });
    await page.getByTestId('attention-seq').selectOption(MIXED_IDS[1]);
    await page.getByRole('button', { name: 'Show attention' }).click();
    await page.locator('.attention-panel').nth(1).waitFor({ timeout: 60_000 });
    expect(await page.locator('.attention-panel').count()).toBe(2);
    const panel = page.locator('.attention-panel').first();
    expect(await panel.locator('.grid-buttons button').count()).toBe(0);
    expect(await panel.getByRole('button', { name: /^L\d·h\d$/ }).count()).toBe(2 * 4); // tiny: 2 layers x 4 heads
    await panel.getByRole('button', { name: 'L2·h3' }).click();
    await page.getByText('Layer 2, head 3', { exact: false }).first().waitFor();
    expect(await panel.locator('.contact-legend').innerText()).toMatch(/contact probability:[\s\S]*0\.00[\s\S]*1\.00/);
  });
});

describe('compare', () => {
  it('lists the runs of one task, overlays their curves, and renames one', async () => {
    await view('Compare');
    await page.getByTestId('compare-task-ss').check();
    const listed = await page.getByTestId('compare-runs').locator('tbody tr').count();
    expect(listed).toBe(3); // the first run, journey lora, journey ia3; not the signal-peptide run
    expect(await page.getByTestId('compare-runs').innerText()).not.toMatch(/journey sp/);
    await page.getByRole('checkbox', { name: /compare journey lora/ }).check();
    await page.getByRole('checkbox', { name: /compare journey ia3/ }).check();
    await page.getByTestId('compare-button').click();
    const table = page.getByTestId('compare-table');
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBe(2);
    expect(await table.locator('thead').innerText()).toMatch(/Q8/);
    await expect.poll(async () => page.locator('figure', { hasText: 'vs' }).locator('g.pt').count()).toBe(2);
    await expect.poll(async () => page.locator('figure', { hasText: 'Per-class' }).locator('g.bars rect').count()).toBe(16);
    await expect.poll(() => page.getByTestId('config-diff').innerText()).toMatch(/method\.name/); // the two run.json files are read after the table
    // both runs overlaid on one loss chart, each smoothed with its raw curve behind
    const loss = page.locator('main[data-view="compare"] figure[data-tag="train/loss"]');
    await expect.poll(() => loss.locator('g.lines path').count()).toBe(4);
    const colours = new Set(await loss.locator('g.lines path').evaluateAll((ps) => ps.map((p) => p.getAttribute('stroke'))));
    expect(colours.size).toBe(2);
    await page.locator('main[data-view="compare"]').getByTestId('log-scale').check();
    await loss.getByText(/\(log scale\)/).waitFor();
    await page.locator('main[data-view="compare"]').getByLabel('wall time').check();
    await loss.getByText('wall time since the run started (s)').first().waitFor();
    const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('main[data-view="compare"]').getByTestId('curves-csv').click()]);
    const csv = parseCsv(readFileSync(await dl.path(), 'utf8'));
    expect(csv[0]).toEqual(['run', 'tag', 'step', 'wall_time_s', 'value']);
    expect(new Set(csv.slice(1).map((r) => r[0]))).toEqual(new Set(['journey lora', 'journey ia3']));
    // the tag and run filters (regular expressions, as in TensorBoard)
    await page.locator('main[data-view="compare"]').getByTestId('tag-filter').fill('q8');
    await expect.poll(() => page.locator('main[data-view="compare"] [data-testid="curves"] figure').count()).toBe(1);
    await page.locator('main[data-view="compare"]').getByTestId('tag-filter').fill('');
    await page.locator('main[data-view="compare"]').getByTestId('run-filter').fill('ia3');
    await expect.poll(() => loss.locator('g.lines path').count()).toBe(2);
    await page.locator('main[data-view="compare"]').getByTestId('run-filter').fill('');
    await page.locator('main[data-view="compare"]').getByTestId('log-scale').uncheck();
    await page.locator('main[data-view="compare"]').getByLabel('step', { exact: true }).check();
    // rename in place
    await page.getByRole('button', { name: 'rename journey ia3' }).click();
    await page.getByRole('textbox', { name: 'new name for journey ia3' }).fill('journey ia3 (2 epochs)');
    await page.getByRole('textbox', { name: 'new name for journey ia3' }).press('Enter');
    await page.getByTestId('compare-runs').getByText('journey ia3 (2 epochs)').waitFor();
    // the comparison shown follows: its table and curves carry the new name
    await expect.poll(() => page.getByTestId('compare-table').innerText()).toMatch(/journey ia3 \(2 epochs\)/);
    // delete in place (the run goes to the store's trash)
    await page.getByRole('button', { name: 'delete journey ia3 (2 epochs)' }).click();
    await page.locator('[data-testid^="confirm-delete-journey-ia3"]').click();
    await expect.poll(() => page.getByTestId('compare-runs').locator('tbody tr').count()).toBe(2);
    expect(await page.getByTestId('compare-runs').innerText()).not.toMatch(/journey ia3/);
    // and the comparison shown drops the deleted run: table rows, curves, scatter points
    await expect.poll(() => page.getByTestId('compare-table').locator('tbody tr').count()).toBe(1);
    expect(await page.getByTestId('compare-table').innerText()).not.toMatch(/journey ia3/);
    await expect.poll(() => loss.locator('g.lines path').count()).toBe(2); // one run: smoothed and raw
    expect(await page.locator('main[data-view="compare"]').innerText()).not.toMatch(/"ia3"/); // no configuration difference with it
    // signal-peptide runs are compared among themselves
    await page.getByTestId('compare-task-sp').check();
    expect(await page.getByTestId('compare-runs').innerText()).toMatch(/journey sp/);
    expect(await page.getByTestId('compare-runs').locator('tbody tr').count()).toBe(1);
    await page.getByTestId('compare-task-ss').check();
  });
});

describe('progress', () => {
  it('moves while a few hundred sequences are predicted, and names each phase (#10)', async () => {
    const text = readFileSync(shared('data', 'secondary-structure', 'lift_ss', 'Test2016.txt'), 'utf8');
    const many = text.split('>').slice(1).slice(0, 300).map((r) => `>${r.split('\n')[0].trim().split(/\s/)[0]}\n${r.split('\n')[1].trim()}\n`).join('');
    await view('Sequences');
    await page.getByTestId('fasta-file').setInputFiles({ name: 'many.fasta', mimeType: 'text/plain', buffer: Buffer.from(many) });
    await page.getByTestId('validation-report').getByText('Validation report: many.fasta').waitFor();
    await view('Predict');
    const runSelect = page.getByTestId('predict-run');
    await runSelect.selectOption({ label: (await runSelect.locator('option').allInnerTexts()).find((t) => t.startsWith('journey lora'))! });
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { progress: string[] }).progress = seen;
      new MutationObserver(() => {
        for (const j of document.querySelectorAll('main .job')) if (seen.at(-1) !== j.textContent) seen.push(j.textContent ?? '');
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByTestId('predict-button').click();
    await page.getByTestId('result-title').getByText(/300 sequence\(s\)/).waitFor({ timeout: 120_000 });
    const seen = await page.evaluate(() => (window as unknown as { progress: string[] }).progress);
    const counts = seen.map((t) => /predicting\s*(\d+)\/300/.exec(t)).filter((m) => m).map((m) => Number(m![1]));
    expect(counts.some((c) => c > 0 && c < 300), seen.join(' | ')).toBe(true);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
  });
});

describe('export and the structure in 3D', () => {
  it('lists kept predictions with time, run and sequences, and writes CSV whose header names both SS3 rules', async () => {
    await view('Export');
    const options = await page.getByTestId('export-prediction').locator('option').allInnerTexts();
    expect(new Set(options).size).toBe(options.length); // every entry is told apart
    await page.getByTestId('export-prediction').selectOption({ label: options.find((o) => /journey lora · secondary structure · 4 sequence/.test(o))! });
    const outDir = path.join(tmp, 'exports');
    await page.getByTestId('export-dir').fill(outDir);
    await page.getByTestId('export-button').click();
    const files = page.getByTestId('export-files');
    await files.waitFor({ timeout: 60_000 });
    const csvPath = (await files.locator('td.mono').first().innerText()).trim();
    expect(csvPath.startsWith(outDir)).toBe(true);
    const rows = parseCsv(readFileSync(csvPath, 'utf8'));
    expect(rows[0].slice(0, 6)).toEqual(['id', 'position', 'residue', 'ss8', 'ss3_from_ss8', 'ss3_argmax_p3']); // #5
    expect(new Set(rows.slice(1).map((r) => r[0]))).toEqual(new Set(MIXED_IDS));
  });

  it('annotates a structure and shows it in 3D, coloured by the score and linked to the tracks', async () => {
    await page.getByTestId('format-csv').uncheck();
    await page.getByTestId('format-pdb').check();
    await page.getByTestId('export-structure').fill(path.join(SAMPLES, 'lysozyme-AF-P61626-F1-model_v4.pdb'));
    await page.getByLabel('Predicted sequence').selectOption('plain_lysozyme');
    await page.getByTestId('export-button').click();
    await page.getByTestId('export-files').locator('td', { hasText: /^PDB$/ }).waitFor({ timeout: 60_000 });
    const pdbText = readFileSync((await page.getByTestId('export-files').locator('td.mono').first().innerText()).trim(), 'utf8');
    expect(pdbText).toMatch(/^REMARK 950 {2}MODEL: esm2-tiny-random +$/m); // the model the run was trained on
    expect(pdbText).toMatch(/^REMARK 950 {2}RUN: journey lora +$/m);
    const helices = pdbText.split('\n').filter((l) => l.startsWith('HELIX'));
    for (const h of helices) expect(Number(h.slice(71, 76))).toBeGreaterThanOrEqual(3); // no one-residue HELIX records
    await page.getByTestId('export-show-3d').click();
    await page.locator('main[data-view="predict"]').waitFor();
    const v = page.getByTestId('structure-3d');
    await expect.poll(() => v.getAttribute('data-status'), { timeout: 60_000 }).toBe('ready');
    expect(Number(await v.getAttribute('data-atoms'))).toBeGreaterThan(1000);
    // the picture is drawn (WebGL through SwiftShader): many colours, not a blank canvas
    const colours = await v.locator('canvas').first().evaluate((c: HTMLCanvasElement) => {
      const img = new Image();
      return new Promise<number>((resolve) => {
        img.onload = () => {
          const k = document.createElement('canvas');
          k.width = img.width;
          k.height = img.height;
          const ctx = k.getContext('2d')!;
          ctx.drawImage(img, 0, 0);
          const d = ctx.getImageData(0, 0, k.width, k.height).data;
          const s = new Set<number>();
          for (let i = 0; i < d.length; i += 16) s.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
          resolve(s.size);
        };
        img.src = c.toDataURL('image/png');
      });
    });
    expect(colours).toBeGreaterThan(20);
    // a residue focused in the tracks is the one marked in 3D
    await page.locator('.track-chart rect.overlay-zoom').focus();
    await page.keyboard.press('0');
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => v.getAttribute('data-focus-residue')).toMatch(/^[A-Z]{3} \d+$/);
    // and a residue under the pointer in 3D becomes the focus of the tracks
    await page.locator('.track-chart rect.overlay-zoom').blur();
    const before = await page.locator('.track-chart rect.overlay-zoom').getAttribute('aria-valuenow');
    await v.scrollIntoViewIfNeeded();
    const box = (await v.boundingBox())!;
    let linked = false;
    for (const [fx, fy] of [[0.5, 0.5], [0.45, 0.5], [0.55, 0.45], [0.5, 0.55], [0.4, 0.4], [0.6, 0.6], [0.35, 0.5], [0.65, 0.5]]) {
      await page.mouse.move(box.x + box.width * fx, box.y + box.height * fy, { steps: 3 });
      await page.waitForTimeout(250);
      const now = await page.locator('.track-chart rect.overlay-zoom').getAttribute('aria-valuenow');
      if (now && now !== before) {
        linked = true;
        break;
      }
    }
    expect(linked).toBe(true);
  });
});

describe('public training data', () => {
  it('shows a set\'s licence and needs agreement before downloading it, then offers it as training data', async () => {
    await view('Train');
    await page.getByLabel('secondary structure').check();
    await page.getByTestId('get-data').click();
    const panel = page.getByTestId('get-data-panel');
    await panel.locator('tr[data-set="netsurfp2-casp12"]').waitFor();
    await page.getByTestId('download-netsurfp2-casp12').click();
    const dialog = page.getByTestId('licence-dialog');
    expect(await dialog.innerText()).toMatch(/NetSurfP-2\.0 data: research and educational use/);
    expect(await page.getByTestId('accept-download').isDisabled()).toBe(true);
    await page.getByTestId('accept-licence').check();
    await page.getByTestId('accept-download').click();
    await page.getByTestId('use-val-netsurfp2-casp12').waitFor({ timeout: 60_000 });
    await page.getByTestId('use-val-netsurfp2-casp12').click();
    expect(await text('val-using')).toMatch(/path .*netsurfp2-casp12[\\/]CASP12_HHblits\.csv/);
    // SignalP 6.0's data: its non-commercial, no-derivatives licence comes first
    await page.getByLabel('signal peptides').check();
    await panel.locator('tr[data-set="signalp6-train"]').waitFor();
    await page.getByTestId('download-signalp6-train').click();
    expect(await page.getByTestId('licence-dialog').innerText()).toMatch(/CC BY-NC-ND 2\.0[\s\S]*non-commercial purposes only/);
    await page.getByTestId('licence-dialog').getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('get-data').click();
  });
});

describe('the whole session', () => {
  const VIEWS = ['Start', 'Models', 'Sequences', 'Predict', 'Attention', 'Train', 'Compare', 'Export'];

  it('has every view without a layout break at 1280x800 and 1024x700 (screenshots), and at 200 % zoom', async () => {
    for (const [w, h] of [[1280, 800], [1024, 700]]) {
      await page.setViewportSize({ width: w, height: h });
      for (const v of VIEWS) {
        await view(v);
        await page.waitForTimeout(300); // charts lay out for the new width
        expect(await overflowOf(), `${v} at ${w}`).toEqual({ by: 0, what: [] });
        // numbers never break inside themselves
        const broken = await page.evaluate(() =>
          [...document.querySelectorAll('main td.num')].filter((td) => {
            const r = document.createRange();
            r.selectNodeContents(td);
            return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size > 1; // its text sits on more than one line
          }).length,
        );
        expect(broken, `${v} at ${w}: table numbers split over lines`).toBe(0);
        await page.screenshot({ path: path.join(SHOTS, `${v.toLowerCase()}-${w}.png`), fullPage: true });
      }
    }
    await page.setViewportSize({ width: 640, height: 400 });
    for (const v of VIEWS) {
      await view(v);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${v} at 200 %`).toBeLessThanOrEqual(0);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('ran without page errors, and no call was refused while a run started (no 400s on runs.get)', () => {
    expect(pageErrors).toEqual([]);
    expect(failedCalls.filter((c) => c.method === 'runs.get')).toEqual([]);
  });
});
