#!/usr/bin/env bash
# `make bench`: Veil's edge vs nginx proxy_pass on one nginx origin, wrk pinned away from them.
# `make bench-cache` (`run.sh --cache ...`): cache hits — Veil vs nginx proxy_cache (default,
# tuned) and Varnish on the same origin (bench/cache_harness.py; root also for the CPU-quota
# runs, a cgroup under /sys/fs/cgroup).
# Installs nginx, wrk (and varnish for --cache) with apt if they are missing (as root), then
# runs the harness. Other arguments go to it (--help): --duration S, --warmup S, --profile,
# --proxies nginx veil veil+log veil+cache bare | --servers varnish nginx-default ... (--cache).
# Whatever happens, the EXIT trap stops every process group the run started.
set -euo pipefail

cd "$(dirname "$0")/.."
PY=.venv/bin/python
OUT=bench/out
HARNESS=bench/harness.py
WHAT=bench
if [ "${1:-}" = "--cache" ]; then
    shift
    HARNESS=bench/cache_harness.py
    WHAT=bench-cache
fi

need() {  # the apt packages providing the commands that are missing
    local pkgs=()
    command -v nginx >/dev/null || pkgs+=(nginx)
    command -v wrk >/dev/null || pkgs+=(wrk)
    command -v taskset >/dev/null || pkgs+=(util-linux)
    if [ "$WHAT" = bench-cache ]; then command -v varnishd >/dev/null || pkgs+=(varnish); fi
    echo "${pkgs[@]}"
}

install_tools() {
    local pkgs
    pkgs=$(need)
    [ -z "$pkgs" ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "$WHAT: missing $pkgs; run as root (sudo make $WHAT) or install them" >&2
        exit 1
    fi
    echo "$WHAT: installing $pkgs"
    # shellcheck disable=SC2086  # word splitting of the package list is intended
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs >/dev/null ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs >/dev/null; }
}

cleanup() {
    "$PY" "$HARNESS" --reap || true
}

if [ ! -x "$PY" ]; then
    echo "$WHAT: no $PY; run it through 'make $WHAT' (which creates the venv)" >&2
    exit 1
fi
install_tools
case " $* " in  # --profile samples the edge with py-spy, installed into the venv on demand
    *" --profile "*) [ -x .venv/bin/py-spy ] || .venv/bin/pip install -q py-spy ;;
esac
mkdir -p "$OUT"
# 500 client connections plus as many to the origin need more than the usual 1024 descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
trap cleanup EXIT
# The harness runs in the background so that a signal reaches this script at once (bash
# defers traps while a foreground child runs); it is passed on, and the harness stops its
# servers before it exits.
"$PY" "$HARNESS" "$@" &
harness=$!
trap 'kill -TERM "$harness" 2>/dev/null || true' INT TERM HUP
status=0
wait "$harness" || status=$?
while kill -0 "$harness" 2>/dev/null; do  # interrupted by a signal: let it finish cleaning up
    wait "$harness" || status=$?
done
exit "$status"
