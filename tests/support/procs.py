"""Real processes on 127.0.0.1 for tier-(c) tests: the test origin and `veil edge`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VEIL = [sys.executable, "-m", "veil"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 15.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


def start_origin() -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "support" / "origin.py"), "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    return proc, port


def snapshot_doc(
    origin_port: int,
    *,
    hosts: dict[str, list[str]] | None = None,
    version: int = 1,
    read_timeout: float = 5.0,
    connect_timeout: float = 2.0,
    max_body_bytes: int = 100 * 1024 * 1024,
    host_header: str | None = None,
) -> dict[str, Any]:
    hosts = hosts or {"site.test": ["127.0.0.1"]}
    return {
        "format": 1,
        "version": version,
        "created_at": time.time(),
        "zones": [
            {
                "id": "z1",
                "name": "site.test",
                "account_id": "a1",
                "max_body_bytes": max_body_bytes,
                "origin": {
                    "scheme": "http",
                    "port": origin_port,
                    "host_header": host_header,
                    "connect_timeout": connect_timeout,
                    "read_timeout": read_timeout,
                },
                "hosts": [{"name": n, "addresses": a} for n, a in hosts.items()],
            }
        ],
    }


@dataclass
class Edge:
    proc: subprocess.Popen[bytes]
    port: int
    state_dir: Path
    snapshot_file: Path

    def write_snapshot(self, doc: dict[str, Any]) -> None:
        tmp = self.snapshot_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc))
        os.replace(tmp, self.snapshot_file)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


def start_edge(
    tmp: Path,
    doc: dict[str, Any] | None,
    *,
    workers: int = 1,
    extra: list[str] | None = None,
    port: int | None = None,
    private: bool = True,
    source: list[str] | None = None,
    state: Path | None = None,
) -> Edge:
    """Run `veil edge` on 127.0.0.1 from a snapshot file (`doc`) or another `source`
    (e.g. `["--control", URL, "--token", T]`), and wait until it accepts connections."""
    tmp.mkdir(parents=True, exist_ok=True)
    snap = tmp / "snapshot-source.json"
    if doc is not None:
        snap.write_text(json.dumps(doc))
    port = port or free_port()
    state = state or tmp / "edge-state"
    proc = subprocess.Popen(
        [
            *VEIL,
            "edge",
            *(source if source is not None else ["--snapshot", str(snap)]),
            "--listen",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--state-dir",
            str(state),
            *(["--allow-private-origins"] if private else []),
            *(extra or []),
        ],
        stdout=subprocess.DEVNULL,
        cwd=tmp,
    )
    edge = Edge(proc=proc, port=port, state_dir=state, snapshot_file=snap)
    try:
        wait_port(port)
    except TimeoutError:
        edge.stop()
        raise
    return edge


def raw_request(port: int, data: bytes, *, timeout: float = 3.0) -> bytes:
    """Send bytes, read until the edge closes or nothing arrives for `timeout` seconds."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except TimeoutError:
            pass
        return b"".join(chunks)


def closed_after(port: int, data: bytes, *, timeout: float = 3.0) -> tuple[bytes, bool]:
    """Like raw_request, also saying whether the edge closed the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        closed = False
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    closed = True
                    break
                chunks.append(chunk)
        except TimeoutError:
            pass
        except ConnectionResetError:
            closed = True
        return b"".join(chunks), closed
