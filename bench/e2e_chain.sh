#!/usr/bin/env bash
# End-to-end benchmark of the shipped `ep-run` binary, measured the way a user runs it (issue 11).
#
#   scripts/build.sh && bench/e2e_chain.sh
#
# Starts a throwaway nginx on 127.0.0.1 that answers POST /v1/chat/completions with a canned
# OpenAI Chat Completions SSE stream, then runs, in interleaved rounds (this VM's speed drifts
# 2-3x from minute to minute, so figures are only comparable when taken side by side):
#   1. curl: 1 call, then 5N sequential calls on ONE keep-alive connection -> raw time per call
#   2. ep-run on an N-phase chain (--quiet, store on disk)      -> wall, CPU, TCP connections
#   3. ep-run on a 1-phase chain (same store, same flags)       -> start-up cost to subtract
#   4. ep-run --validate of the shipped design-implement-review -> validation wall
# and prints medians (min, max) over the rounds. Headline: ep-run per phase / curl per call,
# both with their process start-up subtracted: (wall of N calls - wall of 1 call) / (N - 1).
#
# Knobs (environment):
#   EP_RUN             ep-run binary (default: build/engine/cli/ep-run, the release preset)
#   EP_BENCH_PHASES    phases in the chain (default 200)
#   EP_BENCH_CURL_CALLS curl calls per burst (default 5 x phases: curl's start-up varies by
#                      several ms on a loaded machine, which must not swamp a ~0.3 ms call)
#   EP_BENCH_ROUNDS    measured rounds (default 7; one unmeasured warm-up round runs first)
#   EP_BENCH_DIR       where the temp dir (store, nginx files) goes (default $TMPDIR or /tmp);
#                      the store's file system type is printed, /dev/shm measures without a disk
#   EP_BENCH_RUN_ARGS  extra ep-run flags for every run, word-split (e.g. "--durability full")
#   EP_BENCH_STRACE=1  after the rounds, one more chain run under `strace -f -c` (syscall summary)
#   EP_BENCH_KEEP=1    keep the temp dir (workflows, nginx config and access log) for inspection
# Any other variable (e.g. an EP_* experiment switch) passes through to ep-run unchanged, except
# the provider keys and base URLs, which the bench sets or removes so nothing leaves loopback.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
readonly root
readonly phases="${EP_BENCH_PHASES:-200}"
readonly curl_calls="${EP_BENCH_CURL_CALLS:-$((5 * ${phases//[^0-9]/0}))}"
readonly rounds="${EP_BENCH_ROUNDS:-7}"
readonly ep_run="${EP_RUN:-$root/build/engine/cli/ep-run}"
readonly shipped_workflow="$root/workflows/design-implement-review.yaml"
read -r -a extra_run_args <<<"${EP_BENCH_RUN_ARGS:-}"

work=""         # the temp dir; everything the bench creates lives in it
nginx_pid=""    # the nginx master, a child of this script
watchdog_pid="" # see start_watchdog
port=""

die()
{
    echo "e2e_chain: $*" >&2
    exit 1
}

# ---------------------------------------------------------------------------------------------
# Set-up and tear-down
# ---------------------------------------------------------------------------------------------

check_prerequisites()
{
    [[ "$phases" =~ ^[0-9]+$ && "$phases" -ge 2 ]] || die "EP_BENCH_PHASES must be an integer >= 2"
    [[ "$rounds" =~ ^[0-9]+$ && "$rounds" -ge 1 ]] || die "EP_BENCH_ROUNDS must be a positive integer"
    [[ "$curl_calls" =~ ^[0-9]+$ && "$curl_calls" -ge 2 ]] || die "EP_BENCH_CURL_CALLS must be an integer >= 2"
    nginx_bin="$(command -v nginx || true)"
    [[ -z "$nginx_bin" && -x /usr/sbin/nginx ]] && nginx_bin=/usr/sbin/nginx
    [[ -n "$nginx_bin" ]] || die "nginx not found: install it with scripts/setup.sh (Debian nginx-light)"
    command -v curl >/dev/null || die "curl not found (apt-get install curl)"
    [[ -x "$ep_run" ]] || die "ep-run not found at $ep_run: build it with scripts/build.sh (or set EP_RUN)"
    ((BASH_VERSINFO[0] >= 5)) || die "needs bash >= 5 (EPOCHREALTIME)"
}

