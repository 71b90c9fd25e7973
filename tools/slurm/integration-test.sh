#!/usr/bin/env bash
# A real single-node Slurm on this machine: installs Debian's slurm-wlm and munge (apt-get), starts munged, slurmctld
# and slurmd on localhost (proctrack/linuxproc, task/none, no accounting), submits a 3-shard array job of a small
# optimise run plus its dependent merge job through tools/slurm/submit.sh, and compares the merged tables with an
# unsharded run byte for byte. Every daemon it started is stopped by PID on exit. Needs root (or sudo) for apt-get
# and the daemons; skips (exit 0, with the reason) only where apt-get does not exist.
#   tools/slurm/integration-test.sh            # CONFIGURATION=Debug|Release (default Release) picks the kiago build
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
config=${CONFIGURATION:-Release}
start_time=$(date +%s)
log() { echo "slurm-test: [$(( $(date +%s) - start_time )) s] $*"; }

if ! command -v apt-get > /dev/null; then
  echo "slurm-test: SKIPPED: apt-get is not available on this machine, so Debian's slurm-wlm and munge cannot be installed"
  exit 0
fi
sudo=()
if [[ $(id -u) != 0 ]]; then
  command -v sudo > /dev/null || { echo "slurm-test: FAILED: needs root (or sudo) to install packages and start munged/slurmctld/slurmd" >&2; exit 1; }
  sudo=(sudo)
fi

if ! command -v slurmctld > /dev/null || ! command -v slurmd > /dev/null || ! command -v munged > /dev/null || ! command -v sbatch > /dev/null; then
  log "installing slurm-wlm and munge with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends slurm-wlm munge > /tmp/kiago-slurm-apt.log 2>&1; then
    "${sudo[@]}" apt-get update -q >> /tmp/kiago-slurm-apt.log 2>&1
    "${sudo[@]}" apt-get install -y -q --no-install-recommends slurm-wlm munge >> /tmp/kiago-slurm-apt.log 2>&1 \
      || { tail -20 /tmp/kiago-slurm-apt.log >&2; echo "slurm-test: FAILED: apt-get install slurm-wlm munge" >&2; exit 1; }
  fi
fi
log "$(slurmctld -V), munge $(munged -V 2>&1 | awk '{print $2}')"

