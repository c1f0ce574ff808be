#!/usr/bin/env python3
"""Measures the proteome workflow on this machine (figures for README.md).

  bench.py startup RUN FASTA [--rounds 3]
      per-shard start-up cost: `plmw version` (Node + the TypeScript loader) and `plmw predict`
      on an empty shard (loading the run and model, building the graph and the session, writing
      empty files), with plmw's own split of the latter; medians over the rounds.
  bench.py shards RUN FASTA [--shards 8] [--rounds 3]
      throughput of the workflow (local profile) with 1 and with 2 shard jobs at a time (one
      thread each), interleaved A B A B ..., medians; each run in a fresh directory.
  bench.py rss RUN N [--length 20-40] [--every 1]
      a streaming `plmw predict` of N random sequences (generated first): resident memory
      sampled from /proc every --every seconds, against the number of sequences done.
Every report ends with the load average, because the machine may be shared while it runs.
Scratch files go to $PLMW_BENCH_DIR (default: a new folder under /tmp) and are removed after.
"""

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
PLMW = os.path.join(REPO, "scripts", "plmw")


def load():
    return "load average %.2f %.2f %.2f on %d CPUs" % (*os.getloadavg(), os.cpu_count())


def timed(cmd, **kw):
    t = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    return time.monotonic() - t, r


def records_in(fasta):
    with open(fasta, encoding="utf-8") as f:
        return sum(1 for line in f if line.startswith(">"))


def startup(a, scratch):
    rows = {"plmw version (Node + loader)": [], "plmw predict, empty shard (total)": [], "  model and run loaded": [], "  graph and session built": []}
    n = records_in(a.fasta)
    for k in range(a.rounds):
        rows["plmw version (Node + loader)"].append(timed([PLMW, "version"])[0])
        # more shards than groups of records: the last shard of n+1 holds none
        wall, r = timed([PLMW, "predict", "--run", a.run, "--fasta", a.fasta, "--out", os.path.join(scratch, f"empty{k}"), "--shard", f"1/{n + 1}", "--threads", "1"])
        m = re.search(r"loaded in ([\d.]+) s, graph and session built in ([\d.]+) s", r.stderr)
        rows["plmw predict, empty shard (total)"].append(wall)
        rows["  model and run loaded"].append(float(m.group(1)))
        rows["  graph and session built"].append(float(m.group(2)))
    print(f"per-shard start-up, median of {a.rounds} (seconds):")
    for name, v in rows.items():
        print(f"  {name:38s} {statistics.median(v):6.2f}   ({', '.join(f'{x:.2f}' for x in v)})")


def workflow_once(a, scratch, jobs, k):
    d = os.path.join(scratch, f"wf-{jobs}-{k}")
    os.makedirs(d)
    cfg = {"run": os.path.abspath(a.run), "inputs": {"p": {"fasta": os.path.abspath(a.fasta)}}, "shards": a.shards, "resources": {"predict": {"threads": 1}}}
    if a.kingdom:
        cfg["inputs"]["p"]["kingdom"] = a.kingdom
    with open(os.path.join(d, "config.yaml"), "w") as f:
        json.dump(cfg, f)
    cmd = ["snakemake", "-s", os.path.join(HERE, "Snakefile"), "--profile", os.path.join(HERE, "profiles", "local"), "--configfile", os.path.join(d, "config.yaml"), "-d", d, "--cores", str(jobs), "--quiet"]
    wall, _ = timed(cmd)
    shutil.rmtree(d)
    return wall


def shards(a, scratch):
    n = records_in(a.fasta)
    walls = {1: [], 2: []}
    for k in range(a.rounds):
        for jobs in (1, 2):
            walls[jobs].append(workflow_once(a, scratch, jobs, k))
            print(f"  round {k + 1}: {jobs} job(s) at a time: {walls[jobs][-1]:.1f} s   ({load()})", flush=True)
    m1, m2 = statistics.median(walls[1]), statistics.median(walls[2])
    print(f"workflow over {n} records in {a.shards} shards, median of {a.rounds}:")
    print(f"  1 shard job at a time:  {m1:7.1f} s  {n / m1:7.1f} records/s")
    print(f"  2 shard jobs at a time: {m2:7.1f} s  {n / m2:7.1f} records/s   ({m1 / m2:.2f}x)")


