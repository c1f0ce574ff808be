"""The proteome workflow's summary table and log of what ran where.

summary.tsv  one row per input (and kingdom, for signal peptides), then one row for all inputs:
             signal peptides: sequences predicted per SP type (SignalP 6.0's six types);
             secondary structure: residues and the share of each predicted state (SS3, SS8).
             Counts come from the shards' counts.json files (what plmw predict writes), so a run
             with a failed shard still gets a table; the `shards` column says how many shards of
             that input are in it, and `missing` names each shard that is not, with its error.
runlog.tsv   one row per shard and merge job: status, host, SLURM job, start, end, seconds,
             exit status, provider, sequences, and the job's last message (read from the logs
             that scripts/logged.sh writes).

Called by the Snakefile's `summary` rule when everything succeeded and by its `onerror` handler
when something failed; also runnable by hand: python3 summary.py OUT TASK N SAMPLE... .
"""

import json
import os
import re
import sys

SP_TYPES = ["NO_SP", "SP", "LIPO", "TAT", "TATLIPO", "PILIN"]
KINGDOMS = ["EUKARYA", "ARCHAEA", "NEGATIVE", "POSITIVE", "unknown"]
SS8 = "GHIBESTC"
SS3 = "HEC"

EXTS = {
    "signal-peptide": [".residues.csv", ".summary.csv", ".gff3", ".mature.fasta", ".counts.json", ".json"],
    "secondary-structure": [".residues.csv", ".counts.json", ".json"],
}


def shard_prefix(out, sample, i, n):
    return os.path.join(out, sample, "shards", f"{i}-of-{n}")


def shard_log(out, sample, i, n):
    return os.path.join(out, "logs", sample, f"shard-{i}-of-{n}.log")


def merge_log(out, sample):
    return os.path.join(out, "logs", sample, "merge.log")


HEAD = re.compile(r"^# host (\S+)\s+slurm_job (\S+)\s+start (\S+)")
END = re.compile(r"^# end (\S+)\s+exit (-?\d+)\s+seconds (\S+)")
DONE = re.compile(r"^plmw predict: (\d+) sequence\(s\).* on (\S+); wrote ")


def read_log(path):
    """What a logged.sh log says: host, job, times, exit status, provider, last message."""
    info = {"host": "", "slurm_job": "", "start": "", "end": "", "seconds": "", "exit": "", "provider": "", "sequences": "", "message": ""}
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = [l.rstrip("\n") for l in f]
    for line in lines:
        m = HEAD.match(line)
        if m:
            info.update(host=m.group(1), slurm_job=m.group(2), start=m.group(3))
        m = END.match(line)
        if m:
            info.update(end=m.group(1), exit=m.group(2), seconds=m.group(3))
        m = DONE.match(line)
        if m:
            info.update(sequences=m.group(1), provider=m.group(2))
    # The job's last own message: its error when it failed (plmw prints one located line).
    own = [l for l in lines if l.strip() and not l.startswith("# ")]
    if own:
        # a finished job's line lists the files it wrote: what it did is enough here
        info["message"] = own[-1].strip().split("; wrote ")[0]
    return info


def shard_row(out, task, sample, i, n):
    prefix = shard_prefix(out, sample, i, n)
    done = all(os.path.exists(prefix + e) for e in EXTS[task])
    log = read_log(shard_log(out, sample, i, n))
    if done:
        status = "done"
    elif log is None:
        status = "not run"
    elif log["exit"] == "":
        status = "interrupted"
    elif log["exit"] != "0":
        status = "failed"
    else:
        status = "incomplete"
    row = {"input": sample, "job": f"shard {i}/{n}", "status": status}
    row.update(log or {"host": "", "slurm_job": "", "start": "", "end": "", "seconds": "", "exit": "", "provider": "", "sequences": "", "message": ""})
    return row, (prefix + ".counts.json") if done else None


