// `plmw runs`: the run store from the command line (the same engine code the app's runs view
// and the API's runs.* methods use), and runs made from Hugging Face PEFT adapters.
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UserError } from '../command.js';
import { compareRuns, deleteRun, listRuns, openRun, renameRun, RunStoreError, runsRoot, type RunSummary } from '../../engine/runs/store.js';
import { IMPORT_TASK_NAMES, type ImportTask, importPeftRun } from '../../engine/runs/import-peft.js';
import { InputError } from '../../engine/data/errors.js';
import { DownloadError } from '../../engine/models/hub.js';
import { plmwHome } from '../../engine/models/store.js';
import { progressLine } from '../options.js';

const usage = `usage: plmw runs <subcommand> [options]

  plmw runs list                 list runs with their status (completed, running, interrupted, failed, cancelled)
  plmw runs show ID              one run: configuration, final/best metrics, metrics records, files
  plmw runs rename ID NAME       set the run's display name (run.json, rewritten atomically)
  plmw runs delete ID            move the run to <root>/.trash/ (recoverable until removed by hand)
  plmw runs compare ID ID...     method, trainable parameters, adapter size, time, memory, metrics
  plmw runs import-peft SOURCE   a run from a Hugging Face PEFT adapter: a folder (adapter_config.json +
                                 adapter_model.safetensors) or a Hub repository id (owner/name, downloaded
                                 with resume and checksum checks); it then predicts, evaluates, exports and
                                 shows attention like a trained run, and \`plmw infer --run\` runs it

A run that run.json says is running but whose process is gone (or, from another host, whose
heartbeat is over 2 minutes old) is listed as interrupted.

options:
  --root DIR    the runs folder (default $PLMW_HOME/runs, i.e. ~/.plm-workbench/runs)
  --json        print JSON instead of a table (list, show, compare, import-peft)

import-peft options:
  --model M     the base ESM-2: a folder or an installed model (default: the adapter's base_model_name_or_path)
  --name N      the run's name (its id is made from it)
  --task T      what a token-classification adapter's labels are: ss8, ss3 or sp (default: what a workbench
                export recorded; otherwise the run keeps the classifier as task token-cls, readable with infer)
  --revision R  Hub revision (default main)    --endpoint URL  Hub endpoint (default $HF_ENDPOINT or huggingface.co)`;

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n');
}

