#!/usr/bin/env bash
# Installs exactly the Debian 12 packages EP needs to build, test and benchmark. Idempotent.
set -euo pipefail

packages=(
    build-essential cmake ninja-build ccache pkg-config
    git                                     # `git: true`: the workspace's phase commits (run as a program)
    libboost1.81-dev libboost-url1.81-dev libboost-filesystem1.81-dev  # Asio, Beast, Process v2 (needs Filesystem), URL (1.81, not Debian's default 1.74)
    libssl-dev openssl                      # TLS for the transport; `openssl` makes test certificates
    nlohmann-json3-dev                      # JSON for wire formats, events and the store
    libyaml-cpp-dev                         # the workflow language
    libvalijson-dev                         # JSON Schema validation of workflows and configs
    libjq-dev                               # workflow expressions (when, repeat.until, for_each) are jq programs
    libsqlite3-dev sqlite3                  # the run store
    libpq-dev libpqxx-dev                   # the PostgreSQL run store (postgres:// URIs): libpq and its C++ API
    postgresql-15                           # a throwaway PostgreSQL server for the Postgres store tests (tests/support/pg_cluster.sh)
    libspdlog-dev libfmt-dev                # logging
    libcli11-dev                            # ep-run flags
    libxml2-dev                             # JUnit XML reports (written) and test results (read by gates)
    bubblewrap                              # the sandbox of command phases (namespaces, read-only system)
    libgtest-dev libgmock-dev               # tests
    libbenchmark-dev                        # bench/
    clang-15 libfuzzer-15-dev               # fuzz/: the libFuzzer targets (the `fuzz` preset, scripts/fuzz.sh)
    nginx-light curl                        # bench/e2e_chain.sh: a loopback upstream + raw keep-alive client;
                                            # curl also for the gateway conformance test's `curl -N` check
    jq                                      # tests/worker/*.sh: reading the emulator's request log (psql comes with postgresql-15)
    prometheus-cpp-dev                      # ep-serve's /metrics (registry + text format)
    wrk                                     # bench/: ep-serve gateway throughput at c=64
    chromium                                # tests/web: ep-serve's web page driven headless (playwright-core)
)

missing=()
# Node.js + npm run the emulator conformance test with the official SDKs. Machines whose nodejs
# package already bundles npm (NodeSource builds) conflict with Debian's `npm`: only install
# what is absent.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
    sudo_cmd=()
    [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update
    "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi
echo "setup: all ${#packages[@]} packages present"

# The official provider SDKs for the emulator conformance test (versions pinned by the lock file).
root="$(cd "$(dirname "$0")/.." && pwd)"
if [[ -f "$root/tests/conformance/package-lock.json" ]]; then
    npm ci --prefix "$root/tests/conformance" --no-audit --no-fund --loglevel=error
fi
# playwright-core drives the chromium package above for the web page test (tests/web); it
# downloads no browser of its own.
if [[ -f "$root/tests/web/package-lock.json" ]]; then
    npm ci --prefix "$root/tests/web" --no-audit --no-fund --loglevel=error
fi
