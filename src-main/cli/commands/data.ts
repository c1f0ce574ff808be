import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UserError } from '../command.js';
import { DatasetError, downloadDataset, findDataset, listDatasets } from '../../engine/datasets/store.js';
import { DownloadError } from '../../engine/models/hub.js';
import { plmwHome } from '../../engine/models/store.js';
import { progressLine } from '../options.js';

const usage = `usage: plmw data list
       plmw data download NAME [--accept-licence] [--mirror URL]

Public training and test sets for secondary structure and signal peptides. A set goes to
$PLMW_HOME/data/NAME (default ~/.plm-workbench/data/NAME) with a dataset.json that records its
source, checksum and licence. Downloads show progress, resume where an interrupted or cancelled
one stopped (Ctrl-C keeps the partial file), and are checked against the recorded checksum.
Sets whose licence is not an open one (e.g. SignalP 6.0's CC BY-NC-ND) print their terms and
download only with --accept-licence.

options:
  --accept-licence   you have read the set's licence and accept it
  --mirror URL       fetch the same paths from another server (default $PLMW_DATA_MIRROR)`;

const mb = (b: number) => `${(b / 1e6).toFixed(b < 1e7 ? 2 : 0)} MB`;

export const dataCommand: Command = {
  name: 'data',
  summary: 'list and download public training and test sets (licence shown, resumable, checksummed)',
  usage,
  async run(argv) {
    const [sub, ...rest] = argv;
    const { values: a, positionals } = parseArgs({
      args: rest, allowPositionals: true, strict: true,
      options: { 'accept-licence': { type: 'boolean' }, mirror: { type: 'string' } },
    });
    switch (sub) {
      case 'list': {
        if (positionals.length) throw new UserError(usage, 2);
        const { root, sets } = listDatasets(plmwHome());
        console.log(`data sets (installed under ${root}):`);
        for (const s of sets) {
          const size = s.files.every((f) => f.size !== undefined) ? mb(s.files.reduce((x, f) => x + f.size!, 0)) : 'size unknown';
          const state = s.installed ? 'installed' : s.partialBytes ? `partial (${mb(s.partialBytes)})` : 'not installed';
          console.log(`  ${s.name.padEnd(22)} ${s.task.toUpperCase()} ${s.role.padEnd(10)} ${size.padStart(9)}  ${state}`);
          console.log(`  ${''.padEnd(22)} ${s.title}`);
          console.log(`  ${''.padEnd(22)} licence: ${s.licence.name}${s.licence.open ? '' : ' (needs --accept-licence)'}`);
        }
        return 0;
      }
      case 'download': {
        if (positionals.length !== 1) throw new UserError(usage, 2);
        let spec;
        try {
          spec = findDataset(positionals[0]);
        } catch (e) {
          throw new UserError((e as Error).message, 2);
        }
        if (!spec.licence.open && !a['accept-licence']) {
          console.error(`${spec.name}: ${spec.title}\nlicence: ${spec.licence.name}\n  ${spec.licence.url}\n  ${spec.licence.terms}\n`);
          throw new UserError(`${spec.name} needs your agreement to its licence: read it above, then run again with --accept-licence`, 2);
        }
        const ctrl = new AbortController();
        const stop = () => ctrl.abort();
        process.once('SIGINT', stop);
        try {
          const d = await downloadDataset(spec.name, {
            home: plmwHome(), acceptLicence: a['accept-licence'], mirror: a.mirror, signal: ctrl.signal,
            onProgress: (p) => progressLine(`${p.file} ${mb(p.bytesDone)}${p.bytesTotal ? ` / ${mb(p.bytesTotal)}` : ''} at ${mb(p.bytesPerSecond)}/s`),
          });
          progressLine('');
          for (const f of d.files) console.log(`${f.path} (${mb(f.size)}, ${f.verified} verified)`);
          console.log(`installed ${d.name} in ${d.dir}`);
          return 0;
        } catch (e) {
          progressLine('');
          if (e instanceof DownloadError || e instanceof DatasetError) throw new UserError(e.message);
          throw e;
        } finally {
          process.off('SIGINT', stop);
        }
      }
      default:
        throw new UserError(usage, 2);
    }
  },
};
