#!/usr/bin/env bash
# The README's run command: builds Flotilla and runs a local cluster doing real
# work. Three coordinators (one Raft group) and three simulated-GPU workers
# (4x A100, 8x H100, 2x L4) start as separate processes with their data under
# ./flotilla-local; a mixed batch of jobs is submitted; a kill-worker drill makes
# the worker running a checkpointed job SIGKILL itself, and its report shows the
# job moving and resuming from its checkpoint step within the 30 s objective; a
# leader-failover drill kills the leading coordinator while jobs run and are
# submitted, and its report shows another leading within the 1 s objective with
# nothing lost, doubled or restarted. The killed coordinator is restarted and
# rejoins. The cluster keeps running afterwards: `source flotilla-local/env.sh`.
#
#   scripts/local-cluster.sh          run the demonstration (replaces an earlier local cluster)
#   scripts/local-cluster.sh stop     stop the local cluster's processes
set -euo pipefail
cd "$(dirname "$0")/.."
root=flotilla-local

stop_cluster() {
  if [ -f "$root/pids" ]; then
    while read -r name pid; do
      kill -TERM "$pid" 2>/dev/null && echo "stopped $name (pid $pid)" || true
    done < "$root/pids"
    sleep 1
    while read -r _ pid; do kill -KILL "$pid" 2>/dev/null || true; done < "$root/pids"
    rm -f "$root/pids"
  fi
}

if [ "${1:-}" = "stop" ]; then stop_cluster; exit 0; fi

say() { printf '\n==> %s\n' "$*"; }

say "installing missing system packages (if any)"
scripts/install-deps.sh --cluster

say "building (a first build takes a few minutes)"
swift build 2>&1 | grep -E "error|warning: unre|Compiling|Build complete" | grep -v "^\[" || true
bin="$(swift build --show-bin-path)"
ctl="$bin/flotillactl"
[ -x "$bin/flotilla-coordinator" ] && [ -x "$bin/flotilla-worker" ] && [ -x "$ctl" ] || { echo "build failed"; exit 1; }

stop_cluster
rm -rf "$root"
mkdir -p "$root/logs" "$root/checkpoints"

say "creating a CA and certificates in $root/pki"
"$ctl" tls ca create --cluster flotilla-local --dir "$root/pki/ca" >/dev/null
for c in 1 2 3; do
  "$ctl" tls cert create --role coordinator --name "coordinator-$c" --ca-dir "$root/pki/ca" --out "$root/pki/coordinator-$c" >/dev/null
done
for w in 1 2 3; do
  "$ctl" tls cert create --role worker --name "worker-$w" --ca-dir "$root/pki/ca" --out "$root/pki/worker-$w" >/dev/null
done
"$ctl" tls cert create --role admin --name operator --ca-dir "$root/pki/ca" --out "$root/pki/admin" >/dev/null
"$ctl" tls cert create --role client --name alice --tenant research --ca-dir "$root/pki/ca" --out "$root/pki/alice" >/dev/null
echo "CA, coordinator-1..3, worker-1..3, an admin certificate (operator) and a client of tenant research (alice)"

cat > "$root/env.sh" <<ENV
# source this file to point flotillactl at the local cluster
export PATH="$bin:\$PATH"
export FLOTILLA_ADDR=127.0.0.1:7400,127.0.0.1:7401,127.0.0.1:7402
export FLOTILLA_CACERT="$PWD/$root/pki/admin/ca.pem"
export FLOTILLA_CLIENT_CERT="$PWD/$root/pki/admin/cert.pem"
export FLOTILLA_CLIENT_KEY="$PWD/$root/pki/admin/key.pem"
ENV
# shellcheck disable=SC1091
source "$root/env.sh"

start() {  # name, command...
  local name=$1; shift
  nohup "$@" >>"$root/logs/$name.log" 2>&1 &
  local pid=$!
  disown  # the shell need not report the SIGKILL this demonstration sends
  echo "$name $pid" >> "$root/pids"
  echo "started $name (pid $pid, log $root/logs/$name.log)"
}
pid_of() { awk -v n="$1" '$1 == n { print $2 }' "$root/pids"; }

