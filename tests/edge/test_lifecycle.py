"""Tier (c): origin failures, snapshot swaps, static stability, draining, memory, workers."""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from pathlib import Path

import httpx

from tests.support.procs import (
    free_port,
    raw_request,
    snapshot_doc,
    start_edge,
    wait_port,
)


def _get(port: int, path: str, host: str = "site.test", timeout: float = 10) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{port}{path}", headers={"Host": host}, timeout=timeout)


def _children(pid: int) -> list[int]:
    """The edge's worker processes (not multiprocessing's resource tracker)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"resource_tracker" not in cmdline:
                found.append(int(child))
    return found


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_origin_failures_are_branded_and_hide_the_origin(tmp_path: Path, origin_port: int) -> None:
    """Refused -> 521, unresolvable -> 523; no page or header names the origin."""
    closed_port = free_port()
    doc = snapshot_doc(closed_port, hosts={"down.test": ["127.0.0.1"]})
    doc["zones"].append(
        {
            **snapshot_doc(origin_port)["zones"][0],
            "id": "z2",
            "name": "nx.test",
            "hosts": [{"name": "nx.test", "addresses": ["no-such-origin.invalid"]}],
        }
    )
    e = start_edge(tmp_path, doc)
    try:
        down = _get(e.port, "/", host="down.test")
        assert down.status_code == 521
        nx = _get(e.port, "/", host="nx.test")
        assert nx.status_code == 523
        for r in (down, nx):
            blob = r.text + str(r.headers)
            assert str(closed_port) not in blob and "no-such-origin" not in blob
            assert "127.0.0.1" not in blob
            assert r.headers["veil-ray"] in r.text
    finally:
        e.stop()


def test_private_origin_refused_without_the_flag(tmp_path: Path, origin_port: int) -> None:
    """Without --allow-private-origins a loopback origin is refused at connect time (530)."""
    e = start_edge(tmp_path, snapshot_doc(origin_port), private=False)
    try:
        r = _get(e.port, "/m-private")
        assert r.status_code == 530
        assert "127.0.0.1" not in r.text
        seen = httpx.get(f"http://127.0.0.1:{origin_port}/__seen").json()
        assert "GET /m-private" not in seen
    finally:
        e.stop()


def test_snapshot_swap_keeps_connections_and_applies_fast(tmp_path: Path, origin_port: int) -> None:
    """A new snapshot is live within 1 s and an open keep-alive connection survives the swap."""
    e = start_edge(tmp_path, snapshot_doc(origin_port))
    try:
        with socket.create_connection(("127.0.0.1", e.port), timeout=3) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: site.test\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 200")
            e.write_snapshot(
                snapshot_doc(
                    origin_port,
                    version=2,
                    hosts={"site.test": ["127.0.0.1"], "new.test": ["127.0.0.1"]},
                )
            )
            start = time.monotonic()
            status = b""
            while time.monotonic() - start < 3:
                s.sendall(b"GET / HTTP/1.1\r\nHost: new.test\r\n\r\n")
                reply = s.recv(65536)
                status = reply[:12]
                if status == b"HTTP/1.1 200":
                    break
                time.sleep(0.05)
            assert status == b"HTTP/1.1 200"
            assert time.monotonic() - start < 1.5
    finally:
        e.stop()


def test_restarted_edge_serves_from_saved_snapshot(tmp_path: Path, origin_port: int) -> None:
    """Static stability: with control unreachable, a restarted edge serves its saved snapshot."""
    e = start_edge(tmp_path, snapshot_doc(origin_port))
    assert _get(e.port, "/").status_code == 200
    time.sleep(0.2)
    e.stop()
    assert (e.state_dir / "snapshot.json").exists()
    unreachable = ["--control", f"http://127.0.0.1:{free_port()}", "--token", "veil_unused"]
    again = start_edge(tmp_path / "again", None, source=unreachable, state=e.state_dir)
    try:
        assert _get(again.port, "/").text == "hello from origin"
    finally:
        again.stop()


def test_sigterm_drains_in_flight_requests(tmp_path: Path, origin_port: int) -> None:
    """SIGTERM lets an in-flight request finish, then the edge exits 0."""
    e = start_edge(tmp_path, snapshot_doc(origin_port))
    result: dict[str, object] = {}

    def slow() -> None:
        result["r"] = raw_request(
            e.port, b"GET /slow?delay=1.5 HTTP/1.1\r\nHost: site.test\r\n\r\n", timeout=5
        )

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.5)
    start = time.monotonic()
    code = e.stop(signal.SIGTERM)
    t.join(10)
    assert code == 0
    data = result["r"]
    assert isinstance(data, bytes) and data.startswith(b"HTTP/1.1 200")
    assert b"Connection: close" in data and data.endswith(b"slow done")
    assert time.monotonic() - start < 10


def test_gigabyte_response_streams_with_bounded_memory(tmp_path: Path, origin_port: int) -> None:
    """1 GiB passes through one worker while its RSS grows by less than 64 MiB."""
    e = start_edge(tmp_path, snapshot_doc(origin_port, read_timeout=30))
    try:
        assert _get(e.port, "/").status_code == 200
        (worker,) = _children(e.proc.pid)
        before = _rss_kib(worker)
        peak = before
        size = 1 << 30
        with socket.create_connection(("127.0.0.1", e.port), timeout=20) as s:
            s.sendall(b"GET /bytes?n=%d HTTP/1.1\r\nHost: site.test\r\n\r\n" % size)
            received = 0
            head = b""
            while b"\r\n\r\n" not in head:
                head += s.recv(65536)
            received = len(head.split(b"\r\n\r\n", 1)[1])
            buf = bytearray(1 << 20)
            n = 0
            while received < size:
                got = s.recv_into(buf)
                assert got > 0
                received += got
                n += 1
                if n % 256 == 0:
                    peak = max(peak, _rss_kib(worker))
        assert received == size
        assert (peak - before) < 64 * 1024, f"RSS grew {(peak - before) // 1024} MiB"
    finally:
        e.stop()


def test_two_workers_share_the_port(tmp_path: Path, origin_port: int) -> None:
    """--workers 2 runs two processes on one port; requests succeed across them."""
    e = start_edge(tmp_path, snapshot_doc(origin_port), workers=2)
    try:
        deadline = time.monotonic() + 10
        while len(_children(e.proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_children(e.proc.pid)) == 2
        codes = {_get(e.port, "/").status_code for _ in range(20)}
        assert codes == {200}
    finally:
        e.stop()


def test_access_log_and_metrics(tmp_path: Path, origin_port: int) -> None:
    """Each exchange is one JSON log line (no origin address); /metrics counts responses."""
    admin = free_port()
    e = start_edge(
        tmp_path, snapshot_doc(origin_port), extra=["--admin-listen", f"127.0.0.1:{admin}"]
    )
    try:
        r = _get(e.port, "/echo")
        assert r.status_code == 200
        _get(e.port, "/", host="unknown.test")
        time.sleep(1.3)  # workers flush logs and counters every second
        lines = [json.loads(x) for x in (e.state_dir / "access.log").read_text().splitlines()]
        mine = [x for x in lines if x["ray"] == r.headers["veil-ray"]]
        assert mine and mine[0]["status"] == 200 and mine[0]["zone"] == "site.test"
        assert set(mine[0]) >= {
            "time_ms",
            "duration_us",
            "origin_us",
            "client_ip",
            "method",
            "host",
            "path",
            "bytes",
            "cache",
        }
        assert str(origin_port) not in (e.state_dir / "access.log").read_text()
        wait_port(admin)
        metrics = httpx.get(f"http://127.0.0.1:{admin}/metrics").text
        assert 'veil_edge_requests_total{status="200"}' in metrics
        assert 'veil_edge_requests_total{status="421"}' in metrics
    finally:
        e.stop()


def test_zone_pointing_at_the_edge_itself_is_refused(tmp_path: Path) -> None:
    """Even with private origins allowed, the edge never proxies to its own socket (530)."""
    port = free_port()
    e = start_edge(tmp_path, snapshot_doc(port), port=port)
    try:
        assert _get(port, "/").status_code == 530
    finally:
        e.stop()
