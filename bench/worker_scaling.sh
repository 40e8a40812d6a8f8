#!/usr/bin/env bash
# ep-worker scaling benchmark (issue #15): phases/s with 1, 2 and 4 workers against the
# zero-latency emulator, and the claim latency (runnable → claimed) p50/p99.
#
#   bench/worker_scaling.sh [BUILD_DIR]      (default build/, the release preset)
#
# For each worker count K: a fresh database on a throwaway cluster (tests/support/pg_cluster.sh,
# fsync on: --durable), EP_BENCH_RUNS runs of the 6-phase chaos6 workflow submitted with
# `ep-run --detach` (not timed), then K workers with --exit-when-idle; phases/s = 6 × runs /
# (wall time until the last worker exits). Then the claim latency: K idle workers, runs
# submitted one at a time every EP_BENCH_GAP_MS; each claim's "runnable for N ms" (time from
# the submit's commit to the claim, as the store's clock sees it: NOTIFY wake-up + claim) from
# the workers' logs.
#
# Knobs: EP_BENCH_RUNS (default 100), EP_BENCH_CONCURRENCY (per worker, default 4),
# EP_BENCH_LATENCY_RUNS (default 40), EP_BENCH_GAP_MS (default 50).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
runs=${EP_BENCH_RUNS:-100}
concurrency=${EP_BENCH_CONCURRENCY:-4}
latency_runs=${EP_BENCH_LATENCY_RUNS:-40}
gap_ms=${EP_BENCH_GAP_MS:-50}
ep_run=$build/engine/cli/ep-run
ep_worker=$build/engine/worker/ep-worker
ep_emulator=$build/providers/emulator/ep-emulator
workflow=$src/tests/worker/chaos6.yaml

tmp=$(mktemp -d /tmp/ep-worker-bench.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    "$src/tests/support/pg_cluster.sh" stop "$tmp/pg" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT

"$src/tests/support/pg_cluster.sh" start "$tmp/pg" --durable >/dev/null
[[ -f $tmp/pg/skip ]] && { echo "no PostgreSQL: $(cat "$tmp/pg/skip")"; exit 1; }
server=$(cat "$tmp/pg/uri")
params=${server#*\?}

"$ep_emulator" --port 0 --print-port --zero-latency >"$tmp/port" 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do [[ -s $tmp/port ]] && break; sleep 0.1; done
base=http://127.0.0.1:$(head -n 1 "$tmp/port")
export EP_OPENAI_BASE_URL=$base/v1 EP_ANTHROPIC_BASE_URL=$base EP_GEMINI_BASE_URL=$base/v1beta
export EP_OPENAI_API_KEY=emulated-key EP_ANTHROPIC_API_KEY=emulated-key EP_GEMINI_API_KEY=emulated-key
export EP_HOME=$src EP_LOG_LEVEL=info
unset EP_DB

fresh_db() {
    psql "$server" -qc "CREATE DATABASE $1" >/dev/null
    echo "postgresql:///$1?$params"
}
percentile() {  # percentile P of the numbers on stdin
    sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int((NR*p+99)/100); if(i<1)i=1; print a[i]}'
}

echo "ep-worker scaling: $runs runs x 6 phases, zero-latency emulator, concurrency $concurrency per worker," \
     "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-8s %12s %10s %14s %14s\n" workers "phases/s" "wall s" "claim p50 ms" "claim p99 ms"
for k in 1 2 4; do
    uri=$(fresh_db "bench_k$k")
    for i in $(seq "$runs"); do
        "$ep_run" "$workflow" --db "$uri" --detach --quiet --input "tag=b$i" >/dev/null
    done
    t0=$(date +%s.%N)
    wp=()
    for w in $(seq "$k"); do
        "$ep_worker" --db "$uri" --concurrency "$concurrency" --id "bench$w" --exit-when-idle \
            2>"$tmp/tp-$k-$w.log" &
        wp+=($!)
    done
    for p in "${wp[@]}"; do wait "$p"; done
    t1=$(date +%s.%N)
    completed=$(psql "$uri" -Atqc "SELECT count(*) FROM phases WHERE status = 'completed'")
    wall=$(echo "$t1 - $t0" | bc -l)
    rate=$(echo "$completed / $wall" | bc -l)

    # Claim latency: K idle workers, runs arriving one by one.
    luri=$(fresh_db "bench_lat_k$k")
    wp=()
    for w in $(seq "$k"); do
        "$ep_worker" --db "$luri" --concurrency "$concurrency" --id "lat$w" --max-runs 1000000 \
            2>"$tmp/lat-$k-$w.log" &
        wp+=($!)
        pids+=($!)
    done
    sleep 1
    for i in $(seq "$latency_runs"); do
        "$ep_run" "$workflow" --db "$luri" --detach --quiet --input "tag=l$i" >/dev/null
        sleep "$(echo "$gap_ms / 1000" | bc -l)"
    done
    for _ in $(seq 300); do
        [[ $(psql "$luri" -Atqc "SELECT count(*) FROM runs WHERE status <> 'completed'") == 0 ]] && break
        sleep 0.1
    done
    for p in "${wp[@]}"; do kill -TERM "$p"; wait "$p" || true; done
    cat "$tmp"/lat-"$k"-*.log | sed -n 's/.*claimed (fence [0-9]*, runnable for \([0-9]*\) ms.*/\1/p' >"$tmp/lat-$k"
    p50=$(percentile 50 <"$tmp/lat-$k")
    p99=$(percentile 99 <"$tmp/lat-$k")
    printf "%-8s %12.0f %10.2f %14s %14s\n" "$k" "$rate" "$wall" "$p50" "$p99"
done
