#!/usr/bin/env bash
# Tests examples/slurm/sweep.sbatch on a real Slurm: starts a throwaway single-node cluster on
# this machine (munged, slurmctld and slurmd, with their key, configuration, state and logs in a
# temporary folder, on their own ports), submits a small copy of
# scenarios/sweeps/policy-frontier.toml from a directory that is not the repository, and checks:
#   1. the shards and the merge job succeed, the merge is 1 CPU and 10 minutes, not an array,
#      in the partition the sweep was submitted to, and its files are byte-identical to an
#      unsharded run (summary.csv, summary.json, replications.csv, histograms.jsonl);
#   2. when one shard fails, the merge job is cancelled (not left pending); that shard re-run
#      alone with --array=K, then merged by hand, gives the same bytes.
# It stops every daemon it started, by PID, on exit, and touches no other process.
#
# Usage: examples/slurm/test-local-cluster.sh [--install]
#   --install  apt-get install Debian's slurm-wlm and munge when they are missing
# Needs root (slurmd starts jobs as their owners). Environment: CONVOSIM (the binary, default
# target/release/convosim), SLURM_TEST_PORT (slurmctld's port, slurmd uses the next one; default
# 16817), SLURM_TEST_TIMEOUT (seconds per wait, default 120), KEEP=1 (keep the temporary folder).
# The last line is PASS or FAIL with the reason; the exit status is 0 only on PASS.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd -P)
SCRIPT=$REPO/examples/slurm/sweep.sbatch
CONVOSIM=${CONVOSIM:-$REPO/target/release/convosim}
PORT=${SLURM_TEST_PORT:-16817}
TIMEOUT=${SLURM_TEST_TIMEOUT:-120}
SHARDS=4
FILES=(summary.csv summary.json replications.csv histograms.jsonl)
WORK=
DAEMONS=() # "name:pid", in start order

say() { echo "test-local-cluster: $*"; }

# Records why (also from a subshell) and exits; cleanup prints the FAIL line last.
fail() {
  if [ -n "$WORK" ]; then
    echo "$*" >>"$WORK/fail-reason"
  else
    echo "test-local-cluster: FAIL: $*" >&2
  fi
  exit 1
}

# ---------------------------------------------------------------- prerequisites

require_tools() {
  local missing=() tool
  for tool in munged mungekey munge slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  [ "${1:-}" = --install ] ||
    fail "missing ${missing[*]}: install Debian's slurm-wlm and munge (apt-get install" \
      "slurm-wlm munge), or run this script with --install"
  command -v apt-get >/dev/null ||
    fail "missing ${missing[*]} and no apt-get to install slurm-wlm and munge with"
  say "installing slurm-wlm and munge (missing: ${missing[*]})"
  apt-get update -qq || fail "apt-get update failed (no network or no package mirror?)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null ||
    fail "apt-get install slurm-wlm munge failed (see above)"
  for tool in "${missing[@]}"; do
    command -v "$tool" >/dev/null || fail "$tool is still not on PATH after installing" \
      "slurm-wlm and munge (PATH=$PATH)"
  done
}

check_prerequisites() {
  case "${1:-}" in
  "" | --install) ;;
  *) fail "unknown argument $1: the only option is --install" ;;
  esac
  [ "$(id -u)" = 0 ] || fail "needs root: slurmd runs as root to start jobs (try sudo)"
  if ! [[ $PORT =~ ^[1-9][0-9]{3,4}$ ]] || [ "$PORT" -ge 65535 ]; then
    fail "SLURM_TEST_PORT=$PORT: expected a port from 1000 to 65534"
  fi
  [[ $TIMEOUT =~ ^[1-9][0-9]{0,3}$ ]] ||
    fail "SLURM_TEST_TIMEOUT=$TIMEOUT: expected whole seconds from 1 to 9999"
  [ -x "$CONVOSIM" ] ||
    fail "no convosim binary at $CONVOSIM: run cargo build --release first (or set CONVOSIM)"
  CONVOSIM=$(realpath -e "$CONVOSIM")
  require_tools "${1:-}"
  local port
  for port in "$PORT" $((PORT + 1)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      fail "port $port is in use: set SLURM_TEST_PORT to a free pair of ports"
    fi
  done
}

# ---------------------------------------------------------------- the cluster

