#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks: no system service, nothing on the
# network (it listens on a Unix socket in its own temporary directory only).
#
#   pg_cluster.sh start STATE_DIR [--durable]   initdb + start; writes STATE_DIR/uri
#   pg_cluster.sh stop STATE_DIR                fast shutdown; removes the cluster
#
# STATE_DIR/uri then holds a libpq URI such as postgresql:///ep_test?host=/tmp/ep-pg.XXXX&user=ep
# (ctest's fixture passes STATE_DIR to the Postgres tests as EP_TEST_PG_STATE).
# The cluster runs with fsync off unless --durable (benchmarks that want real commit costs).
# Run as root (CI), the server runs as user `nobody`: PostgreSQL refuses to run as root.
# Without PostgreSQL binaries, `start` writes STATE_DIR/skip with the reason and succeeds, so
# that the tests report themselves skipped with that reason (scripts/setup.sh installs them).
set -euo pipefail

usage() { echo "usage: $0 start|stop STATE_DIR [--durable]" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
cmd=$1
state=$2
durable=0
[[ ${3:-} == --durable ]] && durable=1

find_bindir() {
    if [[ -n ${PG_BIN:-} && -x $PG_BIN/initdb ]]; then echo "$PG_BIN"; return; fi
    if command -v pg_config >/dev/null; then
        local d; d=$(pg_config --bindir 2>/dev/null || true)
        [[ -n $d && -x $d/initdb ]] && { echo "$d"; return; }
    fi
    local newest
    newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [[ -n $newest && -x $newest/initdb ]] && { echo "$newest"; return; }
    command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return; }
    return 1
}

# Runs a PostgreSQL program as the cluster's user (nobody when we are root).
as_pg() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u nobody -- "$@"
    else
        "$@"
    fi
}

stop_cluster() {
    [[ -f $state/datadir ]] || { rm -f "$state/skip" "$state/uri"; return 0; }
    local dir; dir=$(cat "$state/datadir")
    local bindir; bindir=$(cat "$state/bindir" 2>/dev/null || find_bindir || true)
    if [[ -n $bindir && -f $dir/data/postmaster.pid ]]; then
        (cd "$dir" && as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null) || true
    fi
    rm -rf "$dir"
    rm -f "$state/datadir" "$state/bindir" "$state/uri" "$state/skip"
}

case $cmd in
start)
    mkdir -p "$state"
    stop_cluster  # a cluster left by an interrupted earlier run
    if ! bindir=$(find_bindir); then
        echo "no PostgreSQL server binaries (initdb) found: install postgresql-15 (scripts/setup.sh does)" \
            | tee "$state/skip"
        exit 0
    fi
    dir=$(mktemp -d /tmp/ep-pg.XXXXXX)
    echo "$dir" >"$state/datadir"
    echo "$bindir" >"$state/bindir"
    if [[ $(id -u) -eq 0 ]]; then
        chown nobody "$dir"
        if ! runuser -u nobody -- true 2>/dev/null; then
            echo "pg_cluster: running as root and cannot switch to user nobody (PostgreSQL refuses root)" >&2
            exit 1
        fi
    fi
    cd "$dir"  # the server user may not be able to enter the caller's directory
    if ! as_pg "$bindir/initdb" -D "$dir/data" -U ep --auth=trust -E UTF8 --no-locale --no-sync \
        >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        exit 1
    fi
    opts="-c listen_addresses='' -k $dir -c max_connections=200"
    ((durable)) || opts+=" -c fsync=off -c full_page_writes=off"
    if ! as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$opts" -w -t 60 start >/dev/null; then
        cat "$dir/server.log" >&2
        exit 1
    fi
    as_pg "$bindir/createdb" -h "$dir" -U ep ep_test
    echo "postgresql:///ep_test?host=$dir&user=ep" | tee "$state/uri"
    ;;
stop)
    stop_cluster
    ;;
*)
    usage
    ;;
esac