# Stops nginx (gracefully, then fast: its master takes the workers down) and removes the temp dir.
cleanup()
{
    [[ -z "$watchdog_pid" ]] || kill "$watchdog_pid" 2>/dev/null || true
    if [[ -n "$nginx_pid" ]] && kill -0 "$nginx_pid" 2>/dev/null; then
        stop_nginx QUIT || stop_nginx TERM || stop_nginx KILL || true
        wait "$nginx_pid" 2>/dev/null || true
    fi
    if [[ -n "$work" && -d "$work" ]]; then
        if [[ "${EP_BENCH_KEEP:-0}" == 1 ]]; then
            echo "e2e_chain: kept $work" >&2
        else
            rm -rf "$work"
        fi
    fi
}

stop_nginx()   # $1 = signal; true once the master has exited (within ~2 s)
{
    kill -"$1" "$nginx_pid" 2>/dev/null || return 0
    local _
    for _ in $(seq 40); do
        kill -0 "$nginx_pid" 2>/dev/null || return 0
        sleep 0.05
    done
    return 1
}

# Should this script die without running its EXIT trap (SIGKILL; a signal bash lost), a
# watchdog still stops nginx and removes the temp dir. It polls once a second: negligible load.
start_watchdog()
{
    local parent=$$ pid="$nginx_pid" dir="$work" keep="${EP_BENCH_KEEP:-0}"
    (
        trap - EXIT INT TERM
        while kill -0 "$parent" 2>/dev/null; do sleep 1; done
        kill -TERM "$pid" 2>/dev/null || true
        [[ "$keep" == 1 ]] || { sleep 1; rm -rf "$dir"; }
    ) </dev/null >/dev/null 2>&1 &
    watchdog_pid=$!
}

make_work_dir()
{
    local parent="${EP_BENCH_DIR:-${TMPDIR:-/tmp}}"
    work="$(mktemp -d "$parent/ep-e2e.XXXXXX")" || die "cannot create a temp dir in $parent"
    mkdir -p "$work/nginx/tmp"
}

# ---------------------------------------------------------------------------------------------
# The upstream: nginx serving a canned Chat Completions stream
# ---------------------------------------------------------------------------------------------

# What OpenAI sends for a short streamed answer with stream_options.include_usage: a role chunk,
# content deltas, a finish chunk, a usage chunk with `choices: []`, then the [DONE] sentinel.
write_sse_body()
{
    local id='"id":"chatcmpl-bench0001","object":"chat.completion.chunk","created":1731000000'
    id+=',"model":"gpt-4.1-2025-04-14","system_fingerprint":"fp_bench"'
    local chunk='{'"$id"',"choices":[{"index":0,"delta":%s,"logprobs":null,"finish_reason":%s}],"usage":null}'
    {
        # shellcheck disable=SC2059  # the chunk template is the format on purpose
        printf "data: $chunk\n\n" '{"role":"assistant","content":"","refusal":null}' null
        local piece
        for piece in "Here is" " the next" " step of" " the plan:" " keep it" " short."; do
            # shellcheck disable=SC2059
            printf "data: $chunk\n\n" '{"content":"'"$piece"'"}' null
        done
        # shellcheck disable=SC2059
        printf "data: $chunk\n\n" '{}' '"stop"'
        printf 'data: {%s,"choices":[],"usage":{"prompt_tokens":58,"completion_tokens":9,' "$id"
        printf '"total_tokens":67,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},'
        printf '"completion_tokens_details":{"reasoning_tokens":0}}}\n\n'
        printf 'data: [DONE]\n\n'
    } >"$work/reply.sse"
    expected_output="Here is the next step of the plan: keep it short."
}

