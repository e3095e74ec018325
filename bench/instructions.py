"""User-space instructions per request of one edge worker, counted by callgrind.

    .venv/bin/python bench/instructions.py                    # pass-through and hit, 2,000 each
    .venv/bin/python bench/instructions.py --scenarios hit --top 25
    .venv/bin/python bench/instructions.py --python OTHER_CHECKOUT/.venv/bin/python   # A/B

Wall-clock and CPU-time figures on a shared VM move by 10-20 % between runs (docs/benchmarks.md,
"Variance"), more than most single changes to the hot path are worth. Instruction counts do
not: callgrind counts every user-space instruction the worker executes, deterministically up to
hash seeds and allocator state (about ±0.5 % between runs). The kernel's share (the socket
reads and writes, the same 2 + 2 syscalls per proxied request as the bare proxy) is not counted.

One scenario: start the origin (nginx, bench/nginx-origin.conf.in), run one edge worker
(`veil.edge.worker.worker_main`, compiled hot path as installed) in this script's `--worker`
mode under `valgrind --tool=callgrind --instr-atstart=no`, warm it with `--warmup` requests,
switch instrumentation on, send `--requests` sequential keep-alive GETs over 10 connections
from this process, switch it off and dump. Instructions / requests is the figure; `--top N`
also prints the N functions with the most inclusive instructions per request.

Scenarios: `pass` (1 KiB through a zone whose cache level is bypass, as `veil` in the
pass-through bench), `hit` (1 KiB cache hit from the memory tier, as the cache bench),
`no-store` (1 KiB through a caching zone, every response judged and refused for storing, as
`veil+cache` in the pass-through bench). Everything listens
on 127.0.0.1; every wait is bounded; the process groups started are stopped on exit.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out" / "instructions"
HOST = "bench.localhost"
CONNECTIONS = 10
SCENARIOS = {
    "pass": ("bypass", "/1k.bin"),  # 1 KiB through a zone that does not cache
    "hit": ("standard", "/c/1k.bin"),  # 1 KiB from the memory tier
    "no-store": ("standard", "/1k.bin"),  # a caching zone; the origin answers no-store
}


def worker(port: int, snapshot: Path, state: Path, access_log: bool) -> None:
    """--worker mode: one edge worker in this process (what callgrind runs)."""
    from veil.edge.worker import worker_main  # the interpreter's own install (--python)
    from veil.settings import EdgeSettings

    state.mkdir(parents=True, exist_ok=True)
    settings = EdgeSettings(
        listen=("127.0.0.1", port),
        workers=1,
        state_dir=state,
        control_url="",
        allow_private_origins=True,
        access_log=access_log,
    )
    worker_main(settings, snapshot, 0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(argv, stdout=out, stderr=out, start_new_session=True)


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    for sig, wait in ((15, 10.0), (9, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def get_many(port: int, path: str, count: int, deadline: float) -> None:
    """`count` sequential GETs, round robin over CONNECTIONS keep-alive connections; each
    answer must be a 200 with its whole body."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nUser-Agent: instructions\r\nAccept: */*\r\n\r\n"
    ).encode()
    conns = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(CONNECTIONS)]
    try:
        for i in range(count):
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {i} of {count} requests answered in time")
            conn = conns[i % CONNECTIONS]
            conn.sendall(request)
            buf = b""
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    raise RuntimeError("the edge closed the connection")
                buf += chunk
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    continue
                head = buf[:end].lower()
                if not head.startswith(b"http/1.1 200"):
                    raise RuntimeError(f"unexpected answer: {buf[:200]!r}")
                length = int(head.split(b"content-length:")[1].split(b"\r\n")[0])
                if len(buf) >= end + 4 + length:
                    break
    finally:
        for conn in conns:
            conn.close()


def wait_serving(port: int, path: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited early with {proc.returncode}")
        try:
            get_many(port, path, 1, deadline)
            return
        except (OSError, RuntimeError, IndexError, ValueError):
            time.sleep(0.5)
    raise RuntimeError(f"not serving {path} on 127.0.0.1:{port} after {timeout:.0f} s")


def callgrind_control(*args: str) -> None:
    subprocess.run(["callgrind_control", *args], check=True, capture_output=True, timeout=60)


def annotate(dump: Path, inclusive: bool) -> str:
    argv = ["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}", str(dump)]
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=120).stdout


def total_instructions(report: str) -> int:
    match = re.search(r"^\s*([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", report, re.M)
    if match is None:
        raise RuntimeError("callgrind_annotate printed no PROGRAM TOTALS")
    return int(match.group(1).replace(",", ""))


_DISPATCH = (
    "uv_", "uv__", "__pyx_f_6uvloop", "__pyx_pw_6uvloop", "0x", "__Pyx_", "cfunction_",
    "PyObject_Vectorcall", "method_vectorcall", "llhttp_execute", "llhttp__internal_execute",
    "llhttp__on_", "CPyPy_", "_PyObject_Call", "PyObject_Call",
)  # fmt: skip