def write_fasta(path, n, lo, hi, seed=1):
    aa = "ACDEFGHIKLMNPQRSTVWY"
    rnd = random.Random(seed)
    with open(path, "w") as f:
        for i in range(n):
            f.write(f">s{i}\n{''.join(rnd.choice(aa) for _ in range(rnd.randint(lo, hi)))}\n")


def rss(a, scratch):
    lo, hi = (int(x) for x in a.length.split("-"))
    fasta = os.path.join(scratch, "in.fasta")
    write_fasta(fasta, a.n, lo, hi)
    out = os.path.join(scratch, "out", "p")
    os.makedirs(os.path.dirname(out))
    # progress goes to stderr only on a terminal: count what the files hold instead
    p = subprocess.Popen([PLMW, "predict", "--run", a.run, "--fasta", fasta, "--out", out, "--threads", str(a.threads)], stderr=subprocess.PIPE, text=True)
    samples = []
    t0 = time.monotonic()
    node = None
    while p.poll() is None:
        time.sleep(a.every)
        if node is None:
            # scripts/plmw execs node: the process itself
            node = p.pid
        try:
            with open(f"/proc/{node}/status") as f:
                kb = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        except (OSError, AttributeError):
            continue
        done = 0
        d = os.path.dirname(out)
        for name in os.listdir(d):
            if name.startswith(".p.residues.csv~plmw-"):
                done = os.path.getsize(os.path.join(d, name))
        samples.append((time.monotonic() - t0, kb / 1024, done))
    err = p.stderr.read()
    if p.returncode != 0:
        sys.exit(f"bench: plmw predict failed:\n{err[-3000:]}")
    total_csv = os.path.getsize(out + ".residues.csv")
    wall = time.monotonic() - t0
    print(f"streaming plmw predict of {a.n} sequences ({lo}-{hi} residues), {wall:.0f} s:")
    print("  share done   seconds   RSS MB")
    shown = set()
    for t, mb, done in samples:
        q = int(10 * done / total_csv) if total_csv else 0
        if q not in shown:
            shown.add(q)
            print(f"  {10 * q:7d} %   {t:7.0f}   {mb:7.0f}")
    print(f"  peak RSS {max(s[1] for s in samples):.0f} MB; RSS at 10-20 % done {statistics.median([s[1] for s in samples if 0.1 <= s[2] / total_csv <= 0.2] or [0]):.0f} MB, at 90-100 % {statistics.median([s[1] for s in samples if s[2] / total_csv >= 0.9] or [0]):.0f} MB")
    print("  " + err.strip().splitlines()[-2])
    sizes = {e: os.path.getsize(out + e) for e in (".residues.csv", ".json", ".counts.json")}
    print("  files: " + ", ".join(f"{e} {v / 1e9:.2f} GB" for e, v in sizes.items()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("startup")
    s.add_argument("run")
    s.add_argument("fasta")
    s.add_argument("--rounds", type=int, default=3)
    s = sub.add_parser("shards")
    s.add_argument("run")
    s.add_argument("fasta")
    s.add_argument("--shards", type=int, default=8)
    s.add_argument("--rounds", type=int, default=3)
    s.add_argument("--kingdom")
    s = sub.add_parser("rss")
    s.add_argument("run")
    s.add_argument("n", type=int)
    s.add_argument("--length", default="20-40")
    s.add_argument("--every", type=float, default=1.0)
    s.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    base = os.environ.get("PLMW_BENCH_DIR")
    if base:
        os.makedirs(base, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="plmw-bench-", dir=base)
    try:
        print(f"bench {a.what}: start, {load()}", flush=True)
        {"startup": startup, "shards": shards, "rss": rss}[a.what](a, scratch)
        print(f"bench {a.what}: end, {load()}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