# The body as an nginx single-quoted string: nginx unescapes \\ \' \n inside quotes. `$` would
# start a variable and has no escape, so the canned body must not contain one.
nginx_quoted_body()
{
    grep -q '\$' "$work/reply.sse" && die "internal: the canned SSE body contains '\$'"
    local body
    body="$(cat "$work/reply.sse"; printf x)"   # the x keeps the trailing newlines $() would drop
    body="${body%x}"
    body="${body//\\/\\\\}"
    body="${body//\'/\\\'}"
    body="${body//$'\n'/\\n}"
    printf "'%s'" "$body"
}

# A throwaway instance: every path (pid, logs, temp dirs) inside the temp dir, loopback only, one
# worker (a 2-core machine shared with ep-run), keep-alive without a practical request limit.
# The access log records nginx's connection serial number and the request's index on it, so a
# run's TCP connections can be counted from its log lines.
write_nginx_conf()
{
    local n="$work/nginx"
    cat >"$n/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $n/nginx.pid;
error_log $n/error.log warn;
events { worker_connections 1024; }
http {
    log_format bench '\$connection \$connection_requests \$status \$request_method \$request_uri \$request_length \$bytes_sent \$request_time "\$http_user_agent"';
    access_log $n/access.log bench;
    client_body_temp_path $n/tmp/body;
    proxy_temp_path $n/tmp/proxy;
    fastcgi_temp_path $n/tmp/fastcgi;
    uwsgi_temp_path $n/tmp/uwsgi;
    scgi_temp_path $n/tmp/scgi;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    tcp_nodelay on;
    server_tokens off;
    types { }
    server {
        listen 127.0.0.1:$port;
        location = /v1/chat/completions {
            limit_except POST { deny all; }
            default_type "text/event-stream; charset=utf-8";
            add_header Cache-Control "no-cache" always;
            return 200 $(nginx_quoted_body);
        }
        location / { return 404; }
    }
}
EOF
}

