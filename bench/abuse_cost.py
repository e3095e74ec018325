"""What abuse-desk enforcement costs the edge: CPU per request, A/B against another source tree.

    .venv/bin/python bench/abuse_cost.py [--base-src DIR] [--requests N] [--rounds R]

Starts a test origin, then for each variant a one-worker `veil edge` from a snapshot file,
drives it with keep-alive connections that pipeline requests in batches (cache hits on one
URL, the edge's cheapest and so most sensitive path) and reads the edge's CPU time (user +
system of the supervisor and its worker, from /proc) before and after. Variants:

- `base`: the tree at `--base-src` (e.g. a worktree of the commit before enforcement, built
  with `setup.py build_ext --inplace`), zone without blocks;
- `none`: this tree, zone without blocks — the claim is that it costs nothing;
- `other`: this tree, the zone has a legal block on another URL (the gate runs and misses).

Rounds alternate the variants so that drift of the machine hits them alike; the median
microseconds of edge CPU per request is printed per variant. Linux only.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.procs import free_port, snapshot_doc, start_origin, wait_port  # noqa: E402

TARGET = b"/cached/bench?cc=max-age%3D3600"
REQUEST = b"GET " + TARGET + b" HTTP/1.1\r\nHost: site.test\r\n\r\n"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of `pid` and its children that are alive (the edge's worker)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def drive(port: int, requests: int, conns: int = 8, batch: int = 50) -> None:
    """Send `requests` GETs over `conns` connections, `batch` pipelined at a time each."""
    socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(conns)]
    per = requests // conns
    try:
        for sock in socks:
            sock.setblocking(True)
        sent = 0
        while sent < per:
            n = min(batch, per - sent)
            for sock in socks:
                sock.sendall(REQUEST * n)
            for sock in socks:
                got = 0
                buf = b""
                while got < n:
                    buf += sock.recv(1 << 20)
                    got = buf.count(b"HTTP/1.1 200")
                    if b"HTTP/1.1 4" in buf or b"HTTP/1.1 5" in buf:
                        raise RuntimeError(buf[:200])
            sent += n
    finally:
        for sock in socks:
            sock.close()


def start(src: Path, doc: dict[str, Any], tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    snap = tmp / "snapshot.json"
    snap.write_text(json.dumps(doc))
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "veil",
            "edge",
            "--snapshot",
            str(snap),
            "--listen",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--state-dir",
            str(tmp / "state"),
            "--allow-private-origins",
            "--no-access-log",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        cwd=tmp,
    )
    wait_port(port)
    return proc, port


def measure(src: Path, doc: dict[str, Any], requests: int) -> float:
    """Microseconds of edge CPU per request."""
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start(src, doc, Path(tmp))
        try:
            drive(port, 2000)  # warm up: fill the cache, settle the worker
            before = cpu_seconds(proc.pid)
            drive(port, requests)
            return (cpu_seconds(proc.pid) - before) / requests * 1e6
        finally:
            proc.terminate()
            proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-src", type=Path, default=None)
    parser.add_argument("--requests", type=int, default=40000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    origin, origin_port = start_origin()
    try:
        plain = snapshot_doc(origin_port)
        blocked = snapshot_doc(origin_port)
        blocked["zones"][0]["abuse"] = [
            {
                "id": "x",
                "kind": "legal_block",
                "targets": ["https://site.test/elsewhere"],
                "countries": [],
                "effective_at": 0,
                "statement_url": "",
            }
        ]
        variants = {"none": (ROOT / "src", plain), "other": (ROOT / "src", blocked)}
        if args.base_src is not None:
            variants = {"base": (args.base_src, plain), **variants}
        results: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, (src, doc) in variants.items():
                results[name].append(measure(src, doc, args.requests))
        for name, values in results.items():
            spread = ", ".join(f"{v:.1f}" for v in values)
            print(f"{name:6} median {statistics.median(values):6.2f} us/request  ({spread})")
    finally:
        origin.terminate()
        origin.wait(5)


if __name__ == "__main__":
    main()
