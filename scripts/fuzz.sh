#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang-15, ASan + UBSan) and runs each for
# a bounded time on a copy of its committed seed corpus, then prints per target the runs made
# and whether it found anything. A finding (crash, leak, timeout, sanitizer report) leaves its
# reproducer in build-fuzz/findings/<target>/ (an earlier run's move to previous/) and makes
# the script exit non-zero.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, every target)
#
# Long runs (>= 10^7 executions each) are a matter of SECONDS: e.g. scripts/fuzz.sh 3600 (the
# rates are in README.md, "Fuzzing"). The corpus grown in build-fuzz/corpus/ is kept between runs.
# A found input belongs in fuzz/corpus/<target>/ once fixed: ctest replays every seed
# (fuzz_replay.*) with the normal compiler in each test run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
all=(fuzz_sse_parser fuzz_decoder_openai fuzz_decoder_openai_responses fuzz_decoder_anthropic
     fuzz_decoder_gemini fuzz_decoder_claude_cli fuzz_workflow_yaml fuzz_json_output
     fuzz_templates fuzz_convert fuzz_error_classify fuzz_http_request)
targets=("$@")
((${#targets[@]})) || targets=("${all[@]}")

# Readable reports: sanitizer stacks with function names and lines, UBSan with a stack.
symbolizer=$(command -v llvm-symbolizer-15 || command -v llvm-symbolizer || true)
[[ -n "$symbolizer" ]] && export ASAN_SYMBOLIZER_PATH="${ASAN_SYMBOLIZER_PATH:-$symbolizer}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "${EP_JOBS:-2}" --target "${targets[@]}"

failed=0
printf '%-32s %14s %10s  %s\n' target runs seconds result
for t in "${targets[@]}"; do
    work="build-fuzz/corpus/$t" findings="build-fuzz/findings/$t"
    mkdir -p "$work" "$findings/previous"
    # Inputs found by an earlier run move aside, so the result names only this run's findings.
    find "$findings" -maxdepth 1 -type f -exec mv -t "$findings/previous" {} +
    cp -n fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
    log="build-fuzz/$t.log"
    set +e
    "build-fuzz/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$findings/" -print_final_stats=1 "$work" >"$log" 2>&1
    rc=$?
    set -e
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    if ((rc == 0)); then
        result="no findings"
    else
        result="FINDING (exit $rc): $(find "$findings" -maxdepth 1 -type f -printf '%f ' | head -c 200) see $log"
        failed=1
    fi
    printf '%-32s %14s %10s  %s\n' "$t" "$runs" "$seconds" "$result"
done
exit "$failed"