port_in_use()
{
    ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# Tries random ports until nginx binds one; returns once it answers with the canned body.
start_nginx()
{
    local attempt
    for attempt in $(seq 20); do
        port=$((20000 + RANDOM % 40000))
        port_in_use "$port" && continue
        write_nginx_conf
        "$nginx_bin" -p "$work/nginx/" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" \
            </dev/null >"$work/nginx/stdout.log" 2>&1 &
        nginx_pid=$!
        if wait_for_nginx; then
            return 0
        fi
        kill -KILL "$nginx_pid" 2>/dev/null || true   # it may be up but not answering as expected
        wait "$nginx_pid" 2>/dev/null || true
        nginx_pid=""
        grep -q "Address already in use" "$work/nginx/error.log" 2>/dev/null && continue
        die "nginx did not start (attempt $attempt, port $port): $(tail -5 "$work/nginx/error.log" 2>/dev/null)"
    done
    die "no free port found for nginx after 20 attempts"
}

wait_for_nginx()
{
    local _
    for _ in $(seq 100); do
        kill -0 "$nginx_pid" 2>/dev/null || return 1
        if curl -s --max-time 1 -X POST -d '{}' "http://127.0.0.1:$port/v1/chat/completions" \
            -o "$work/probe.sse" 2>/dev/null && cmp -s "$work/probe.sse" "$work/reply.sse"; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# nginx writes a request's log line after the response went out, so a client can exit before
# its last line is there: wait (briefly) until the log has at least $1 lines.
wait_for_log_lines()
{
    local want="$1" _
    for _ in $(seq 200); do
        (($(log_lines) >= want)) && return 0
        sleep 0.01
    done
    return 0   # the caller reports the request count it sees
}

log_lines()
{
    wc -l <"$work/nginx/access.log"
}

# "requests connections max-requests-on-one-connection non-200" for log lines $1+1 .. $2.
log_slice_summary()
{
    sed -n "$(($1 + 1)),$2p" "$work/nginx/access.log" |
        awk '{ n++; c[$1]++; if ($3 != 200) bad++ }
             END { m = 0; k = 0; for (x in c) { k++; if (c[x] > m) m = c[x] }
                   printf "%d %d %d %d\n", n, k, m, bad + 0 }'
}

# ---------------------------------------------------------------------------------------------
# The workflows
# ---------------------------------------------------------------------------------------------

# A chain: phase i needs phase i-1 and quotes its output (so each phase renders a template that
# reads the previous result, as a real chain does). The persona `architect` routes to OpenAI
# under mix D; every phase is one streamed call to nginx.
write_chain_workflow()
{
    local file="$1" count="$2" i id prev
    {
        echo "name: e2e-chain-$count"
        echo "description: $count-phase chain for bench/e2e_chain.sh"
        echo "version: 1"
        echo "phases:"
        for ((i = 0; i < count; i++)); do
            printf -v id 'p%03d' "$i"
            echo "  $id:"
            echo "    persona: architect"
            if ((i == 0)); then
                echo "    prompt: Plan step 0 of a small task in one sentence."
            else
                echo "    needs: [$prev]"
                echo "    prompt: |"
                echo "      Plan step $i in one sentence. The previous step said:"
                echo "      {{ phases.$prev.output }}"
            fi
            prev="$id"
        done
    } >"$file"
}

# ep-run's environment: the OpenAI provider points at nginx with a dummy key; every other
# provider key or base URL is removed, and ep-run runs in the temp dir so no ./.env is read.
build_ep_env()
{
    ep_env=(-C "$work")
    local name
    for name in $(compgen -e); do
        case "$name" in
            EP_*_API_KEY | EP_*_BASE_URL | EP_CLAUDE_CLI | EP_DB | EP_HOME | EP_DEFAULT_PROVIDER)
                ep_env+=(-u "$name") ;;
        esac
    done
    ep_env+=("EP_OPENAI_BASE_URL=http://127.0.0.1:$port/v1" "EP_OPENAI_API_KEY=dummy-bench-key")
}

check_routing()
{
    local out
    out="$(env "${ep_env[@]}" "$ep_run" --explain "$work/chain1.yaml" --config D 2>&1)" ||
        die "ep-run --explain failed:"$'\n'"$out"
    grep -qE '^ +chosen +openai/' <<<"$out" || die "the chain does not route to openai under --config D:"$'\n'"$out"
}

# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------

# The request body EP sends for a phase, near enough: model, system + user message, streaming
# with usage. curl sends it N times on one connection (N URLs in one invocation reuse it), and
# once in an invocation of its own: its start-up, subtracted as for ep-run.
write_curl_request()
{
    cat >"$work/request.json" <<'EOF'
{"model":"gpt-4.1","messages":[{"role":"system","content":"You are a senior software architect. Produce clear, decision-oriented designs: components, interfaces, data flow, failure modes and the trade-offs you chose. Be concrete and brief."},{"role":"user","content":"Plan step 1 in one sentence. The previous step said:\nHere is the next step of the plan: keep it short.\n"}],"stream":true,"stream_options":{"include_usage":true},"temperature":0.3,"max_completion_tokens":8192}
EOF
    local url="http://127.0.0.1:$port/v1/chat/completions" i
    : >"$work/curl.args"
    for ((i = 0; i < curl_calls; i++)); do
        printf 'url = "%s"\noutput = "/dev/null"\n' "$url" >>"$work/curl.args"   # -o binds to one URL
    done
    head -2 "$work/curl.args" >"$work/curl1.args"
}

# One curl invocation: $1 calls, the URLs in config file $2. Sets run_wall_us, run_cpu_us (as
# timed_command) and curl_transfer_us (mean of curl's own time_total); fails the bench unless
# every call answered 200 and all went over one connection.
curl_burst()
{
    local calls="$1" args="$2" bad connects
    timed_command curl -sS --no-buffer -X POST -H "Content-Type: application/json" \
        -H "Authorization: Bearer dummy" -A "ep-bench-curl" --data-binary @"$work/request.json" \
        -K "$args" -w '%{http_code} %{time_total} %{num_connects}\n'
    ((run_rc == 0)) || die "curl exited $run_rc: $(tail -3 "$work/last.err")"
    [[ "$(wc -l <"$work/last.out")" == "$calls" ]] || die "curl made $(wc -l <"$work/last.out") calls, not $calls"
    read -r curl_transfer_us connects bad < <(awk '
        { t += $2; c += $3; n++; if ($1 != 200) bad++ }
        END { printf "%.1f %d %d\n", t / n * 1e6, c, bad + 0 }' "$work/last.out")
    [[ "$bad" == 0 ]] || die "curl: $bad calls did not answer 200"
    [[ "$connects" == 1 ]] || die "curl opened $connects connections for $calls calls, not one"
}

# Runs "$@"; sets run_wall_us, run_cpu_us (user+sys of the process and all its threads, from the
# shell's `time`, i.e. getrusage of the waited child) and run_rc. Output: $work/last.{out,err}.
timed_command()
{
    local t0 t1 cpu TIMEFORMAT='%3R %3U %3S'
    run_rc=0
    t0=$EPOCHREALTIME
    {
        time "$@" >"$work/last.out" 2>"$work/last.err"
    } 2>"$work/last.time" || run_rc=$?
    t1=$EPOCHREALTIME
    run_wall_us=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) * 1e6 }')
    read -r cpu <"$work/last.time"
    run_cpu_us=$(awk -v s="$cpu" 'BEGIN { split(s, p, " "); printf "%.0f", (p[2] + p[3]) * 1e6 }')
}

