#!/usr/bin/env bash
# Control-flow overhead of the shipped `ep-run` binary (issue 12), measured the way a user runs it:
# `ep-run --emulate` with the emulator at zero latency (EP_EMULATOR_TOKENS_PER_SECOND=0,
# EP_EMULATOR_FIRST_TOKEN_MS=0), so what is left per instance is the engine (scheduling, templates,
# jq expressions, checkpoints) plus the loopback HTTP/SSE call and the emulator's answer.
#
#   scripts/build.sh && bench/control_flow.sh
#
# Four generated workflows, run in interleaved rounds (this VM's speed drifts from minute to
# minute, so only figures taken side by side are compared):
#   chain   N phases a1 -> a2 -> ... (the plain chain: the per-phase baseline)
#   loop    a -> b -> c with `repeat: {from: a, until: '.iteration >= L'}`: 3 x L instances
#   fanout  one plan phase, then `for_each: '[0, 1, …, F-1]'` with max_parallel 1 (sequential, like
#           the chain): F item instances + 1 plan
#   one     a single phase (start-up, subtracted from the others)
# Per instance = (wall - wall of `one`) / instances. Ratio = per instance / chain per phase;
# issue 12's target is <= 1.5x. Medians (min, max) over the rounds.
#
# Knobs (environment):
#   EP_RUN            ep-run binary (default: build/engine/cli/ep-run, the release preset)
#   EP_BENCH_CHAIN    chain phases (default 300)
#   EP_BENCH_LOOP     loop iterations (default 100)
#   EP_BENCH_FANOUT   fan-out items (default 1000)
#   EP_BENCH_ROUNDS   measured rounds (default 3; one unmeasured warm-up round first)
#   EP_BENCH_DIR      where the temp dir (workflows, stores) goes (default $TMPDIR or /tmp)
#   EP_BENCH_KEEP=1   keep the temp dir
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
readonly root
readonly ep_run="${EP_RUN:-$root/build/engine/cli/ep-run}"
readonly chain_n="${EP_BENCH_CHAIN:-300}"
readonly loop_n="${EP_BENCH_LOOP:-100}"
readonly fanout_n="${EP_BENCH_FANOUT:-1000}"
readonly rounds="${EP_BENCH_ROUNDS:-3}"

die()
{
    echo "control_flow: $*" >&2
    exit 1
}

for v in "$chain_n" "$loop_n" "$fanout_n" "$rounds"; do
    [[ "$v" =~ ^[0-9]+$ && "$v" -ge 1 ]] || die "EP_BENCH_* must be positive integers (got '$v')"
done
[[ "$loop_n" -le 1000 ]] || die "EP_BENCH_LOOP: max_iterations is at most 1000"
[[ "$fanout_n" -le 10000 ]] || die "EP_BENCH_FANOUT: for_each takes at most 10000 items"
[[ -x "$ep_run" ]] || die "no ep-run at $ep_run (scripts/build.sh builds the release preset, or set EP_RUN)"

