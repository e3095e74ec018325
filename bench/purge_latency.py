"""Purge-to-effect time in `veil up`: from the purge API call to the edge's first miss.

Starts `veil up` (control + edge, one worker) in a throwaway data dir next to a small origin
(tests/support/origin.py: `/cached` answers with the Cache-Control it is asked for), stores an
object, then `--rounds` times: confirm it is a hit, POST /zones/{id}/purge_cache, and poll the
edge every millisecond until the object is a miss. Prints p50 / p90 / max of the time from
sending the purge request to the first miss, per purge kind. Bounded: every wait has a limit.

    .venv/bin/python bench/purge_latency.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port} after {limit} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="veil-purge-"))
    origin = subprocess.Popen(
        [PY, str(ROOT / "tests" / "support" / "origin.py"), "0"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert origin.stdout is not None
    origin_port = int(origin.stdout.readline())
    edge_port, api_port = free_port(), free_port()
    up = subprocess.Popen(
        [
            PY,
            "-m",
            "veil",
            "up",
            "--data-dir",
            str(tmp),
            "--workers",
            "1",
            "--edge-listen",
            f"127.0.0.1:{edge_port}",
            "--api-listen",
            f"127.0.0.1:{api_port}",
            "--admin-listen",
            "off",
            "--allow-private-origins",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_port(api_port)
        wait_port(edge_port)
        return measure(tmp, api_port, edge_port, origin_port, args.rounds)
    finally:
        for proc in (up, origin):
            with_group(proc, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                with_group(proc, signal.SIGKILL)


def with_group(proc: subprocess.Popen[object], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def measure(tmp: Path, api_port: int, edge_port: int, origin_port: int, rounds: int) -> int:
    token = (tmp / "admin.token").read_text().strip()
    api = httpx.Client(
        base_url=f"http://127.0.0.1:{api_port}/client/v4",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    subprocess.run(
        [
            PY,
            "-m",
            "veil",
            "zone",
            "add",
            "purge.test",
            "--origin",
            f"http://127.0.0.1:{origin_port}",
            "--data-dir",
            str(tmp),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    zone = api.get("/zones", params={"name": "purge.test"}).json()["result"][0]["id"]
    edge = httpx.Client(base_url=f"http://127.0.0.1:{edge_port}", headers={"Host": "purge.test"})
    target = "/cached?cc=max-age=3600&tag=bench&k=purge-latency"
    bodies = {
        "url": {"files": [f"http://purge.test{target}"]},
        "tag": {"tags": ["bench"]},
        "prefix": {"prefixes": ["purge.test/cached"]},
        "everything": {"purge_everything": True},
    }
    print(f"purge-to-effect in `veil up` (1 edge worker), {rounds} rounds per kind")
    print(f"{'kind':<12} {'p50 ms':>8} {'p90 ms':>8} {'max ms':>8}")
    for kind, body in bodies.items():
        times = []
        for _ in range(rounds):
            until_hit(edge, target)
            started = time.perf_counter()
            reply = api.post(f"/zones/{zone}/purge_cache", json=body)
            if reply.status_code != 200:
                raise SystemExit(f"purge failed: {reply.text}")
            deadline = time.monotonic() + 5
            while "hit" in edge.get(target).headers.get("cache-status", ""):
                if time.monotonic() > deadline:
                    raise SystemExit(f"{kind}: the purge did not reach the edge in 5 s")
                time.sleep(0.001)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p90 = times[int(len(times) * 0.9) - 1]
        print(f"{kind:<12} {statistics.median(times):>8.1f} {p90:>8.1f} {times[-1]:>8.1f}")
    return 0


def until_hit(edge: httpx.Client, target: str) -> None:
    deadline = time.monotonic() + 10
    while "hit" not in edge.get(target).headers.get("cache-status", ""):
        if time.monotonic() > deadline:
            raise SystemExit("the object never became a hit")
        time.sleep(0.005)


if __name__ == "__main__":
    sys.exit(main())