timed_ep_run()
{
    timed_command env "${ep_env[@]}" "$ep_run" "$@"
}

run_chain()   # $1 = workflow; fails the bench on a failed run
{
    timed_ep_run "$1" --config D --quiet --db "$work/store/runs.db" "${extra_run_args[@]}"
    if ((run_rc != 0)); then
        die "ep-run $(basename "$1") exited $run_rc:"$'\n'"$(tail -20 "$work/last.err")"
    fi
}

# The newest run in the store must be completed with every phase completed, and its last phase's
# output must be the canned text (the stream was decoded, not just received).
verify_last_run()
{
    local count="$1" list run_id show last
    list="$(env "${ep_env[@]}" "$ep_run" --list --db "$work/store/runs.db" 2>&1)" || die "ep-run --list failed: $list"
    run_id="$(newest_run_id <<<"$list")"
    [[ -n "$run_id" ]] || die "cannot find the newest run in ep-run --list:"$'\n'"$list"
    show="$(env "${ep_env[@]}" "$ep_run" --show "$run_id" --db "$work/store/runs.db" 2>&1)" ||
        die "ep-run --show $run_id failed: $show"
    grep -qE '^status +completed' <<<"$show" || die "run $run_id is not completed:"$'\n'"$(head -30 <<<"$show")"
    local done_count
    done_count="$(grep -cE '^p[0-9]+ +completed +openai/' <<<"$show" || true)"
    [[ "$done_count" == "$count" ]] ||
        die "run $run_id: $done_count of $count phases completed on openai:"$'\n'"$(head -30 <<<"$show")"
    printf -v last 'p%03d' $((count - 1))
    local output
    output="$(env "${ep_env[@]}" "$ep_run" --show "$run_id" --output "$last" --db "$work/store/runs.db" 2>&1)" ||
        die "ep-run --show $run_id --output $last failed: $output"
    [[ "$output" == "$expected_output" ]] ||
        die "run $run_id: phase $last output is '$output', expected '$expected_output'"
}

newest_run_id()
{
    # --list prints newest first; a run id is the first field of a data row.
    awk 'NR > 1 && $1 ~ /^[0-9A-Za-z_-]+$/ { print $1; exit }'
}

# The figures of one round, in the column order of rounds.tsv (print_report reads them by name).
readonly round_columns=(curl_call curl_transfer curl_cpu ep_wall_per_phase ep_phase overhead ratio
    cpu_per_phase cpu_phase chain_ms start_ms validate_ms curl_start_ms connections max_per_connection)