const fmt = (v: number | undefined, digits = 4) => (v === undefined ? '-' : Number.isInteger(v) ? String(v) : v.toFixed(digits));
const bytes = (n: number | undefined) => (n === undefined ? '-' : n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`);
const best = (r: Pick<RunSummary, 'best'>) => (r.best ? `${r.best.metric}=${fmt(r.best.value)}${r.best.epoch !== undefined ? ` @${r.best.epoch}` : ''}` : '-');

export const runsCommand: Command = {
  name: 'runs',
  summary: 'list, show, rename, delete and compare training runs',
  usage,
  async run(argv) {
    const { values: v, positionals } = parseArgs({
      args: argv,
      options: {
        root: { type: 'string' }, json: { type: 'boolean' }, model: { type: 'string' }, name: { type: 'string' }, task: { type: 'string' },
        revision: { type: 'string' }, endpoint: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
    const [sub, ...args] = positionals;
    const root = v.root ?? runsRoot();
    const out = (x: unknown) => console.log(JSON.stringify(x, null, 2));
    const need = (n: number, what: string) => {
      if (args.length !== n) throw new UserError(`runs ${sub}: expected ${what}\n\n${usage}`, 2);
    };
    try {
      switch (sub) {
        case 'list': {
          need(0, 'no arguments');
          const runs = await listRuns(root);
          if (v.json) out(runs);
          else if (runs.length === 0) console.log(`no runs in ${root}`);
          else {
            console.log(table([
              ['ID', 'STATUS', 'NAME', 'TASK', 'METHOD', 'BEST', 'UPDATED'],
              ...runs.map((r) => [r.id, r.status, r.name, r.task ?? '-', r.method ?? '-', best(r), r.updatedAt ?? '-']),
            ]));
            for (const r of runs) if (r.reason) console.log(`  ${r.id}: ${r.reason}`);
          }
          return 0;
        }
        case 'show': {
          need(1, 'a run id');
          const d = await openRun(root, args[0]);
          if (v.json) {
            out(d);
            return 0;
          }
          const lines = [
            `run ${d.id}: ${d.name}`,
            `  status      ${d.status}${d.reason ? ` (${d.reason})` : ''}`,
            `  folder      ${d.dir}`,
            `  task        ${d.task ?? '-'}`,
            `  method      ${d.run.method ? JSON.stringify(d.run.method) : '-'}`,
            `  model       ${d.model ?? '-'}${d.run.model?.sha256 ? ` (sha256 ${d.run.model.sha256.slice(0, 12)}…)` : ''}`,
            `  parameters  ${d.run.params ? `${fmt(d.run.params.trainable)} trainable of ${fmt(d.run.params.total)}` : '-'}`,
            `  created     ${d.createdAt ?? '-'}   updated ${d.updatedAt ?? '-'}`,
            `  wall time   ${d.wallSeconds !== undefined ? `${d.wallSeconds.toFixed(1)} s` : '-'}   peak memory ${bytes(d.run.peakRssBytes)}`,
            `  best        ${best(d)}`,
            `  final       ${d.final ? Object.entries(d.final).map(([k, x]) => `${k}=${fmt(x)}`).join(' ') : '-'}`,
            `  metrics     ${d.metrics.length} records${d.tornTail ? ' (a torn last line was ignored)' : ''}`,
            `  checkpoints ${d.checkpoints.length ? d.checkpoints.map((c) => `${c.file} (${bytes(c.bytes)})`).join(', ') : '-'}`,
            `  adapter     ${d.adapter ? `${d.adapter.files.join(', ')} (${bytes(d.adapter.bytes)})` : '-'}`,
          ];
          if (d.error) lines.push(`  error       ${d.error}`);
          for (const p of d.metricsProblems) lines.push(`  metrics.jsonl:${p.line}: ${p.message}`);
          console.log(lines.join('\n'));
          return 0;
        }
        case 'rename': {
          need(2, 'a run id and a name');
          const r = await renameRun(root, args[0], args[1]);
          console.log(`renamed ${r.id} to '${r.name}'`);
          return 0;
        }
        case 'delete': {
          need(1, 'a run id');
          const r = await deleteRun(root, args[0]);
          console.log(`moved ${args[0]} to ${r.trashedTo}`);
          return 0;
        }
        case 'compare': {
          if (args.length === 0) throw new UserError(`runs compare: expected one or more run ids\n\n${usage}`, 2);
          const t = await compareRuns(root, args);
          if (v.json) {
            out(t);
            return 0;
          }
          console.log(table([
            ['ID', 'NAME', 'STATUS', 'METHOD', 'TRAINABLE', 'ADAPTER', 'WALL s', 'PEAK MEM', 'BEST', ...t.metrics],
            ...t.rows.map((r) => [
              r.id, r.name, r.status, r.method ?? '-',
              r.trainableParams === undefined ? '-' : `${r.trainableParams}${r.trainableFraction !== undefined ? ` (${(100 * r.trainableFraction).toFixed(2)}%)` : ''}`,
              r.adapterBytes === undefined ? '-' : `${bytes(r.adapterBytes)}${r.adapterSource === 'checkpoint' ? ' (ckpt)' : ''}`,
              r.wallSeconds === undefined ? '-' : r.wallSeconds.toFixed(1), bytes(r.peakRssBytes), best(r),
              ...t.metrics.map((m) => fmt(r.final[m])),
            ]),
          ]));
          return 0;
        }
        case 'import-peft': {
          need(1, 'a PEFT adapter folder or Hub repository id');
          if (v.task !== undefined && !(v.task in IMPORT_TASK_NAMES)) throw new UserError(`--task must be one of ${Object.keys(IMPORT_TASK_NAMES).join(', ')}, got '${v.task}'`, 2);
          const ctrl = new AbortController();
          const stop = () => ctrl.abort();
          process.once('SIGINT', stop);
          try {
            const r = await importPeftRun(args[0], {
              root, home: plmwHome(), model: v.model, name: v.name, task: v.task as ImportTask | undefined, revision: v.revision, endpoint: v.endpoint, signal: ctrl.signal,
              onProgress: (p) => progressLine(`${p.phase}${p.file ? ` ${p.file}` : ''}${p.total ? ` ${(p.done / 1e6).toFixed(1)} / ${(p.total / 1e6).toFixed(1)} MB` : ''}`),
            });
            progressLine('');
            if (v.json) out({ id: r.id, dir: r.dir, task: r.record.task, method: r.record.method, head: r.record.head, imported: r.record.imported });
            else {
              console.log(`imported ${args[0]} as run ${r.id} (task ${r.record.task}, method ${r.record.method.name}) in ${r.dir}`);
              for (const n of r.notes) console.log(`  note: ${n}`);
            }
            return 0;
          } finally {
            progressLine('');
            process.off('SIGINT', stop);
          }
        }
        default:
          throw new UserError(sub ? `unknown subcommand '${sub}'\n\n${usage}` : usage, 2);
      }
    } catch (e) {
      if (e instanceof RunStoreError) throw new UserError(e.message, e.code === 'invalid' ? 2 : 1);
      if (e instanceof InputError || e instanceof DownloadError) throw new UserError(e.message);
      if (e instanceof DOMException && e.name === 'AbortError') throw new UserError('cancelled', 130);
      throw e;
    }
  },
};
