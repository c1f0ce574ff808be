// vitest globalSetup: one temporary folder per test run. TMPDIR points into it, so os.tmpdir()
// in every test file and in every process a test starts (plmw commands, Snakemake and SLURM jobs,
// Chromium) puts its files there, and the whole folder goes when the run ends, also what a test
// that failed before its own clean-up, or a process it killed, would have left in /tmp.
// Temporaries of the product itself (its hidden `~plmw-` names) still there at the end are
// listed: the tests that check for litter look in their own folders, this looks everywhere.
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const before = process.env.TMPDIR;
  const root = mkdtempSync(path.join(os.tmpdir(), 'plmw-tests-'));
  chmodSync(root, 0o1777); // open to all, sticky, like /tmp: some tests run plmw as another user
  process.env.TMPDIR = root;
  return () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    let left: string[] = [];
    try {
      left = (readdirSync(root, { recursive: true }) as string[]).filter((f) => /~plmw-[^/]*\.tmp$/.test(f));
    } catch {
      // unreadable parts (a file system a test left mounted) are reported by the removal below
    }
    if (left.length) console.warn(`temporaries of the product left in ${root}:\n  ${left.join('\n  ')}`);
    try {
      rmSync(root, { recursive: true, force: true });
    } catch (e) {
      console.warn(`could not remove the test run's temporary folder ${root}: ${(e as Error).message}`);
    }
  };
}