# One round: curl (1 call, then N calls), chain run, start-up run, validate. Appends a row to
# $work/rounds.tsv. Per-call and per-phase figures subtract start-up the same way for both
# clients: (wall of N calls - wall of 1 call) / (N - 1), so neither pays for its process start.
run_round()
{
    local round="$1" before requests conns max_per_conn bad

    curl_burst 1 "$work/curl1.args"
    local curl_start_wall=$run_wall_us curl_start_cpu=$run_cpu_us
    before=$(log_lines)
    curl_burst "$curl_calls" "$work/curl.args"
    local curl_wall=$run_wall_us curl_cpu=$run_cpu_us
    wait_for_log_lines $((before + curl_calls))
    read -r requests conns max_per_conn bad < <(log_slice_summary "$before" "$(log_lines)")
    ((conns == 1)) || die "nginx saw $conns connections from one curl invocation: the baseline is not keep-alive"

    before=$(log_lines)
    run_chain "$work/chain.yaml"
    local chain_wall=$run_wall_us chain_cpu=$run_cpu_us
    wait_for_log_lines $((before + phases))
    read -r requests conns max_per_conn bad < <(log_slice_summary "$before" "$(log_lines)")
    ((requests == phases && bad == 0)) || die "ep-run sent $requests requests ($bad not 200), expected $phases"
    verify_last_run "$phases"

    run_chain "$work/chain1.yaml"
    local start_wall=$run_wall_us start_cpu=$run_cpu_us
    verify_last_run 1

    timed_ep_run --validate "$shipped_workflow"
    ((run_rc == 0)) || die "ep-run --validate $shipped_workflow exited $run_rc: $(cat "$work/last.err")"
    local validate_wall=$run_wall_us

    ((round > 0)) || return 0   # round 0 warms the page cache, the store and nginx
    awk -v n="$phases" -v m="$curl_calls" -v cw1="$curl_start_wall" -v cwn="$curl_wall" -v cc1="$curl_start_cpu" \
        -v ccn="$curl_cpu" -v ct="$curl_transfer_us" -v ew1="$start_wall" -v ewn="$chain_wall" \
        -v ec1="$start_cpu" -v ecn="$chain_cpu" -v vw="$validate_wall" -v conns="$conns" \
        -v mpc="$max_per_conn" 'BEGIN {
            raw = (cwn - cw1) / (m - 1)
            phase = (ewn - ew1) / (n - 1)
            printf "%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%d\n",
                raw, ct, (ccn - cc1) / (m - 1), ewn / n, phase, phase - raw, 100 * phase / raw,
                ecn / n, (ecn - ec1) / (n - 1), ewn / 1000, ew1 / 1000, vw / 1000, cw1 / 1000, conns, mpc
        }' >>"$work/rounds.tsv"
    tail -1 "$work/rounds.tsv" | awk -F'\t' -v r="$round" -v k="$rounds" '{
        printf "  round %d/%d: curl %.0f us/call, ep-run %.0f us/phase (%.0f %%), %d connection(s)\n",
            r, k, $1, $5, $7, $14 }' >&2
}

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

# "median min max" of the column named $1 over the rounds.
column_stats()
{
    local i
    for i in "${!round_columns[@]}"; do
        [[ "${round_columns[$i]}" == "$1" ]] && break
    done
    [[ "${round_columns[$i]}" == "$1" ]] || die "internal: no column $1"
    cut -f $((i + 1)) "$work/rounds.tsv" | sort -g | awk '
        { v[NR] = $1 }
        END { med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
              printf "%s %s %s\n", med, v[1], v[NR] }'
}

print_row()   # label, column name, unit, decimals
{
    local med min max
    read -r med min max < <(column_stats "$2")
    printf "  %-58s %9.*f %9.*f %9.*f  %s\n" "$1" "$4" "$med" "$4" "$min" "$4" "$max" "$3"
}