def add(a, b):
    """Sums two counts.json objects of one task, number by number."""
    for k, v in b.items():
        if isinstance(v, dict):
            add(a.setdefault(k, {}), v)
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and k != "formatVersion":
            a[k] = a.get(k, 0) + v
        else:
            a.setdefault(k, v)
    return a


def tsv(rows, columns):
    clean = lambda v: str(v).replace("\t", " ").replace("\n", " ")
    return "".join("\t".join(clean(r.get(c, "")) for c in columns) + "\n" for r in [dict(zip(columns, columns))] + rows)


def write_atomic(path, text):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def summarise(out, task, n, samples):
    """Writes OUT/summary.tsv and OUT/runlog.tsv; returns (complete, text of the summary)."""
    runlog = []
    table = []
    totals = None
    complete = True
    for sample in samples:
        counts = None
        done = 0
        missing = []
        for i in range(1, n + 1):
            row, counts_file = shard_row(out, task, sample, i, n)
            runlog.append(row)
            if counts_file:
                with open(counts_file, encoding="utf-8") as f:
                    c = json.load(f)
                counts = add(counts, c) if counts else c
                done += 1
            else:
                why = f": {row['message']}" if row["message"] and row["status"] == "failed" else ""
                missing.append(f"shard {i}/{n} {row['status']}{why}")
        m = read_log(merge_log(out, sample))
        if m is not None:
            merged = all(os.path.exists(os.path.join(out, sample, sample + e)) for e in EXTS[task])
            status = "done" if merged else "failed" if m["exit"] not in ("", "0") else "interrupted"
            runlog.append({"input": sample, "job": "merge", "status": status, **m})
            if not merged:
                missing.append(f"merge {status}")
        if missing:
            complete = False
        if counts:
            copy = json.loads(json.dumps(counts))
            totals = add(totals, copy) if totals else copy
        table.extend(rows_of(sample, task, counts, f"{done}/{n}", "; ".join(missing)))
    if len(samples) > 1 or not table:
        table.extend(rows_of("all", task, totals, "", ""))
    columns = (["input", "kingdom", "sequences"] + SP_TYPES if task == "signal-peptide" else ["input", "sequences", "residues"] + [f"ss3_{s}" for s in SS3] + [f"ss8_{s}" for s in SS8]) + ["shards", "missing"]
    text = tsv(table, columns)
    os.makedirs(out, exist_ok=True)
    write_atomic(os.path.join(out, "summary.tsv"), text)
    log_columns = ["input", "job", "status", "host", "slurm_job", "start", "end", "seconds", "exit", "provider", "sequences", "message"]
    write_atomic(os.path.join(out, "runlog.tsv"), tsv(runlog, log_columns))
    return complete, text


def rows_of(sample, task, counts, shards, missing):
    if task == "signal-peptide":
        types = (counts or {}).get("types", {})
        rows = []
        for k in KINGDOMS:
            per = types.get(k, {})
            total = sum(per.get(t, 0) for t in SP_TYPES)
            if total:
                rows.append({"input": sample, "kingdom": k, "sequences": total, **{t: per.get(t, 0) for t in SP_TYPES}, "shards": shards, "missing": missing})
        return rows or [{"input": sample, "kingdom": "", "sequences": 0, **{t: 0 for t in SP_TYPES}, "shards": shards, "missing": missing}]
    c = counts or {}
    residues = c.get("residues", 0)
    share = lambda x: f"{x / residues:.4f}" if residues else ""
    row = {"input": sample, "sequences": c.get("sequences", 0), "residues": residues, "shards": shards, "missing": missing}
    row.update({f"ss3_{s}": share(c.get("ss3", {}).get(s, 0)) for s in SS3})
    row.update({f"ss8_{s}": share(c["ss8"].get(s, 0)) if "ss8" in c else "" for s in SS8})
    return [row]


if __name__ == "__main__":
    out, task, n, *samples = sys.argv[1:]
    ok, text = summarise(out, task, int(n), samples)
    sys.stdout.write(text)
    sys.exit(0 if ok else 1)
