import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  importLocalModel,
  inspectModel,
  listInstalledModels,
  modelDir,
  plmwHome,
  readProvenance,
  removeModel,
  validateModelDir,
} from '../../src-main/engine/models/store.js';
import { fixtureModel } from '../helpers/paths.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'plmw-home-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const tiny = fixtureModel('tiny');
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

function copyOfTiny(name: string, skip: string[] = []): string {
  const dir = path.join(home, 'src', name);
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'model.safetensors', 'vocab.txt']) if (!skip.includes(f)) copyFileSync(path.join(tiny, f), path.join(dir, f));
  return dir;
}

describe('store location', () => {
  it('uses PLMW_HOME, else ~/.plm-workbench', () => {
    expect(plmwHome({ PLMW_HOME: home })).toBe(home);
    expect(plmwHome({})).toBe(path.join(os.homedir(), '.plm-workbench'));
    expect(plmwHome({ PLMW_HOME: '  ' })).toBe(path.join(os.homedir(), '.plm-workbench'));
    expect(modelDir('esm2_t6_8M_UR50D', { home })).toBe(path.join(home, 'models', 'esm2_t6_8M_UR50D'));
  });

  it('refuses model names that are not plain directory names', () => {
    for (const bad of ['../x', 'a/b', '.hidden', '', 'a b']) expect(() => modelDir(bad, { home })).toThrow(/invalid model name/);
  });
});

describe('importing a local directory', () => {
  it('validates, copies or links the files and records provenance', async () => {
    const m = await importLocalModel(tiny, { home, name: 'tiny' });
    expect(m.status).toBe('ready');
    expect(m.dir).toBe(path.join(home, 'models', 'tiny'));
    expect(m.config?.numLayers).toBe(2);
    for (const f of ['config.json', 'model.safetensors', 'vocab.txt']) {
      expect(readFileSync(path.join(m.dir, f)).equals(readFileSync(path.join(tiny, f)))).toBe(true);
    }
    const p = readProvenance(m.dir)!;
    expect(p).toMatchObject({ schema: 1, name: 'tiny', source: 'local', importedFrom: tiny });
    expect(['hardlink', 'copy']).toContain(p.importMode);
    expect(p.files.find((f) => f.name === 'model.safetensors')).toEqual({
      name: 'model.safetensors',
      size: 430832,
      sha256: sha(path.join(tiny, 'model.safetensors')),
      verified: 'none',
      mtimeMs: statSync(path.join(m.dir, 'model.safetensors')).mtimeMs,
    });
    expect(validateModelDir(m.dir).weights.layers).toHaveLength(2);
    expect(readdirSync(path.join(home, 'models'))).toEqual(['tiny']); // no staging left
  });

  it('copies when asked, names the model after the directory by default', async () => {
    const src = copyOfTiny('my-model', ['vocab.txt']);
    const m = await importLocalModel(src, { home, mode: 'copy', hash: false });
    expect(m.name).toBe('my-model');
    const p = readProvenance(m.dir)!;
    expect(p.importMode).toBe('copy');
    expect(p.files.map((f) => f.name)).toEqual(['config.json', 'model.safetensors']);
    expect(p.files[0].sha256).toBeUndefined();
  });

  it('rejects an invalid checkpoint and leaves nothing in the store', async () => {
    const src = copyOfTiny('broken');
    const cfg = JSON.parse(readFileSync(path.join(src, 'config.json'), 'utf8'));
    cfg.num_hidden_layers = 3;
    writeFileSync(path.join(src, 'config.json'), JSON.stringify(cfg));
    await expect(importLocalModel(src, { home })).rejects.toThrow(/esm\.encoder\.layer\.2\.attention\.self\.query\.weight: missing/);
    expect(existsSync(path.join(home, 'models', 'broken'))).toBe(false);
    const nocfg = copyOfTiny('nocfg', ['config.json']);
    await expect(importLocalModel(nocfg, { home })).rejects.toThrow(/cannot read config\.json/);
    await expect(importLocalModel(path.join(home, 'nope'), { home })).rejects.toThrow(/not a directory/);
  });

  it('rejects a vocab.txt that disagrees with config.json', async () => {
    const src = copyOfTiny('badvocab');
    writeFileSync(path.join(src, 'vocab.txt'), readFileSync(path.join(tiny, 'vocab.txt'), 'utf8').replace('<null_1>\n', ''));
    await expect(importLocalModel(src, { home })).rejects.toThrow(/vocabulary has 32 tokens but config\.json says vocab_size 33/);
  });

  it('will not replace an installed model unless asked', async () => {
    await importLocalModel(tiny, { home, name: 'm' });
    await expect(importLocalModel(tiny, { home, name: 'm' })).rejects.toThrow(/already installed/);
    const m = await importLocalModel(fixtureModel('small'), { home, name: 'm', overwrite: true, hash: false });
    expect(m.config?.hiddenSize).toBe(128);
    expect(readdirSync(path.join(home, 'models'))).toEqual(['m']);
  });
});

describe('listing', () => {
  it('lists ready, incomplete and damaged models', async () => {
    expect(await listInstalledModels({ home })).toEqual([]);
    await importLocalModel(tiny, { home, name: 'a-ready', hash: false });
    const damaged = await importLocalModel(tiny, { home, name: 'c-damaged', hash: false, mode: 'copy' });
    writeFileSync(path.join(damaged.dir, 'model.safetensors'), 'cut');
    mkdirSync(path.join(home, 'models', 'b-partial'));
    writeFileSync(path.join(home, 'models', 'b-partial', 'model.safetensors.partial'), 'xx');
    const list = await listInstalledModels({ home });
    expect(list.map((m) => [m.name, m.status])).toEqual([
      ['a-ready', 'ready'],
      ['b-partial', 'incomplete'],
      ['c-damaged', 'invalid'],
    ]);
    expect(list[1].problem).toMatch(/did not finish/);
    expect(list[2].problem).toBe('model.safetensors is 3 bytes, expected 430832');
    await removeModel('c-damaged', { home });
    expect(inspectModel(path.join(home, 'models', 'c-damaged')).status).toBe('incomplete');
    expect((await listInstalledModels({ home })).map((m) => m.name)).toEqual(['a-ready', 'b-partial']);
  });
});