# coordinator-N: protocol 127.0.0.1:740(N-1), metrics http://127.0.0.1:940(N-1)/metrics;
# all three read cluster-configs/coordinator.yaml and override what is their own.
start_coordinator() {  # N
  local n=$1 name="coordinator-$1"
  sed -i "/^$name /d" "$root/pids" 2>/dev/null || true
  start "$name" env FLOTILLA_NAME="$name" FLOTILLA_LISTEN="127.0.0.1:740$((n - 1))" \
    FLOTILLA_HTTP_LISTEN="127.0.0.1:940$((n - 1))" FLOTILLA_DATA_DIR="$root/$name" \
    FLOTILLA_TLS_CERT="$root/pki/$name/cert.pem" FLOTILLA_TLS_KEY="$root/pki/$name/key.pem" \
    FLOTILLA_TLS_CA="$root/pki/$name/ca.pem" "$bin/flotilla-coordinator" --config cluster-configs/coordinator.yaml
}
leader_http() {  # the metrics port of the coordinator whose /readyz says "leader"
  for port in 9400 9401 9402; do
    [ "$(curl -sf "http://127.0.0.1:$port/readyz" 2>/dev/null)" = "leader" ] && { echo "$port"; return 0; }
  done
  return 1
}

say "starting three coordinators (one Raft group: 127.0.0.1:7400-7402, metrics :9400-9402)"
for c in 1 2 3; do start_coordinator "$c"; done
for _ in $(seq 100); do leader_http >/dev/null && break; sleep 0.1; done
leader_http >/dev/null || { tail "$root"/logs/coordinator-*.log; exit 1; }
"$ctl" operator raft list-peers

say "starting three workers"
for w in 1 2 3; do start "worker-$w" "$bin/flotilla-worker" --config "cluster-configs/worker-$w.yaml"; done
for _ in $(seq 100); do
  [ "$("$ctl" workers --json | jq '[.workers[]? | select(.state == "WORKER_STATE_READY")] | length')" = 3 ] && break
  sleep 0.2
done
"$ctl" workers

say "submitting a mixed batch of jobs"
submit() { "$ctl" jobs submit --json "$@" | jq -r '.job.id'; }
jobs=()
jobs+=("$(submit --model llama-70b --gpus 4 --steps 40 --tier premium --tenant research --idempotency-key demo-llama-1)")
jobs+=("$(submit --model llama-70b --gpus 4 --steps 40 --tier standard --tenant research --idempotency-key demo-llama-2)")
jobs+=("$(submit --model mochi-1 --gpus 4 --steps 50 --tier standard --tenant studio --idempotency-key demo-mochi-1)")
for n in 1 2 3; do
  jobs+=("$(submit --model sdxl --gpus 1 --steps 30 --tier free --tenant hobby --param prompt="a lighthouse $n" --idempotency-key "demo-sdxl-$n")")
done
jobs+=("$(submit --model stepper --gpus 1 --steps 20 --tier standard --tenant research --param step_ms=150 --idempotency-key demo-stepper-1)")
"$ctl" jobs list

say "waiting for a job on worker-1 to write a checkpoint, to run a kill-worker drill on worker-1"
# worker-1 (4x A100: sdxl, llama-70b) is the one to kill: worker-2 alone serves
# mochi-1 and worker-3 alone serves stepper, so with worker-1 gone every job can
# still finish, and a 4-GPU llama-70b job moves to worker-2's H100s.
victim=worker-1
victim_id="$("$ctl" workers --json | jq -r --arg n "$victim" '.workers[] | select(.name == $n) | .id')"
job="" step=""
for _ in $(seq 300); do
  line="$("$ctl" jobs list --state running --json | jq -r --arg w "$victim_id" '
    [.jobs[]? | select((.latestCheckpoint.step // "0" | tonumber) > 0) | select(.attempts[-1].workerId == $w)]
    | first // empty | "\(.id) \(.latestCheckpoint.step)"')"
  if [ -n "$line" ]; then read -r job step <<<"$line"; break; fi
  sleep 0.2
done
[ -n "$job" ] || { echo "no job on $victim reached a checkpoint"; exit 1; }
echo "job $job runs on $victim, last checkpoint at step $step"

say "failover drill: flotillactl drill kill-worker --target $victim --wait"
# The coordinator checks the blast radius, tells worker-1 to SIGKILL itself (as a
# crash would), watches its jobs resume elsewhere (heartbeat timeout 15 s), and
# judges the recovery against the 30 s objective. Exit 0 PASS, 1 FAIL, 2 ABORTED.
drill_status=0
"$ctl" drill kill-worker --target "$victim" --wait || drill_status=$?
[ "$drill_status" = 0 ] || echo "the drill did not pass (exit $drill_status)"

say "where job $job went"
moved=""
for _ in $(seq 900); do
  moved="$("$ctl" jobs get "$job" --json | jq -r '(.job // .) as $j | if ($j.attempts | length) > 1 and ($j.attempts[-1].state // "") != "ATTEMPT_STATE_ASSIGNED" then "\($j.attempts[-1].workerId) \($j.attempts[-1].resumedFromStep // "0")" else empty end')"
  [ -n "$moved" ] && break
  sleep 0.1
done
[ -n "$moved" ] || { echo "job $job did not move within 90 s:"; "$ctl" jobs get "$job"; exit 1; }
read -r new_worker resumed <<<"$moved"
new_name="$("$ctl" workers --json | jq -r --arg id "$new_worker" '.workers[] | select(.id == $id) | .name')"
echo "job $job moved from $victim to $new_name and resumed from checkpoint step $resumed"
"$ctl" workers

say "leader failover drill: flotillactl drill leader-failover --wait"
# Jobs run and a client submits one every 200 ms while the leading coordinator
# SIGKILLs itself. The next leader measures, from the kill, its election, its
# term's first commit and the first submission it acknowledges; it gives the
# workers one heartbeat timeout (15 s) to find it, then checks that no job was
# lost, none runs twice and no running job was restarted. Objective: a new
# leader within 1 s. Exit 0 PASS, 1 FAIL, 2 ABORTED, 3 REFUSED.
for n in 1 2; do
  submit --model stepper --gpus 1 --steps 120 --tier standard --tenant research --param step_ms=200 --idempotency-key "demo-long-$n" >/dev/null
done
( while :; do "$ctl" jobs submit --model stepper --steps 1 --tier standard --tenant research --param step_ms=10 >/dev/null 2>&1 || true; sleep 0.2; done ) &
submitter=$!
failover_status=0
"$ctl" drill leader-failover --wait || failover_status=$?
kill "$submitter" 2>/dev/null || true
wait "$submitter" 2>/dev/null || true
[ "$failover_status" = 0 ] || echo "the leader-failover drill did not pass (exit $failover_status)"

say "restarting the killed coordinator: it rejoins as a follower and catches up"
# (a supervisor's job: systemd, Nomad or Kubernetes would restart it the same way)
for c in 1 2 3; do
  kill -0 "$(pid_of "coordinator-$c")" 2>/dev/null || start_coordinator "$c"
done
for _ in $(seq 100); do
  followers=0
  for port in 9400 9401 9402; do
    case "$(curl -sf "http://127.0.0.1:$port/readyz" 2>/dev/null)" in "follower of"*) followers=$((followers + 1)) ;; esac
  done
  [ "$followers" = 2 ] && break
  sleep 0.1
done
"$ctl" operator raft list-peers

say "waiting for every job to finish"
left=""
for _ in $(seq 600); do
  left="$("$ctl" jobs list --json | jq '[.jobs[]? | select(.state == "JOB_STATE_QUEUED" or .state == "JOB_STATE_RUNNING")] | length')"
  [ "$left" = 0 ] && break
  sleep 0.5
done
"$ctl" jobs list
[ "$left" = 0 ] || echo "$left jobs still queued or running after 5 minutes"
echo
"$ctl" jobs get "$job"

say "what alice, a client bound to tenant research, sees: research's jobs only"
as_alice() {
  FLOTILLA_CLIENT_CERT="$root/pki/alice/cert.pem" FLOTILLA_CLIENT_KEY="$root/pki/alice/key.pem" "$ctl" "$@"
}
as_alice jobs list

say "done: the cluster is still running"
cat <<TXT
  source $root/env.sh            # points flotillactl at it (admin certificate)
  flotillactl status             # cluster summary
  flotillactl workers            # workers, GPUs, heartbeats
  flotillactl jobs submit --model sdxl --steps 20 --wait
  flotillactl jobs watch JOB_ID
  FLOTILLA_CLIENT_CERT=$root/pki/alice/cert.pem FLOTILLA_CLIENT_KEY=$root/pki/alice/key.pem \
    flotillactl jobs list        # as alice: tenant research's jobs only
  flotillactl breakers           # per-model circuit breakers (reset|trip MODEL)
  flotillactl drill list         # failover drills run (drill show ID; drill freeze-worker --duration 20s --wait ...)
  flotillactl operator raft list-peers           # the coordinators: role, term, match index, last contact
  flotillactl drill leader-failover --mode transfer --wait   # a graceful handover, judged the same way
  flotillactl tenants            # quotas and usage (tenants set NAME --max-gpus N ...)
  curl -s http://127.0.0.1:9400/metrics | grep flotilla_   # (9401, 9402: the other coordinators)
  scripts/local-cluster.sh stop  # stops it; data and logs stay in $root/
TXT
