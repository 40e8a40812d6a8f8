#!/usr/bin/env bash
# Builds the test configuration (Debug: assertions on, quickest to compile; benchmarks are
# built by scripts/build.sh instead) and runs the whole test suite. This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset test >/dev/null
cmake --build --preset test -j "${EP_JOBS:-2}"
ctest --preset test -j "${EP_JOBS:-2}"