work=$(mktemp -d /tmp/kiago-slurm.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  local rc=$?
  for ((k = ${#pids[@]} - 1; k >= 0; k--)); do
    "${sudo[@]}" kill "${pids[k]}" 2> /dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do "${sudo[@]}" kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    "${sudo[@]}" kill -9 "$pid" 2> /dev/null || true
  done
  if [[ ${#pids[@]} -gt 0 ]]; then
    for pid in "${pids[@]}"; do
      if "${sudo[@]}" kill -0 "$pid" 2> /dev/null; then echo "slurm-test: FAILED: daemon $pid is still running" >&2; rc=1; fi
    done
    log "stopped the daemons it started: PIDs ${pids[*]} (munged, slurmctld, slurmd)"
  fi
  wait 2> /dev/null || true
  if [[ $rc != 0 ]]; then
    for f in "$work"/slurmctld.log "$work"/slurmd.log "$work"/munged.log "$work"/*.stdout "$work"/run/*.out; do
      [[ -f "$f" ]] && { echo "---- $f"; tail -25 "$f"; }
    done
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT

# munge: a private key, socket and pid file, so nothing of the system's munge is touched
mkdir -p "$work/munge"
"${sudo[@]}" chown munge: "$work/munge" 2> /dev/null || true
"${sudo[@]}" dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
"${sudo[@]}" chown munge: "$work/munge/munge.key" 2> /dev/null || true
"${sudo[@]}" chmod 400 "$work/munge/munge.key"
socket="$work/munge/munge.socket"
"${sudo[@]}" runuser -u munge -- munged --foreground --key-file="$work/munge/munge.key" --socket="$socket" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munged.log" --seed-file="$work/munge/munged.seed" --force \
  > "$work/munged.stdout" 2>&1 &
for _ in $(seq 100); do [[ -S "$socket" && -s "$work/munge/munged.pid" ]] && break; sleep 0.1; done
[[ -S "$socket" && -s "$work/munge/munged.pid" ]] || { echo "slurm-test: FAILED: munged did not start" >&2; exit 1; }
pids+=("$(cat "$work/munge/munged.pid")") # munged itself, not the runuser wrapper (which exits with it)

host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$work/state" "$work/spool" "$work/run"
cat > "$work/slurm.conf" <<CONF
ClusterName=kiagoci
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$work/slurm.conf"
"${sudo[@]}" env SLURM_CONF="$SLURM_CONF" slurmctld -D -i -f "$SLURM_CONF" > "$work/slurmctld.stdout" 2>&1 &
pids+=($!)
"${sudo[@]}" env SLURM_CONF="$SLURM_CONF" slurmd -D -f "$SLURM_CONF" > "$work/slurmd.stdout" 2>&1 &
pids+=($!)
for _ in $(seq 150); do
  state=$(sinfo -h -n "$host" -o %t 2> /dev/null || true)
  [[ "$state" == idle* || "$state" == mix* ]] && break
  sleep 0.2
done
[[ "$state" == idle* || "$state" == mix* ]] || { echo "slurm-test: FAILED: node $host is '${state:-unknown}', not idle" >&2; exit 1; }
log "slurmctld and slurmd up: node $host idle with $cpus CPUs"

dll="$repo/src/Kiago.Cli/bin/$config/net10.0/kiago.dll"
log "building kiago ($config; a no-op when the tests just built it)"
dotnet build "$repo/src/Kiago.Cli/Kiago.Cli.csproj" -c "$config" -v q -nologo > "$work/build.log" 2>&1 || { tail -20 "$work/build.log"; exit 1; }
kiago="dotnet $dll"
# a small run: 4 bases, untrained models (no weights needed), deterministic for the seed
run=(optimise --base YBa2Cu3O7 --base MgB2 --base LaFeAsO --base Nb3Sn --candidates 16 --steps 20 --seed 11
     --tc-model random --ef-model random --quiet)

read -r array merge < <(KIAGO="$kiago" "$repo/tools/slurm/submit.sh" --shards 3 --root "$work/run" --cpus 1 -- "${run[@]}")
log "submitted array job $array (3 shards) and merge job $merge (afterok:$array)"

# meanwhile, the unsharded run on this machine
$kiago "${run[@]}" --device cpu --out "$work/whole"
log "unsharded run done"

job_state() { scontrol show job "$1" 2> /dev/null | grep -o 'JobState=[A-Z_]*' | head -1 | cut -d= -f2; }
for _ in $(seq 1200); do
  s=$(job_state "$merge")
  [[ "$s" == COMPLETED || "$s" == FAILED || "$s" == CANCELLED || "$s" == TIMEOUT || "$s" == NODE_FAIL ]] && break
  sleep 0.25
done
log "merge job $merge: ${s:-unknown}; array tasks: $(scontrol show job "$array" 2> /dev/null | grep -o 'JobState=[A-Z_]*' | sort | uniq -c | tr -s ' ' | tr '\n' ' ')"
[[ "$s" == COMPLETED ]] || { echo "slurm-test: FAILED: the merge job ended $s" >&2; exit 1; }

for i in 0 1 2; do
  [[ -f "$work/run/shard-$i/manifest.json" ]] || { echo "slurm-test: FAILED: shard $i wrote no run folder" >&2; exit 1; }
done
for t in candidates.csv summary.csv summary.json traces.csv; do
  cmp "$work/whole/$t" "$work/run/merged/$t" || { echo "slurm-test: FAILED: merged $t differs from the unsharded run" >&2; exit 1; }
done
log "PASSED: 3 Slurm array tasks + merge = the unsharded run, byte for byte ($(($(wc -l < "$work/whole/candidates.csv") - 1)) candidate rows)"