# Polls a command until it succeeds; fails naming what it waited for after `seconds`.
wait_for() {
  local seconds=$1 what=$2 deadline=$((SECONDS + $1))
  shift 2
  until "$@"; do
    [ $SECONDS -lt $deadline ] || fail "timed out after ${seconds}s waiting for $what"
    sleep 0.5
  done
}

# Starts a daemon in the foreground of a background job, so its PID is known exactly.
start_daemon() {
  local name=$1
  shift
  "$@" >"$WORK/log/$name.out" 2>&1 &
  DAEMONS+=("$name:$!")
}

daemon_alive() {
  local entry
  for entry in "${DAEMONS[@]}"; do
    if [ "${entry%%:*}" = "$1" ]; then
      kill -0 "${entry#*:}" 2>/dev/null || fail "$1 exited; its log: $WORK/log/$1.out"
      return 0
    fi
  done
}

start_munge() {
  mkdir -m 711 "$WORK/munge"
  mungekey --create --keyfile="$WORK/munge/munge.key" || fail "mungekey could not create a key"
  start_daemon munged munged --foreground --force --key-file="$WORK/munge/munge.key" \
    --socket="$WORK/munge/munge.socket" --pid-file="$WORK/munge/munged.pid" \
    --seed-file="$WORK/munge/munged.seed" --log-file="$WORK/log/munged.log"
  wait_for 20 "munged to answer on its socket" munge_works
}

munge_works() {
  daemon_alive munged
  munge -n -S "$WORK/munge/munge.socket" 2>/dev/null | unmunge -S "$WORK/munge/munge.socket" \
    >/dev/null 2>&1
}

# Two partitions on the one node: the test submits to the non-default one, to see that the
# merge job follows the array into it.
write_slurm_conf() {
  local host memory
  host=$(hostname -s)
  # Modest, and never more than the machine has (slurmd drains a node short of its memory).
  memory=$(awk '/^MemTotal:/ { m = int($2 / 1024) } END { print (m < 1000 ? m : 1000) }' \
    /proc/meminfo)
  mkdir -p "$WORK/state" "$WORK/spool"
  cat >"$WORK/slurm.conf" <<EOF
ClusterName=convosimtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$WORK/munge/munge.socket
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
MinJobAge=600
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$memory State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=sweeps Nodes=$host Default=NO MaxTime=INFINITE State=UP
EOF
}

node_idle() {
  daemon_alive slurmctld
  daemon_alive slurmd
  [ "$(sinfo -h -N -p main -o %T 2>/dev/null)" = idle ]
}

start_slurm() {
  export SLURM_CONF=$WORK/slurm.conf
  write_slurm_conf
  start_daemon slurmctld slurmctld -D -f "$SLURM_CONF"
  start_daemon slurmd slurmd -D -f "$SLURM_CONF" -N "$(hostname -s)"
  wait_for 60 "the node to be idle (sinfo)" node_idle
  say "cluster up: $(sinfo -h -N -p main -o '%N %T, %c CPUs'), Slurm $(sinfo -V)"
}

