import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UserError } from '../command.js';
import { DownloadError } from '../../engine/models/hub.js';
import { downloadModel } from '../../engine/models/download.js';
import { listRegistryModels } from '../../engine/models/registry.js';
import { importLocalModel, listInstalledModels, modelsRoot, removeModel, verifyModel } from '../../engine/models/store.js';
import { progressLine } from '../options.js';

const usage = `usage: plmw models list
       plmw models download NAME [--endpoint URL] [--revision REV] [--force]
       plmw models import DIR [--name NAME] [--copy]
       plmw models verify [NAME]
       plmw models remove NAME

Models live in $PLMW_HOME/models (default ~/.plm-workbench/models). NAME is a registry name
such as esm2_t6_8M_UR50D; downloads resume where an interrupted one stopped and are checked
against the Hub's published sha256 (computed from the file on disk). --force checks every file
of an installed model against the Hub again and fetches the ones that no longer match.
verify re-hashes the installed files (all models without NAME) and compares them with the
sha256 recorded at install; a model whose files changed is listed as 'changed' (exit 1).`;

const mb = (b: number) => `${(b / 1e6).toFixed(b < 1e7 ? 1 : 0)} MB`;

export const modelsCommand: Command = {
  name: 'models',
  summary: 'list, download, import, verify and remove ESM-2 checkpoints',
  usage,
  async run(argv) {
    const [sub, ...rest] = argv;
    const { values: a, positionals } = parseArgs({
      args: rest, allowPositionals: true, strict: true,
      options: { endpoint: { type: 'string' }, revision: { type: 'string' }, name: { type: 'string' }, copy: { type: 'boolean' }, force: { type: 'boolean' } },
    });
    switch (sub) {
      case 'list': {
        const installed = await listInstalledModels();
        console.log(`installed in ${modelsRoot()}:`);
        if (installed.length === 0) console.log('  (none)');
        for (const m of installed) console.log(`  ${m.name.padEnd(24)} ${m.status}${m.problem ? `: ${m.problem}` : ''}`);
        console.log('\navailable to download:');
        for (const s of listRegistryModels()) console.log(`  ${s.name.padEnd(24)} ${s.repo.padEnd(34)} ${String(s.layers).padStart(2)} layers, d ${String(s.hiddenSize).padStart(4)}, ${(s.parameters / 1e6).toFixed(0).padStart(5)}M parameters, ~${mb(s.approxDownloadBytes)}`);
        return 0;
      }
      case 'download': {
        if (positionals.length !== 1) throw new UserError(usage, 2);
        // A signal ends the command at once (cli/signals.ts): the lock is released and the
        // .partial file stays for the next download to resume.
        try {
          const m = await downloadModel(positionals[0], {
            endpoint: a.endpoint, revision: a.revision, force: a.force,
            onProgress: (p) => progressLine(`${p.file} ${mb(p.bytesDone)}${p.bytesTotal ? ` / ${mb(p.bytesTotal)}` : ''} at ${mb(p.bytesPerSecond)}/s`),
          });
          progressLine('');
          console.log(`installed ${m.name} in ${m.dir}`);
          return 0;
        } catch (e) {
          progressLine('');
          if (e instanceof DownloadError) throw new UserError(e.message);
          throw e;
        }
      }
      case 'import': {
        if (positionals.length !== 1) throw new UserError(usage, 2);
        const m = await importLocalModel(positionals[0], { name: a.name, mode: a.copy ? 'copy' : 'auto' });
        console.log(`imported ${m.name} into ${m.dir}`);
        return 0;
      }
      case 'verify': {
        if (positionals.length > 1) throw new UserError(usage, 2);
        const names = positionals.length ? positionals : (await listInstalledModels()).filter((m) => m.provenance).map((m) => m.name);
        if (names.length === 0) console.log(`no installed models in ${modelsRoot()}`);
        let bad = 0;
        for (const name of names) {
          const { model, files } = await verifyModel(name);
          for (const f of files) {
            const note = f.status === 'unrecorded' ? ' (no sha256 was recorded at install: nothing to compare with)' : '';
            console.log(`  ${name}/${f.name}: ${f.status}${note}`);
          }
          console.log(`${name}: ${model.status}${model.problem ? `: ${model.problem}` : ''}`);
          if (model.status !== 'ready') bad++;
        }
        return bad ? 1 : 0;
      }
      case 'remove': {
        if (positionals.length !== 1) throw new UserError(usage, 2);
        await removeModel(positionals[0]);
        console.log(`removed ${positionals[0]}`);
        return 0;
      }
      default:
        throw new UserError(usage, 2);
    }
  },
};