def top_functions(report: str, requests: int, n: int) -> list[tuple[int, str]]:
    """The `n` functions with the most inclusive instructions, per request, loop excluded."""
    rows = []
    seen: set[str] = set()
    for line in report.splitlines():
        match = re.match(r"\s*([\d,]+) \([\d.]+%\)\s+(\S+)", line)
        if match is None or "PROGRAM TOTALS" in line:
            continue
        name = match.group(2).rsplit(":", 1)[-1].split("'")[0]
        if name.startswith(_DISPATCH) or name in seen:
            continue  # the loop, and call plumbing that only passes the cost on
        seen.add(name)
        rows.append((int(match.group(1).replace(",", "")) // requests, name))
    return rows[:n]


def measure(args: argparse.Namespace, scenario: str, origin_port: int) -> dict[str, object]:
    level, path = SCENARIOS[scenario]
    d = OUT / scenario
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    from servers import snapshot_doc

    snapshot = d / "snapshot.json"
    snapshot.write_text(json.dumps(snapshot_doc(origin_port, level), indent=1))
    port = free_port()
    dump = d / "callgrind.out"
    argv = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={dump}",
        args.python, str(Path(__file__).resolve()), "--worker", str(port), str(snapshot),
        str(d / "state"), "--access-log" if args.access_log else "--no-access-log",
    ]  # fmt: skip
    proc = start(argv, d / "valgrind.log")
    try:
        wait_serving(port, path, proc, timeout=120)
        deadline = time.monotonic() + 600
        get_many(port, path, args.warmup, deadline)
        callgrind_control("-i", "on", str(proc.pid))
        get_many(port, path, args.requests, deadline)
        callgrind_control("-i", "off", str(proc.pid))
        callgrind_control("-d", str(proc.pid))
    finally:
        stop(proc)
    dumps = sorted(d.glob("callgrind.out*"), key=lambda p: p.stat().st_size)
    if not dumps:
        raise RuntimeError(f"callgrind wrote no dump; see {d / 'valgrind.log'}")
    report = annotate(dumps[-1], inclusive=bool(args.top))
    total = total_instructions(report)
    result: dict[str, object] = {
        "scenario": scenario,
        "requests": args.requests,
        "instructions_per_request": total // args.requests,
        "dump": str(dumps[-1]),
    }
    if args.top:
        result["top"] = top_functions(report, args.requests, args.top)
    return result


def ensure_tools() -> None:
    missing = [tool for tool in ("valgrind", "nginx") if shutil.which(tool) is None]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(f"instructions: missing {' '.join(missing)}; install them or run as root")
    print(f"instructions: installing {' '.join(missing)}", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-q", *missing], check=True, env=env, timeout=900)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--top", type=int, default=0, help="also list the N costliest functions")
    parser.add_argument(
        "--python", default=str(ROOT / ".venv" / "bin" / "python"),
        help="the interpreter whose veil is measured (another checkout's venv for an A/B)",
    )  # fmt: skip
    parser.add_argument(
        "--access-log", action=argparse.BooleanOptionalAction, default=False,
        help="the worker writes the JSON access log (off by default, as in `veil` of the benches)",
    )  # fmt: skip
    parser.add_argument("--worker", nargs=3, metavar=("PORT", "SNAPSHOT", "STATE"))
    args = parser.parse_args(argv)
    if args.worker:
        port, snapshot, state = args.worker
        worker(int(port), Path(snapshot), Path(state), args.access_log)
        return 0
    ensure_tools()
    sys.path.insert(0, str(BENCH))
    from servers import render

    www = BENCH / "out" / "www"
    www.mkdir(parents=True, exist_ok=True)
    body = www / "1k.bin"
    if not body.exists() or body.stat().st_size != 1024:
        body.write_bytes(random.Random(1).randbytes(1024))
    OUT.mkdir(parents=True, exist_ok=True)
    origin_port = free_port()
    origin_dir = OUT / "origin"
    (origin_dir / "tmp").mkdir(parents=True, exist_ok=True)
    conf = origin_dir / "nginx.conf"
    user = "user root;" if os.geteuid() == 0 else ""
    render("nginx-origin.conf.in", conf, user=user, dir=origin_dir, port=origin_port, www=www)
    origin = start(
        ["nginx", "-p", str(origin_dir), "-c", str(conf), "-e", str(origin_dir / "error.log"),
         "-g", "daemon off;"],
        origin_dir / "stdout.log",
    )  # fmt: skip
    results = []
    try:
        wait_serving(origin_port, "/1k.bin", origin, timeout=20)
        for scenario in args.scenarios:
            results.append(measure(args, scenario, origin_port))
    finally:
        stop(origin)
    for r in results:
        print(f"{r['scenario']:>5}: {r['instructions_per_request']:,} instructions per request "
              f"({r['requests']} requests; {r['dump']})")  # fmt: skip
        for count, name in r.get("top", []):  # type: ignore[attr-defined]
            print(f"       {count:>8,}  {name}")
    (OUT / "latest.json").write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
