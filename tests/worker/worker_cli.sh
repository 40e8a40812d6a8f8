#!/usr/bin/env bash
# ep-run --detach / --list / --show / --resume and ep-worker on PostgreSQL, through the real
# processes and the emulator, in a database of its own on the ep_postgres fixture's cluster:
#   1. --detach prints only the run id and exits 0; the password of the URI is in no output;
#   2. --list and --show read the Postgres store; the run is pending;
#   3. ep-worker --exit-when-idle runs it to completion and exits 0;
#   4. SIGTERM with runs in flight: the worker exits 0 within its drain timeout and the stopped
#      run is back to pending, unowned; `ep-run --resume` then completes it without requesting
#      the phases that had completed again;
#   5. --detach refuses a SQLite store; ep-worker refuses one; a bad --db is a clear exit 2.
#
#   worker_cli.sh BUILD_DIR SOURCE_DIR      (EP_TEST_PG_STATE: the fixture's state directory)
set -euo pipefail

build=$1
src=$2
ep_run=$build/engine/cli/ep-run
ep_worker=$build/engine/worker/ep-worker
ep_emulator=$build/providers/emulator/ep-emulator
workflow=$src/tests/worker/chaos6.yaml

state=${EP_TEST_PG_STATE:?set EP_TEST_PG_STATE (the ep_postgres fixture)}
if [[ -f $state/skip ]]; then
    echo "SKIPPED: $(cat "$state/skip")"
    exit 77
fi
server_uri=$(cat "$state/uri")
db=ep_worker_cli_$$
psql "$server_uri" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $db" >/dev/null
# A password in the URI (trust authentication ignores it): it must never be printed.
secret=hunter2-never-printed
uri=$(sed -e "s#postgresql:///ep_test#postgresql://ep:$secret@/$db#" <<<"$server_uri")

tmp=$(mktemp -d /tmp/ep-worker-cli.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    psql "$server_uri" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }
db_uri="postgresql:///$db?${server_uri#*\?}"
sql() { psql "$db_uri" -v ON_ERROR_STOP=1 -Atqc "$1"; }
no_secret() { ! grep -q "$secret" "$@" || fail "the password appears in $*"; }

start_emulator() {
    "$ep_emulator" --port 0 --print-port "$@" >"$tmp/emulator.port" 2>"$tmp/emulator.log" &
    pids+=($!)
    for _ in $(seq 100); do [[ -s $tmp/emulator.port ]] && break; sleep 0.1; done
    base=http://127.0.0.1:$(head -n 1 "$tmp/emulator.port")
    export EP_OPENAI_BASE_URL=$base/v1 EP_ANTHROPIC_BASE_URL=$base EP_GEMINI_BASE_URL=$base/v1beta
}
export EP_OPENAI_API_KEY=emulated-key EP_ANTHROPIC_API_KEY=emulated-key EP_GEMINI_API_KEY=emulated-key
export EP_HOME=$src
unset EP_DB
start_emulator --zero-latency

# 1. --detach
"$ep_run" "$workflow" --db "$uri" --detach --input tag=one >"$tmp/out" 2>"$tmp/err" || fail "--detach exited $?"
run_id=$(cat "$tmp/out")
[[ $(wc -l <"$tmp/out") -eq 1 && -n $run_id ]] || fail "--detach printed more than the run id: $(cat "$tmp/out")"
grep -q "submitted run $run_id" "$tmp/err" || fail "no confirmation on stderr: $(cat "$tmp/err")"
grep -q "ep:\*\*\*@" "$tmp/err" || fail "the store is not named in its redacted form: $(cat "$tmp/err")"
no_secret "$tmp/out" "$tmp/err"

# 2. --list / --show on Postgres
"$ep_run" --list --db "$uri" >"$tmp/list" 2>&1 || fail "--list exited $?"
grep -q "$run_id" "$tmp/list" || fail "--list does not show the run: $(cat "$tmp/list")"
grep -q "pending" "$tmp/list" || fail "--list does not show it pending: $(cat "$tmp/list")"
"$ep_run" --show "$run_id" --db "$uri" >"$tmp/show" 2>&1 || fail "--show exited $?"
grep -q "chaos6" "$tmp/show" || fail "--show does not show the run: $(cat "$tmp/show")"
no_secret "$tmp/list" "$tmp/show"

