#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for testing the proteome workflow's SLURM profile for
# real (CI runs it; so can a developer, as root):
#   scripts/slurm-one-node.sh start    munged (unless one already answers), slurmctld, slurmd
#   scripts/slurm-one-node.sh stop     stops what `start` started, removes its state
#   scripts/slurm-one-node.sh env      prints the SLURM_CONF line clients need
# The node is this host with the CPUs and memory `slurmd -C` finds; one partition, `main` (the
# slurm profile's default), no accounting database. Needs the Debian packages slurm-wlm and munge.
# State, logs and slurm.conf live in $PLMW_SLURM_DIR (default /tmp/plmw-slurm); /etc/slurm is not
# touched, so clients find the cluster through SLURM_CONF.
set -euo pipefail
dir="${PLMW_SLURM_DIR:-/tmp/plmw-slurm}"
conf="$dir/slurm.conf"
export SLURM_CONF="$conf"

die() {
  echo "slurm-one-node: $*" >&2
  exit 1
}

munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

write_conf() {
  local node host
  # slurmd -C prints this machine as a NodeName line (CPUs, sockets, cores, RealMemory in MB).
  node="$(slurmd -C | head -n 1)"
  [[ "$node" == NodeName=* ]] || die "slurmd -C did not describe this node: $node"
  host="$(hostname -s)"
  cat >"$conf" <<EOF
# written by scripts/slurm-one-node.sh for a one-node test cluster
ClusterName=plmw-one-node
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
SlurmctldPort=${PLMW_SLURMCTLD_PORT:-6817}
SlurmdPort=${PLMW_SLURMD_PORT:-6818}
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# finished jobs stay visible to scontrol (Snakemake asks for their state) for 10 minutes
MinJobAge=600
$node State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  [ "$(id -u)" = 0 ] || die "run as root (SlurmUser=root)"
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null || die "install slurm-wlm and munge (apt-get install slurm-wlm munge)"
  [ -e "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null && die "already running (state in $dir); stop it first"
  mkdir -p "$dir/ctld" "$dir/spool"
  if munge_works; then
    echo "slurm-one-node: using the munged that is already running"
  else
    [ -s /etc/munge/munge.key ] || { mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null || create-munge-key -f; }
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    runuser -u munge -- /usr/sbin/munged
    touch "$dir/started-munged"
    for _ in $(seq 50); do munge_works && break; sleep 0.2; done
    munge_works || die "munged does not answer"
  fi
  write_conf
  slurmctld -f "$conf"
  slurmd -f "$conf"
  local host state=""
  host="$(hostname -s)"
  for _ in $(seq 120); do
    state="$(sinfo -h -n "$host" -o %T 2>/dev/null || true)"
    case "$state" in
      idle* | mixed* | allocated*) break ;;
      down* | drain*) scontrol update NodeName="$host" State=RESUME 2>/dev/null || true ;;
    esac
    sleep 0.5
  done
  case "$state" in
    idle* | mixed* | allocated*) ;;
    *) die "node $host is '$state' after 60 s; see $dir/slurmctld.log and $dir/slurmd.log" ;;
  esac
  echo "slurm-one-node: $(grep '^NodeName=' "$conf") in partition main is $state"
  echo "export SLURM_CONF=$conf"
}

stop_pid() {
  local file="$1" pid
  [ -e "$file" ] || return 0
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$file"
}

stop() {
  [ -d "$dir" ] || return 0
  stop_pid "$dir/slurmd.pid"
  stop_pid "$dir/slurmctld.pid"
  if [ -e "$dir/started-munged" ]; then
    stop_pid /run/munge/munged.pid
  fi
  rm -rf "$dir"
  echo "slurm-one-node: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) echo "export SLURM_CONF=$conf" ;;
  *) die "usage: $0 start|stop|env" ;;
esac
