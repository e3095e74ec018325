#!/usr/bin/env bash
# `make bench-cache`: cache hits — Veil's edge vs nginx proxy_cache (default, tuned) and Varnish,
# on the pass-through bench's nginx origin, wrk pinned away from them (bench/cache_harness.py).
# Installs nginx, wrk and varnish with apt if they are missing (as root); root is also needed
# for the CPU-quota runs (a cgroup under /sys/fs/cgroup). Arguments go to the harness
# (bench/cache_harness.py --help): --duration S, --warmup S, --quota PCT, --profile,
# --servers varnish nginx-default nginx-tuned veil veil+log.
# Whatever happens, the EXIT trap stops every process group the run started.
set -euo pipefail

cd "$(dirname "$0")/.."
PY=.venv/bin/python
OUT=bench/out

need() {
    local pkgs=()
    command -v nginx >/dev/null || pkgs+=(nginx)
    command -v wrk >/dev/null || pkgs+=(wrk)
    command -v varnishd >/dev/null || pkgs+=(varnish)
    command -v taskset >/dev/null || pkgs+=(util-linux)
    echo "${pkgs[@]}"
}

install_tools() {
    local pkgs
    pkgs=$(need)
    [ -z "$pkgs" ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "bench-cache: missing $pkgs; run as root (sudo make bench-cache) or install them" >&2
        exit 1
    fi
    echo "bench-cache: installing $pkgs"
    # shellcheck disable=SC2086  # word splitting of the package list is intended
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs >/dev/null ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs >/dev/null; }
    # The package's own varnish service is not used (nor is the distribution's nginx).
}

cleanup() {
    "$PY" bench/cache_harness.py --reap || true
}

if [ ! -x "$PY" ]; then
    echo "bench-cache: no $PY; run it through 'make bench-cache' (which creates the venv)" >&2
    exit 1
fi
install_tools
case " $* " in
    *" --profile "*) [ -x .venv/bin/py-spy ] || .venv/bin/pip install -q py-spy ;;
esac
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
trap cleanup EXIT
"$PY" bench/cache_harness.py "$@" &
harness=$!
trap 'kill -TERM "$harness" 2>/dev/null || true' INT TERM HUP
status=0
wait "$harness" || status=$?
while kill -0 "$harness" 2>/dev/null; do
    wait "$harness" || status=$?
done
exit "$status"