# 3. a worker runs it
timeout 60 "$ep_worker" --db "$uri" --exit-when-idle --id cli-test >"$tmp/w1.out" 2>"$tmp/w1.err" \
    || fail "ep-worker exited $?: $(cat "$tmp/w1.err")"
"$ep_run" --show "$run_id" --db "$uri" >"$tmp/show" 2>&1
grep -q "completed" "$tmp/show" || fail "the worker did not complete the run: $(cat "$tmp/show") $(cat "$tmp/w1.err")"
no_secret "$tmp/w1.out" "$tmp/w1.err"

# 4. SIGTERM mid-run: slow answers (each phase ≈ 1.5 s), a short drain timeout.
kill -9 "${pids[0]}"; pids=()
start_emulator --ttft-ms 1500 --tps 1000
"$ep_run" "$workflow" --db "$uri" --detach --quiet --input tag=two >"$tmp/out2"
run2=$(cat "$tmp/out2")
"$ep_worker" --db "$uri" --id sigterm-test --drain-timeout 0.5 >"$tmp/w2.out" 2>"$tmp/w2.err" &
wpid=$!
pids+=($wpid)
# Wait until its first phase completed and a later one is in flight.
for _ in $(seq 200); do
    [[ $(sql "SELECT count(*) FROM phases WHERE run_id = '$run2' AND status = 'completed'") -ge 1 ]] && break
    sleep 0.1
done
sleep 0.5
started=$SECONDS
kill -TERM "$wpid"
rc=0
wait "$wpid" || rc=$?
((rc == 0)) || fail "ep-worker exited $rc on SIGTERM: $(cat "$tmp/w2.err")"
((SECONDS - started <= 10)) || fail "ep-worker took $((SECONDS - started)) s to stop (drain timeout 0.5 s)"
grep -q "stopping" "$tmp/w2.err" || fail "no stop message: $(cat "$tmp/w2.err")"
status=$(sql "SELECT status || '/' || COALESCE(owner, 'free') FROM runs WHERE id = '$run2'")
[[ $status == pending/free ]] || fail "the stopped run is $status, not pending/free: $(cat "$tmp/w2.err")"
done_before=$(sql "SELECT string_agg(phase_id, ',' ORDER BY phase_id) FROM phases WHERE run_id = '$run2' AND status = 'completed'")
curl -sf -X POST "$base/_emulator/reset" >/dev/null
"$ep_run" --resume "$run2" --db "$uri" --quiet >"$tmp/r.out" 2>"$tmp/r.err" || fail "--resume exited $?: $(cat "$tmp/r.err")"
[[ $(sql "SELECT status FROM runs WHERE id = '$run2'") == completed ]] || fail "--resume did not complete the run"
curl -sf "$base/_emulator/requests" >"$tmp/req.json"
IFS=, read -ra done_phases <<<"$done_before"
for p in "${done_phases[@]}"; do
    n=$(jq --arg m "/$p]" '[.requests[] | select(.body | tostring | contains($m))] | length' "$tmp/req.json")
    ((n == 0)) || fail "phase $p completed before the stop and was requested again on resume"
done
no_secret "$tmp/w2.out" "$tmp/w2.err" "$tmp/r.out" "$tmp/r.err"

# 5. bad stores
rc=0
"$ep_run" "$workflow" --db "$tmp/runs.db" --detach --input tag=x >"$tmp/o" 2>"$tmp/e" || rc=$?
((rc == 2)) && grep -q "PostgreSQL" "$tmp/e" || fail "--detach with SQLite: exit $rc, $(cat "$tmp/e")"
rc=0
"$ep_worker" --db "$tmp/runs.db" >"$tmp/o" 2>"$tmp/e" || rc=$?
((rc == 2)) && grep -q "PostgreSQL" "$tmp/e" || fail "ep-worker with SQLite: exit $rc, $(cat "$tmp/e")"
rc=0
"$ep_worker" --db "postgresql://ep:$secret@/no_such_db?host=/nonexistent" >"$tmp/o" 2>"$tmp/e" || rc=$?
((rc == 2)) || fail "ep-worker with an unreachable database: exit $rc"
no_secret "$tmp/o" "$tmp/e"
echo PASSED