stop_daemons() {
  local i entry pid deadline
  for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
    entry=${DAEMONS[i]}
    pid=${entry#*:}
    kill -TERM "$pid" 2>/dev/null || continue
    deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  DAEMONS=()
}

# Waits (bounded) while a command succeeds.
wait_while() {
  local deadline=$((SECONDS + $1))
  shift
  while "$@" && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
}

jobs_left() { [ -n "$(squeue -h 2>/dev/null)" ]; }

# A job's slurmstepd outlives its job record briefly; its socket in the spool goes with it.
steps_left() { compgen -G "$WORK/spool/*_*" >/dev/null; }

# Cancels what is left of the test's jobs (on this private cluster only: SLURM_CONF is ours),
# lets their job steps end, then stops the daemons.
stop_cluster() {
  if [ -n "${SLURM_CONF:-}" ] && jobs_left; then
    scancel --user="$(id -un)" 2>/dev/null || true
    wait_while 20 jobs_left
  fi
  wait_while 15 steps_left
  stop_daemons
}

cleanup() {
  local status=$? reason=
  trap - EXIT INT TERM
  if [ -n "$WORK" ]; then
    if [ -n "${SLURM_CONF:-}" ] && [ "$status" != 0 ]; then diagnostics; fi
    stop_cluster
    [ ! -s "$WORK/fail-reason" ] || reason=$(head -n 1 "$WORK/fail-reason")
    if [ "${KEEP:-0}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
  fi
  [ "$status" = 0 ] || echo "test-local-cluster: FAIL: ${reason:-exit status $status}" >&2
  exit "$status"
}

diagnostics() {
  echo "---- jobs" >&2
  squeue -h -t all -o '%i %j %P %T %r' >&2 2>/dev/null || true
  local f
  for f in "$WORK"/log/*.log "$WORK"/log/*.out "$WORK"/submit/*.out \
    "$WORK"/submit/results/*-shards/*.out; do
    [ -s "$f" ] || continue
    echo "---- ${f#"$WORK"/} (last 20 lines)" >&2
    tail -n 20 "$f" >&2
  done
}

# ---------------------------------------------------------------- jobs

# Submits the sweep from the submission folder (not the repository) and prints the job id.
# Arguments: the --array value, the CPUs per shard, then VAR=value settings for the job.
submit() {
  local array=$1 cpus=$2
  shift 2
  (cd "$WORK/submit" && env "$@" sbatch --parsable --partition=sweeps --array="$array" \
    --cpus-per-task="$cpus" --time=00:05:00 "$SCRIPT" policy-frontier.toml) ||
    fail "sbatch refused the sweep (see above)"
}

queue_empty() { ! jobs_left; }

# "FIELD=value" of a job (array tasks: the first record), from slurmctld's memory (no
# accounting here; MinJobAge keeps finished jobs for 10 minutes).
job_field() {
  scontrol show job -o "$1" 2>/dev/null | head -n 1 | grep -o "\b$2=[^ ]*" | head -n 1 || true
}

expect_field() {
  local got
  got=$(job_field "$1" "$2")
  [ "$got" = "$2=$3" ] || fail "$4: job $1 has ${got:-no $2} (expected $2=$3)"
}

# Every task of an array ended in `state`.
expect_all_tasks() {
  local states
  states=$(squeue -h -t all -j "$1" -o %T 2>/dev/null | sort | uniq -c | xargs)
  [ "$states" = "$SHARDS $2" ] ||
    fail "array job $1: expected $SHARDS tasks $2, got: ${states:-none listed}"
}

# The merge job submitted by an array's first task, from that task's log.
merge_job_of() {
  local log=$WORK/submit/convosim-sweep-${1}_1.out id
  id=$(sed -n 's/^submitted merge job \([0-9]*\).*/\1/p' "$log" 2>/dev/null | head -n 1)
  [ -n "$id" ] || fail "array job $1 submitted no merge job (see $log)"
  echo "$id"
}

same_bytes() {
  local f
  for f in "${FILES[@]}"; do
    cmp -s "$WORK/reference/$f" "$1/$f" || fail "$2: $1/$f differs from the unsharded run's"
  done
}

# ---------------------------------------------------------------- the checks

prepare_sweep() {
  mkdir -p "$WORK/submit"
  local copy=$WORK/submit/policy-frontier.toml
  sed -e "s|^base = \"\.\./|base = \"$REPO/scenarios/|" -e 's/^replications = .*/replications = 3/' \
    "$REPO/scenarios/sweeps/policy-frontier.toml" >"$copy"
  { grep -q "^base = \"$REPO/scenarios/" "$copy" && grep -q '^replications = 3$' "$copy"; } ||
    fail "scenarios/sweeps/policy-frontier.toml no longer has the 'base = \"../' and" \
      "'replications =' lines this test rewrites"
  (cd "$WORK/submit" && "$CONVOSIM" sweep policy-frontier.toml --quiet --threads 1 \
    --out "$WORK/reference" >/dev/null 2>&1) || fail "the unsharded reference sweep failed"
}

# sweep.sbatch run by hand with a job's environment: misuse is one line and exit status 2,
# before anything is submitted or written.
expect_refusal() {
  local want=$1 out status=0
  shift
  out=$(cd "$WORK/submit" && env -u SLURM_ARRAY_TASK_ID -u SLURM_ARRAY_TASK_MAX -u SHARDS \
    "$@" bash "$SCRIPT" policy-frontier.toml 2>&1) || status=$?
  if [ "$status" != 2 ] || [ "$(printf '%s\n' "$out" | wc -l)" != 1 ] || [[ $out != *"$want"* ]]
  then
    fail "sweep.sbatch with $*: expected status 2 and one line naming '$want';" \
      "got status $status: $out"
  fi
}

check_misuse() {
  expect_refusal "as a job array"
  expect_refusal "not a shard of 4" SLURM_ARRAY_TASK_ID=5 SHARDS=4
  expect_refusal "set SHARDS=8" SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_MAX=8 SHARDS=4
  expect_refusal "SHARDS=4x" SLURM_ARRAY_TASK_ID=1 SHARDS=4x
  expect_refusal "CONVOSIM=$WORK/none" SLURM_ARRAY_TASK_ID=1 CONVOSIM="$WORK/none"
  [ ! -e "$WORK/submit/results" ] || fail "sweep.sbatch wrote results/ when refusing to run"
  say "ok: sweep.sbatch refuses misuse with one line and exit status 2"
}

check_full_sweep() {
  local array merge
  array=$(submit "1-$SHARDS" 1 SHARDS=$SHARDS)
  say "submitted array job $array ($SHARDS shards, partition sweeps) from $WORK/submit"
  wait_for "$TIMEOUT" "array job $array and its merge to finish" queue_empty
  merge=$(merge_job_of "$array")
  expect_all_tasks "$array" COMPLETED
  expect_field "$merge" JobState COMPLETED "the merge job"
  expect_field "$merge" Partition sweeps "the merge job's partition"
  expect_field "$merge" NumCPUs 1 "the merge job's CPUs"
  expect_field "$merge" TimeLimit 00:10:00 "the merge job's time limit"
  [ -z "$(job_field "$merge" ArrayJobId)" ] || fail "the merge job $merge is an array job"
  same_bytes "$WORK/submit/results/policy-frontier" "merged by Slurm job $merge"
  say "ok: shards and merge job $merge completed; merged files identical to the unsharded run"
}

check_failed_shard() {
  local out=$WORK/submit/results/failing array merge rerun cpus k dirs=()
  # A binary that fails shard 2 and runs everything else.
  cat >"$WORK/fail-shard-2" <<EOF
#!/bin/sh
case " \$* " in *" 2/$SHARDS "*) echo "injected failure of shard 2" >&2; exit 1 ;; esac
exec "$CONVOSIM" "\$@"
EOF
  chmod +x "$WORK/fail-shard-2"
  # Shards of 2 CPUs (where there are 2) show that the merge does not inherit them.
  cpus=$(($(nproc) >= 2 ? 2 : 1))
  array=$(submit "1-$SHARDS" "$cpus" SHARDS=$SHARDS OUT="$out" CONVOSIM="$WORK/fail-shard-2")
  wait_for "$TIMEOUT" "array job $array (shard 2 failing) and its merge to leave the queue" \
    queue_empty
  merge=$(merge_job_of "$array")
  expect_field "${array}_2" JobState FAILED "the failing shard"
  expect_field "$merge" JobState CANCELLED "the merge job after a failed shard"
  expect_field "$merge" NumCPUs 1 "the merge job's CPUs (shards of $cpus)"
  say "ok: shard 2 failed and merge job $merge was cancelled, not left pending"

  rerun=$(submit 2 1 SHARDS=$SHARDS OUT="$out")
  wait_for "$TIMEOUT" "the re-run of shard 2 (job $rerun) to finish" queue_empty
  expect_field "${rerun}_2" JobState COMPLETED "the re-run of shard 2"
  ! grep -q '^submitted merge job' "$WORK/submit/convosim-sweep-${rerun}_2.out" ||
    fail "the re-run of one shard submitted a merge job"
  for ((k = 1; k <= SHARDS; k++)); do dirs+=("$out-shards/shard-$k-of-$SHARDS"); done
  "$CONVOSIM" merge "${dirs[@]}" --out "$out" >/dev/null 2>&1 ||
    fail "merging by hand after the re-run failed: $CONVOSIM merge ${dirs[*]} --out $out"
  same_bytes "$out" "re-run shard 2 merged by hand"
  say "ok: shard 2 re-run alone (job $rerun) and merged by hand: files identical"
}

main() {
  local start=$SECONDS
  check_prerequisites "$@"
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/convosim-slurm.XXXXXX")
  mkdir "$WORK/log"
  trap cleanup EXIT
  trap 'fail "interrupted"' INT TERM
  prepare_sweep
  check_misuse
  start_munge
  start_slurm
  check_full_sweep
  check_failed_shard
  say "PASS: the Slurm example on a single-node Slurm ($((SECONDS - start)) s)"
}

main "$@"
