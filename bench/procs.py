"""Processes under test: start pinned to a CPU, wait until they answer, stop for certain.

Every server is started in its own session (process group), so stopping it reaches its
workers too. Each group is written to a pid book in bench/out/; a later run (or run.sh's EXIT
trap) reaps whatever an interrupted run left behind. A group is only signalled if its leader's
command line still names the bench output directory, so a recycled pid is never hit.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

STOP_GRACE = 15.0  # seconds between SIGTERM and SIGKILL


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now (never 8080/8081)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in (8080, 8081):
            return port


def pinned(cpu: int | None, argv: list[str]) -> list[str]:
    """`argv` run on one CPU via taskset (or unpinned on a one-CPU machine)."""
    return argv if cpu is None else ["taskset", "-c", str(cpu), *argv]


class PidBook:
    """The process groups this bench started, on disk, so none outlives the run."""

    def __init__(self, path: Path, marker: str) -> None:
        self.path = path
        self.marker = marker

    def add(self, pgid: int) -> None:
        with self.path.open("a") as f:
            f.write(f"{pgid}\n")

    def reap(self) -> list[int]:
        """Kill every recorded group whose leader is still one of ours; forget the book."""
        if not self.path.exists():
            return []
        killed = []
        for line in self.path.read_text().split():
            pgid = int(line)
            if self._ours(pgid):
                kill_group(pgid)
                killed.append(pgid)
        self.path.unlink(missing_ok=True)
        return killed

    def _ours(self, pid: int) -> bool:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False
        return self.marker.encode() in cmdline


def kill_group(pgid: int, grace: float = STOP_GRACE) -> None:
    """SIGTERM a process group, then SIGKILL whatever is left after `grace` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and group_pids(pgid):
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def group_pids(pgid: int) -> list[int]:
    """Live (non-zombie) processes of one process group, from /proc."""
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        stat = _stat_fields(int(entry.name))
        if stat is not None and stat[2] != "Z" and int(stat[4]) == pgid:
            pids.append(int(entry.name))
    return pids


def process_ticks() -> dict[int, tuple[int, int]]:
    """Every live process: pid -> (process group, user + system CPU ticks so far)."""
    out = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = _stat_fields(int(entry.name))
            if stat is not None:
                ticks = int(stat[13]) + int(stat[14])  # utime stime
                out[int(entry.name)] = (int(stat[4]), ticks)
    return out


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat split into fields, the command name (which may hold spaces) as one."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    head, _, rest = raw.rpartition(")")
    pid_text, _, comm = head.partition(" (")
    return [pid_text, comm, *rest.split()]


@dataclass
class Server:
    """One long-running process tree of the bench (an nginx or a Veil edge)."""

    name: str
    argv: list[str]
    log: Path
    book: PidBook
    env: dict[str, str] | None = None  # None: this process's environment
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=self.env,
                start_new_session=True,
            )
        self.book.add(self.proc.pid)

    @property
    def pgid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        kill_group(self.pgid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=1)
        self.proc = None

    def tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


def wait_until_serving(
    server: Server, port: int, path: str, host: str, size: int, timeout: float = 20.0
) -> None:
    """Poll (bounded) until GET `path` with Host `host` answers 200 with `size` bytes."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"{server.name} exited early:\n{server.tail()}")
        try:
            status, length = _get(port, path, host)
        except OSError as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if status == 200 and length == size:
                return
            last = f"HTTP {status}, {length} bytes"
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} not serving on 127.0.0.1:{port} ({last}):\n{server.tail()}")


def _get(port: int, path: str, host: str) -> tuple[int, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", path, headers={"Host": host})
        resp = conn.getresponse()
        return resp.status, len(resp.read())
    finally:
        conn.close()
