// A new user's journey through the workbench in a real browser: Debian's Chromium (driven by
// playwright-core, no browser download) against the browser mode (`npm run web`) on the tiny
// fixture model. Import the model, load a FASTA with one bad record and read the report, train
// two short runs (watching the loss curve move), predict, look at attention, compare the runs,
// export a CSV and an SVG, and check each result on the page and on disk. A screenshot of every
// view goes to test/e2e/screenshots/.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src-main/engine/export/csv.js';
import { REPO, fixtureModel, shared } from '../helpers/paths.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(REPO, 'test', 'e2e', 'screenshots');
let tmp: string;
let server: ChildProcess;
let url: string;
let context: BrowserContext;
let page: Page;

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

async function startServer(home: string): Promise<string> {
  const tsx = path.join(REPO, 'node_modules', '.bin', 'tsx');
  server = spawn(tsx, ['src-main/server/main.ts', '--no-open', '--home', home], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PLMW_HOME: home } });
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

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const view = async (name: string) => {
  await page.getByRole('tab', { name }).click();
  await page.locator(`main[data-view="${name.toLowerCase()}"]`).waitFor();
};

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh (npm run e2e does)`);
  mkdirSync(SHOTS, { recursive: true });
  tmp = mkdtempSync(path.join(os.tmpdir(), 'plmw-e2e-'));
  url = await startServer(path.join(tmp, 'home'));
  context = await chromium.launchPersistentContext(path.join(tmp, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(url);
});

afterAll(async () => {
  await context?.close();
  server?.kill('SIGTERM');
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('a new user', () => {
  it('imports the model', async () => {
    await expect(page.getByRole('heading', { name: 'plm-workbench' })).toBeDefined();
    // keyboard: the view tabs are buttons; arrow keys move between them
    await page.getByRole('tab', { name: 'Sequences' }).focus();
    await page.keyboard.press('ArrowLeft');
    await page.locator('main[data-view="models"]').waitFor();
    await page.getByLabel('Folder', { exact: true }).fill(fixtureModel('tiny'));
    await page.getByLabel('Name (optional)').fill('tiny');
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByText('Imported tiny (ready).').waitFor();
    await page.locator('.model-chip', { hasText: 'tiny' }).waitFor();
    await shot('models');
  });

  it('loads a FASTA file with one bad record and reads the validation report', async () => {
    await view('Sequences');
    await page.getByTestId('fasta-file').setInputFiles({ name: 'mine.fasta', mimeType: 'text/plain', buffer: Buffer.from(FASTA) });
    const report = page.getByTestId('validation-report');
    await report.getByText('2 accepted').waitFor();
    expect(await page.getByTestId('report-counts').innerText()).toMatch(/2 accepted · 1 rejected · [1-9]\d* changed/);
    const rejected = report.locator('tr[data-kind="rejected"]');
    expect(await rejected.count()).toBe(1);
    expect(await rejected.innerText()).toMatch(/broken/);
    expect(await rejected.innerText()).toMatch(/1/);
    expect(await report.locator('tr[data-kind="changed"]').count()).toBeGreaterThanOrEqual(1);
    await page.getByRole('searchbox').fill('lyso');
    expect(await page.getByRole('checkbox', { name: 'select lysozyme' }).count()).toBe(1);
    expect(await page.getByRole('checkbox', { name: 'select ubiquitin' }).count()).toBe(0);
    await page.getByRole('searchbox').fill('');
    await shot('sequences');
  });

  it('trains two short runs and sees the loss curve move', async () => {
    await view('Train');
    await page.getByTestId('train-file').setInputFiles({ name: 'train.txt', mimeType: 'text/plain', buffer: Buffer.from(liftSs('CB433.txt', 40, 70)) });
    await page.getByTestId('val-file').setInputFiles({ name: 'val.txt', mimeType: 'text/plain', buffer: Buffer.from(liftSs('CASP12.txt', 4, 140)) });
    await page.getByLabel('Run name').fill('journey lora');
    await page.getByLabel('epochs').fill('4');
    await page.getByLabel('batch').fill('2');
    await page.getByTestId('estimate').getByText('Trainable parameters').waitFor();
    const est = await page.getByTestId('estimate').innerText();
    expect(est).toMatch(/Memory estimate/);
    expect(est).toMatch(/\d[\d,]* \(/);
    // Record every state the smoothed loss curve goes through while the run trains.
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { lossStates: number[] }).lossStates = seen;
      new MutationObserver(() => {
        const p = [...document.querySelectorAll('figure')].find((f) => f.textContent?.includes('Loss'))?.querySelectorAll('g.lines path')[1];
        const n = (p?.getAttribute('d') ?? '').split('L').length - 1;
        if (n > 0 && seen.at(-1) !== n) seen.push(n);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await page.getByTestId('start-training').click();
    await page.getByTestId('train-result').waitFor({ timeout: 120_000 });
    const states = await page.evaluate(() => (window as unknown as { lossStates: number[] }).lossStates);
    // the curve grew while the run went on (several intermediate states), to all 80 steps (40 sequences, batch 2, 4 epochs)
    expect(states.length).toBeGreaterThanOrEqual(3);
    expect(states.at(-1)).toBe(80 - 1);
    expect(states).toEqual([...states].sort((a, b) => a - b));
    await shot('train');
    // a second run with another method, for Compare
    await page.getByTestId('method').selectOption('ia3');
    await page.getByLabel('Run name').fill('journey ia3');
    await page.getByLabel('epochs').fill('2');
    await page.getByTestId('start-training').click();
    await page.getByTestId('train-result').waitFor({ timeout: 120_000 });
    await expect.poll(async () => (await page.getByTestId('train-result').innerText()).length).toBeGreaterThan(10);
  });

  it('predicts secondary structure for the loaded sequences', async () => {
    await view('Predict');
    const runSelect = page.getByTestId('predict-run');
    const label = (await runSelect.locator('option').allInnerTexts()).find((t) => t.startsWith('journey lora'))!;
    await runSelect.selectOption({ label });
    await page.getByRole('button', { name: /Predict 2 sequence/ }).click();
    const table = page.getByTestId('ss-summary');
    await table.waitFor({ timeout: 60_000 });
    expect(await table.locator('tbody tr').count()).toBe(2);
    const chart = page.locator('.track-chart svg');
    expect(await chart.locator('.track-ss8 path').count()).toBe(8);
    // hover: linked highlight and a tooltip explaining the residue
    const box = (await chart.locator('rect.overlay-zoom').boundingBox())!;
    await page.mouse.move(box.x + box.width / 3, box.y + 20);
    await page.locator('.tooltip').getByText(/SS3: H/).waitFor();
    await shot('predict');
  });

  it('looks at attention: base model and fine-tuned run side by side', async () => {
    await view('Attention');
    await page.getByTestId('attention-run').selectOption({ index: 1 });
    await page.getByRole('button', { name: 'Show attention' }).click();
    await page.locator('.attention-panel').nth(1).waitFor({ timeout: 60_000 });
    expect(await page.locator('.attention-panel').count()).toBe(2);
    await page.locator('.attention-panel').first().getByRole('button', { name: 'L2·h3' }).click();
    await page.getByText('Layer 2, head 3', { exact: false }).first().waitFor();
    await shot('attention');
  });

  it('compares the two runs', async () => {
    await view('Compare');
    await page.getByRole('checkbox', { name: /compare journey lora/ }).check();
    await page.getByRole('checkbox', { name: /compare journey ia3/ }).check();
    await page.getByTestId('compare-button').click();
    const table = page.getByTestId('compare-table');
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBe(2);
    expect(await table.innerText()).toMatch(/lora[\s\S]*ia3/);
    await expect.poll(async () => page.locator('figure', { hasText: 'vs' }).locator('g.pt').count()).toBe(2);
    await expect.poll(async () => page.locator('figure', { hasText: 'Per-class' }).locator('g.bars rect').count()).toBe(16);
    expect(await page.getByTestId('config-diff').innerText()).toMatch(/method\.name/);
    await shot('compare');
  });

  it('exports a CSV and an SVG, each on the page and on disk', async () => {
    await view('Export');
    const outDir = path.join(tmp, 'exports');
    await page.getByTestId('export-dir').fill(outDir);
    await page.getByTestId('export-button').click();
    const files = page.getByTestId('export-files');
    await files.waitFor({ timeout: 60_000 });
    const csvPath = (await files.locator('td.mono').first().innerText()).trim();
    expect(csvPath.startsWith(outDir)).toBe(true);
    const rows = parseCsv(readFileSync(csvPath, 'utf8'));
    expect(rows[0].slice(0, 5)).toEqual(['id', 'position', 'residue', 'ss8', 'ss3']);
    expect(rows.length - 1).toBe(76 + 129);
    expect(rows.filter((r) => r[0] === 'lysozyme')).toHaveLength(129);
    await shot('export');

    await view('Predict');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Export Per-residue tracks: .* as SVG/ }).click()]);
    const svgFile = path.join(tmp, 'tracks.svg');
    await dl.saveAs(svgFile);
    const svg = readFileSync(svgFile, 'utf8');
    expect(dl.suggestedFilename()).toMatch(/^tracks-ubiquitin\.svg$/);
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg).toMatch(/<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect((svg.match(/<path/g) ?? []).length).toBeGreaterThan(8);
    expect(svg).not.toContain('overlay-zoom');
    const [png] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Export Per-residue tracks: .* as PNG/ }).click()]);
    const pngFile = path.join(tmp, 'tracks.png');
    await png.saveAs(pngFile);
    expect(readFileSync(pngFile).subarray(1, 4).toString()).toBe('PNG');
  });

  it('trains a signal-peptide run and reads its SignalP-style summary and region track', async () => {
    const text = readFileSync(shared('data', 'signalp6', 'small_dataset_10.partitions-0-1.fasta'), 'utf8');
    const recs = text.split('>').slice(1).map((r) => `>${r}`);
    const pick = (from: number, n: number) => recs.filter((_, i) => i % 7 === from).slice(0, n).join('');
    await view('Train');
    await page.getByLabel('signal peptides').check();
    await page.getByTestId('train-file').setInputFiles({ name: 'sp-train.fasta', mimeType: 'text/plain', buffer: Buffer.from(pick(0, 12)) });
    await page.getByTestId('val-file').setInputFiles({ name: 'sp-val.fasta', mimeType: 'text/plain', buffer: Buffer.from(pick(3, 4)) });
    await page.getByTestId('method').selectOption('probe');
    await page.getByLabel('Run name').fill('journey sp');
    await page.getByLabel('epochs').fill('1');
    await page.getByLabel('batch').fill('6');
    await page.getByTestId('start-training').click();
    await page.getByTestId('train-result').getByText(/best mcc2/).waitFor({ timeout: 120_000 });
    await view('Predict');
    const runSelect = page.getByTestId('predict-run');
    const label = (await runSelect.locator('option').allInnerTexts()).find((t) => t.startsWith('journey sp'))!;
    await runSelect.selectOption({ label });
    await page.getByLabel('Organism group (kingdom)').selectOption('EUKARYA');
    await page.getByRole('button', { name: /Predict 2 sequence/ }).click();
    const table = page.getByTestId('sp-summary');
    await table.waitFor({ timeout: 60_000 });
    expect(await table.locator('tbody tr').count()).toBe(2);
    expect(await table.locator('thead').innerText()).toMatch(/OTHER[\s\S]*SP[\s\S]*LIPO[\s\S]*CS position/);
    const chart = page.locator('.track-chart svg');
    expect(await chart.locator('.track-spregion rect').count()).toBeGreaterThan(0);
    await shot('predict-sp');
  });

  it('has no layout break at 1280x800 and stays usable at 200 % zoom', async () => {
    for (const v of ['Models', 'Sequences', 'Predict', 'Attention', 'Train', 'Compare', 'Export']) {
      await view(v);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, v).toBeLessThanOrEqual(0);
    }
    // 200 % zoom = the same page in half the CSS pixels
    await page.setViewportSize({ width: 640, height: 400 });
    for (const v of ['Models', 'Sequences', 'Predict', 'Attention', 'Train', 'Compare', 'Export']) {
      await view(v);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${v} at 200 %`).toBeLessThanOrEqual(0);
      await shot(`${v.toLowerCase()}-200pct`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });
});
