"""Tier (c), whole stack: `veil up`, the CLI next to it, and control/edge run apart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.procs import free_port, wait_port

VEIL = [sys.executable, "-m", "veil"]


class Stack:
    def __init__(self, data_dir: Path, edge_port: int, api_port: int, proc: subprocess.Popen[str]):
        self.data_dir = data_dir
        self.edge_port = edge_port
        self.api_port = api_port
        self.proc = proc

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*VEIL, *args, "--data-dir", str(self.data_dir)],
            capture_output=True,
            text=True,
            timeout=60,
        )

    def get(self, host: str, path: str = "/") -> httpx.Response:
        return self.get_with(host, path, {})

    def get_with(self, host: str, path: str, headers: dict[str, str]) -> httpx.Response:
        return httpx.get(
            f"http://127.0.0.1:{self.edge_port}{path}", headers={"Host": host, **headers}
        )


def _start_up(tmp: Path, *extra: str) -> Stack:
    edge_port, api_port = free_port(), free_port()
    proc = subprocess.Popen(
        [
            *VEIL,
            "up",
            "--data-dir",
            str(tmp / "data"),
            "--edge-listen",
            f"127.0.0.1:{edge_port}",
            "--api-listen",
            f"127.0.0.1:{api_port}",
            "--admin-listen",
            "off",
            "--workers",
            "1",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_port(api_port, timeout=60)
    wait_port(edge_port, timeout=30)
    return Stack(tmp / "data", edge_port, api_port, proc)


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    return out


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    s = _start_up(tmp_path, "--allow-private-origins")
    yield s
    _stop(s.proc)


def test_first_start_writes_operator_token_0600(stack: Stack) -> None:
    """`veil up` creates an operator token in DATA_DIR/admin.token with mode 0600."""
    token_file = stack.data_dir / "admin.token"
    assert token_file.read_text().strip().startswith("veil_")
    assert (token_file.stat().st_mode & 0o777) == 0o600


def test_zone_added_with_cli_serves_within_a_second(stack: Stack, origin_port: int) -> None:
    """`veil zone add` next to `veil up` is live at the edge within 1 s, headers as promised."""
    added = stack.cli("zone", "add", "shop.test", "--origin", f"http://127.0.0.1:{origin_port}")
    assert added.returncode == 0, added.stderr
    start = time.monotonic()
    r = stack.get("shop.test", "/echo")
    while r.status_code != 200 and time.monotonic() - start < 5:
        time.sleep(0.02)
        r = stack.get("shop.test", "/echo")
    elapsed = time.monotonic() - start
    assert r.status_code == 200
    assert elapsed < 1.0, f"took {elapsed:.2f}s"
    seen = {k.lower(): v for k, v in r.json()["headers"]}
    assert "x-forwarded-for" in seen and seen["forwarded"].startswith("for=127.0.0.1")
    assert r.headers["server"] == "veil" and r.headers["veil-ray"]
    listed = stack.cli("zone", "list")
    assert "shop.test" in listed.stdout


def test_cli_errors_are_one_line(stack: Stack, origin_port: int) -> None:
    """A duplicate zone and an invalid origin each give one clear line and exit != 0."""
    ok = stack.cli("zone", "add", "dup.test", "--origin", f"http://127.0.0.1:{origin_port}")
    assert ok.returncode == 0, ok.stderr
    dup = stack.cli("zone", "add", "dup.test", "--origin", f"http://127.0.0.1:{origin_port}")
    assert dup.returncode != 0 and len(dup.stderr.strip().splitlines()) == 1
    bad = stack.cli("zone", "add", "bad.test", "--origin", "ftp://nowhere")
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1
    flag = subprocess.run([*VEIL, "up", "--no-such-flag"], capture_output=True, text=True)
    assert flag.returncode != 0 and len(flag.stderr.strip().splitlines()) == 1


def test_zone_rm_stops_serving(stack: Stack, origin_port: int) -> None:
    """`veil zone rm` takes the name off the edge within a second."""
    assert (
        stack.cli(
            "zone", "add", "gone.test", "--origin", f"http://127.0.0.1:{origin_port}"
        ).returncode
        == 0
    )
    deadline = time.monotonic() + 5
    while stack.get("gone.test").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stack.cli("zone", "rm", "gone.test").returncode == 0
    deadline = time.monotonic() + 2
    while stack.get("gone.test").status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stack.get("gone.test").status_code == 421


def test_demo_stack_serves_demo_localhost(tmp_path: Path) -> None:
    """`veil up --demo` serves the demo origin at demo.localhost through the edge."""
    s = _start_up(tmp_path, "--demo")
    try:
        deadline = time.monotonic() + 10
        r = s.get("demo.localhost")
        while r.status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
            r = s.get("demo.localhost")
        assert r.status_code == 200 and "demo origin" in r.text
    finally:
        out = _stop(s.proc)
    assert "curl -i http://demo.localhost:" in out
    assert "veil_" in out  # the operator token, printed once


def test_control_down_edge_keeps_serving_and_restarts_from_disk(
    tmp_path: Path, origin_port: int
) -> None:
    """Control and edge apart: kill -9 control, the edge serves; restart the edge alone, too."""
    data = tmp_path / "data"
    api_port, edge_port = free_port(), free_port()
    control = subprocess.Popen(
        [
            *VEIL,
            "control",
            "--data-dir",
            str(data),
            "--api-listen",
            f"127.0.0.1:{api_port}",
            "--allow-private-origins",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    edge: subprocess.Popen[bytes] | None = None
    try:
        wait_port(api_port, timeout=60)
        added = subprocess.run(
            [
                *VEIL,
                "zone",
                "add",
                "apart.test",
                "--origin",
                f"http://127.0.0.1:{origin_port}",
                "--data-dir",
                str(data),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert added.returncode == 0, added.stderr
        token = (data / "edge.token").read_text().strip()
        edge_cmd = [
            *VEIL,
            "edge",
            "--control",
            f"http://127.0.0.1:{api_port}",
            "--token",
            token,
            "--listen",
            f"127.0.0.1:{edge_port}",
            "--workers",
            "1",
            "--state-dir",
            str(tmp_path / "edge"),
            "--allow-private-origins",
        ]
        edge = subprocess.Popen(edge_cmd, stdout=subprocess.DEVNULL)
        wait_port(edge_port)
        url = f"http://127.0.0.1:{edge_port}/"
        deadline = time.monotonic() + 10
        while httpx.get(url, headers={"Host": "apart.test"}).status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        os.kill(control.pid, signal.SIGKILL)
        control.wait(10)
        for _ in range(5):
            assert httpx.get(url, headers={"Host": "apart.test"}).status_code == 200
            time.sleep(0.2)
        edge.send_signal(signal.SIGTERM)
        edge.wait(40)
        edge = subprocess.Popen(edge_cmd, stdout=subprocess.DEVNULL)
        wait_port(edge_port)
        assert httpx.get(url, headers={"Host": "apart.test"}).status_code == 200
    finally:
        for p in (control, edge):
            if p is not None and p.poll() is None:
                p.terminate()
                p.wait(40)


def test_purge_through_the_cli_reaches_the_edge(stack: Stack, origin_port: int) -> None:
    """`veil purge` next to `veil up`: the stored copy is gone at the edge moments later."""
    assert stack.cli("zone", "add", "cdn.test", "--origin", f"http://127.0.0.1:{origin_port}")
    target = "/cached?cc=max-age=600&tag=promo&k=up-purge"
    deadline = time.monotonic() + 10
    while stack.get("cdn.test", target).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    for kind, value in (
        ("--url", f"http://cdn.test{target}"),
        ("--tag", "promo"),
        ("--everything", None),
    ):
        assert stack.get("cdn.test", target).headers["cache-status"].startswith("veil; hit")
        args = ["purge", "cdn.test", kind] + ([value] if value else [])
        done = stack.cli(*args)
        assert done.returncode == 0, done.stdout + done.stderr
        deadline = time.monotonic() + 5
        while "hit" in stack.get("cdn.test", target).headers["cache-status"]:
            assert time.monotonic() < deadline, f"{kind} purge never reached the edge"
            time.sleep(0.01)