print_report()
{
    local fs
    fs="$(df --output=fstype "$work/store" | tail -1)"
    echo
    echo "ep-run end to end: $phases-phase chain against nginx on 127.0.0.1:$port (canned OpenAI SSE)"
    echo "  binary: $ep_run"
    echo "  flags:  --config D --quiet${extra_run_args[*]:+ ${extra_run_args[*]}}"
    echo "  store:  $work/store on $fs (default durability unless the flags say otherwise)"
    echo "  $rounds rounds after a warm-up, each: curl (1 call, then $curl_calls calls), $phases-phase run, 1-phase run, --validate"
    echo "  'start-up subtracted' = (wall of N calls - wall of 1 call) / (N - 1), for curl and ep-run alike"
    echo
    printf "  %-58s %9s %9s %9s\n" "" median min max
    print_row "curl: per call, start-up subtracted (one connection)" curl_call us 0
    print_row "curl: its own time_total per call" curl_transfer us 0
    print_row "ep-run: per phase, start-up subtracted" ep_phase us 0
    print_row "ep-run: wall per phase (whole run / N)" ep_wall_per_phase us 0
    print_row "overhead per phase (ep-run per phase - curl per call)" overhead us 0
    print_row "ratio ep-run per phase / curl per call" ratio % 0
    print_row "ep-run CPU per phase (user+sys, all threads, run / N)" cpu_per_phase us 0
    print_row "ep-run CPU per phase, start-up subtracted" cpu_phase us 0
    print_row "curl CPU per call, start-up subtracted" curl_cpu us 0
    print_row "ep-run wall, $phases-phase chain" chain_ms ms 1
    print_row "ep-run wall, 1-phase chain (start-up + 1 phase)" start_ms ms 1
    print_row "ep-run --validate design-implement-review.yaml" validate_ms ms 1
    print_row "curl wall, 1 call (start-up + 1 call)" curl_start_ms ms 1
    print_row "TCP connections per $phases-phase ep-run run" connections "" 0
    print_row "most requests on one of those connections" max_per_connection "" 0
    echo
    local ratio overhead conns
    read -r ratio _ _ < <(column_stats ratio)
    read -r overhead _ _ < <(column_stats overhead)
    read -r conns _ _ < <(column_stats connections)
    printf "summary: ep-run per phase = %.0f %% of a curl call (overhead %.0f us/phase), %.0f TCP connection(s) per %d-phase run (medians of %d rounds)\n" \
        "$ratio" "$overhead" "$conns" "$phases" "$rounds"
}

# An extra, untimed chain run under strace: where the syscalls go per phase.
maybe_strace()
{
    [[ "${EP_BENCH_STRACE:-0}" == 1 ]] || return 0
    command -v strace >/dev/null || die "EP_BENCH_STRACE=1 needs strace (apt-get install strace)"
    echo
    echo "strace -f -c of one $phases-phase run (calls / $phases = per phase):"
    env "${ep_env[@]}" strace -f -c -o "$work/strace.txt" "$ep_run" "$work/chain.yaml" --config D --quiet \
        --db "$work/store/runs.db" "${extra_run_args[@]}" >/dev/null 2>"$work/last.err" ||
        die "ep-run under strace failed: $(tail -5 "$work/last.err")"
    awk -v n="$phases" 'NR <= 2 || /^-/ { print; next }
        $4 ~ /^[0-9]+$/ { printf "%s   (%.1f per phase)\n", $0, $4 / n; next } { print }' "$work/strace.txt"
}

main()
{
    check_prerequisites
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    make_work_dir
    mkdir -p "$work/store"
    write_sse_body
    start_nginx
    start_watchdog
    build_ep_env
    write_chain_workflow "$work/chain.yaml" "$phases"
    write_chain_workflow "$work/chain1.yaml" 1
    check_routing
    write_curl_request

    echo "e2e_chain: nginx on 127.0.0.1:$port; load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    : >"$work/rounds.tsv"
    local round
    for ((round = 0; round <= rounds; round++)); do
        run_round "$round"
    done
    print_report
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    maybe_strace
}

main "$@"