work="$(mktemp -d "${EP_BENCH_DIR:-${TMPDIR:-/tmp}}/ep-bench-flow.XXXXXX")"
readonly work
cleanup()
{
    if [[ "${EP_BENCH_KEEP:-0}" == 1 ]]; then
        echo "control_flow: kept $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
# Workflows
# ---------------------------------------------------------------------------------------------

write_workflows()
{
    {
        echo "name: bench-chain"
        echo "phases:"
        echo "  a1: {persona: architect, prompt: \"step 1\"}"
        for ((i = 2; i <= chain_n; i++)); do
            echo "  a$i: {persona: architect, needs: [a$((i - 1))], prompt: \"step $i after {{ phases.a$((i - 1)).output }}\"}"
        done
    } >"$work/chain.yaml"
    cat >"$work/loop.yaml" <<EOF
name: bench-loop
phases:
  a: {persona: architect, prompt: "a pass {{ loop.iteration }} after {{ previous.c.output }}"}
  b: {persona: architect, needs: [a], prompt: "b after {{ phases.a.output }}"}
  c:
    persona: architect
    needs: [b]
    prompt: "c after {{ phases.b.output }}"
    repeat: {from: a, until: '.iteration >= $loop_n', max_iterations: $loop_n}
EOF
    # jq's range is refused in workflow expressions (unbounded): the items are a literal array.
    local items
    items="[$(seq -s, 0 $((fanout_n - 1)))]"
    cat >"$work/fanout.yaml" <<EOF
name: bench-fanout
phases:
  plan: {persona: architect, prompt: "plan"}
  build:
    persona: architect
    needs: [plan]
    for_each: '$items'
    max_parallel: 1
    prompt: "item {{ index }} of {{ phases.plan.output }}"
EOF
    cat >"$work/one.yaml" <<EOF
name: bench-one
phases:
  a: {persona: architect, prompt: "one"}
EOF
}

# ---------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------

# Prints the wall time in microseconds of one `ep-run --emulate` of workflow $1 (fresh store);
# fails when the run does not complete.
run_once()
{
    local name="$1" db="$work/$1-$2.db" start end
    start=$(date +%s%N)
    env -u EP_OPENAI_API_KEY -u EP_ANTHROPIC_API_KEY -u EP_GEMINI_API_KEY -u EP_DB -u EP_HOME \
        EP_EMULATOR_TOKENS_PER_SECOND=0 EP_EMULATOR_FIRST_TOKEN_MS=0 \
        "$ep_run" "$work/$name.yaml" --emulate --quiet --db "$db" >"$work/$name.out" 2>"$work/$name.err" ||
        die "$name: ep-run failed: $(tail -3 "$work/$name.err")"
    end=$(date +%s%N)
    echo $(((end - start) / 1000))
}

median_min_max()
{
    sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
                                         printf "%.0f %.0f %.0f\n", m, v[1], v[NR] }'
}

main()
{
    write_workflows
    local -A per=()
    local r w_one w_chain w_loop w_fan
    echo "control_flow: ep-run=$ep_run chain=$chain_n loop=3x$loop_n fanout=$fanout_n rounds=$rounds" \
        "load=$(cut -d' ' -f1 /proc/loadavg)"
    for ((r = 0; r <= rounds; r++)); do
        w_one=$(run_once one "$r")
        w_chain=$(run_once chain "$r")
        w_loop=$(run_once loop "$r")
        w_fan=$(run_once fanout "$r")
        ((r == 0)) && continue # warm-up
        per[chain]+="$(((w_chain - w_one) / (chain_n - 1)))"$'\n'
        per[loop]+="$(((w_loop - w_one) / (3 * loop_n - 1)))"$'\n'
        per[fanout]+="$(((w_fan - w_one) / fanout_n))"$'\n'
        per[one]+="$w_one"$'\n'
    done
    local chain_med
    read -r chain_med _ _ < <(printf '%s' "${per[chain]}" | median_min_max)
    printf '%-8s %12s %18s %8s\n' "workflow" "instances" "us/instance (min,max)" "ratio"
    for k in chain loop fanout; do
        local med lo hi n
        read -r med lo hi < <(printf '%s' "${per[$k]}" | median_min_max)
        case $k in
        chain) n=$chain_n ;;
        loop) n=$((3 * loop_n)) ;;
        fanout) n=$((fanout_n + 1)) ;;
        esac
        printf '%-8s %12s %10s (%s,%s) %7s\n' "$k" "$n" "$med" "$lo" "$hi" \
            "$(awk -v a="$med" -v b="$chain_med" 'BEGIN { printf "%.2fx", a / b }')"
    done
    read -r med _ _ < <(printf '%s' "${per[one]}" | median_min_max)
    echo "start-up (1-phase run, subtracted): ${med} us; load after: $(cut -d' ' -f1 /proc/loadavg)"
}

main "$@"
