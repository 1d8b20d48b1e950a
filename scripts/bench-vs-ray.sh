#!/usr/bin/env bash
# Flotilla's cluster bench and Ray's 10,000-task workload, one after the other on
# this machine, and their ratio: absolute figures move between machines, the
# ratio in one run is the figure (README, Performance).
#   scripts/bench-vs-ray.sh            # needs ../shared/peers (or PEERS_DIR=...)
# Env: JOBS (10000), RUNS (3, for both), PEERS_DIR, RAY_VERSION (2.60.0).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-10000}
RUNS=${RUNS:-3}
PEERS_DIR=${PEERS_DIR:-../shared/peers}
[ -x "$PEERS_DIR/run_ray.sh" ] || { echo "no Ray peer scripts at $PEERS_DIR (set PEERS_DIR)" >&2; exit 2; }
out=$(mktemp -d /tmp/bench-vs-ray.XXXXXX)
trap 'rm -rf "$out"' EXIT

./scripts/install-deps.sh >/dev/null
for product in flotilla-coordinator flotilla-worker flotilla-bench; do
  swift build -c release --product "$product" >/dev/null
done
( cd "$PEERS_DIR" && RAY_VERSION=${RAY_VERSION:-2.60.0} ./setup.sh >/dev/null )

echo "# flotilla: $RUNS runs of flotilla-bench cluster --jobs $JOBS"
for run in $(seq "$RUNS"); do
  .build/release/flotilla-bench cluster --jobs "$JOBS" --worker-connections 0 --liveness-seconds 0 \
    | tee -a "$out/flotilla.txt"
done
echo "# ray: ./run_ray.sh w1 w2 ($RUNS runs of $JOBS tasks)"
( cd "$PEERS_DIR" && W1_JOBS=$JOBS W1_RUNS=$RUNS PEERS_RESULTS="$out/ray-results.txt" ./run_ray.sh w1 w2 ) \
  | tee "$out/ray.txt"

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else print v[int((NR + 1) / 2)] }'; }
figure() { grep "$1" "$out/flotilla.txt" | sed -E "s#.*$2.*#\1#" | median; }
single=$(figure "one job per request" ': ([0-9.]+) jobs/s')
batched=$(figure "batched" ': ([0-9.]+) jobs/s')
p99=$(figure "submit acknowledgement" 'p99 ([0-9.]+) ms')
sync_p99=$(figure "this disk" 'p99 ([0-9.]+) ms')
ray=$(grep "workload=throughput stat=median" "$out/ray.txt" | sed -E 's/.*jobs_per_s=([0-9.]+).*/\1/' | tail -1)
ray_get=$(grep "mode=get_roundtrip" "$out/ray.txt" | sed -E 's/.*p99_ms=([0-9.]+).*/\1/' | tail -1)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }

echo
echo "| $(date -u +%F), $(nproc) cores, Ray $("${PEERS_VENV:-/opt/peers-venv}/bin/python" -c 'import ray; print(ray.__version__)'), $(swift --version 2>/dev/null | head -1 | sed -E 's/.*version ([0-9.]+).*/Swift \1/') | Flotilla (median of $RUNS) | Ray (median of $RUNS) | ratio |"
echo "|---|---|---|---|"
echo "| $JOBS zero-step jobs, batched submission (durable) | $batched jobs/s | $ray jobs/s | $(ratio "$batched" "$ray") |"
echo "| $JOBS zero-step jobs, one per request (durable) | $single jobs/s | $ray jobs/s | $(ratio "$single" "$ray") |"
echo "| submit ack p99 at half load (Flotilla) / ray.get round trip p99 | $p99 ms | $ray_get ms | |"
echo "| one 300-byte append + fdatasync on this disk, p99 (the floor of a durable ack) | $sync_p99 ms | (Ray does not sync) | |"
