#!/usr/bin/env bash
# logged.sh LOG -- COMMAND...: runs COMMAND with its stderr appended to LOG between two lines
# that say what ran where and how it ended (summary.py reads them for runlog.tsv):
#   # host H  slurm_job J  start T
#   # command ...
#   ...               (the command's own messages)
#   # end T  exit N  seconds S
# SIGTERM and SIGINT (a cancelled or timed-out cluster job, Ctrl-C) are passed on to COMMAND,
# which removes its temporaries, and the end line still gets written.
set -uo pipefail
log=$1
shift
[ "${1:-}" = "--" ] && shift
mkdir -p "$(dirname "$log")"
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
start=$(date +%s.%N)
{
  printf '# host %s  slurm_job %s  start %s\n' "$(hostname)" "${SLURM_JOB_ID:--}" "$(now)"
  printf '# command'
  printf ' %q' "$@"
  printf '\n'
} >"$log"
"$@" 2>>"$log" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
wait "$child"
rc=$?
# a trapped signal ends the first wait early: wait for the command itself
while kill -0 "$child" 2>/dev/null; do
  wait "$child"
  rc=$?
done
end=$(date +%s.%N)
printf '# end %s  exit %d  seconds %s\n' "$(now)" "$rc" "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')" >>"$log"
exit "$rc"
