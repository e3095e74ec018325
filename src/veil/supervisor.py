"""A small process supervisor: the `veil up` / `veil edge` process tree.

Children are started with the `spawn` method (clean interpreters; no inherited event loops or
threads). A child that dies unexpectedly is restarted with a growing delay. SIGTERM or SIGINT
sends SIGTERM to every child, waits for them to drain (at most `grace` seconds), then kills
what is left.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.process
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_ctx = multiprocessing.get_context("spawn")


@dataclass
class Child:
    name: str
    target: Callable[..., None]
    args: tuple[Any, ...] = ()
    process: multiprocessing.process.BaseProcess | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = field(default=0.0)

    def start(self) -> None:
        self.process = _ctx.Process(
            target=_child_entry, args=(self.target, *self.args), name=self.name
        )
        self.process.start()
        self.started_at = time.monotonic()


def _child_entry(target: Callable[..., None], *args: Any) -> None:
    """Run a child that Linux sends SIGTERM if the supervisor dies first (no orphans)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    target(*args)


PR_SET_PDEATHSIG = 1


class Supervisor:
    def __init__(self, *, grace: float = 35.0, on_tick: Callable[[], None] | None = None) -> None:
        self.children: list[Child] = []
        self.grace = grace
        self._stopping = False
        self._on_tick = on_tick

    def add(self, name: str, target: Callable[..., None], *args: Any) -> Child:
        child = Child(name=name, target=target, args=args)
        self.children.append(child)
        return child

    def stop(self, *_: object) -> None:
        self._stopping = True

    @property
    def stopping(self) -> bool:
        return self._stopping

    def run(self, on_started: Callable[[], None] | None = None) -> int:
        """Start every child, keep them alive until told to stop, then shut them down.

        `on_started` runs once after every child was started (e.g. to wait for readiness and
        print how to use what is running).
        """
        previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for child in self.children:
                child.start()
            if on_started is not None:
                on_started()
            while not self._stopping:
                self._reap_and_restart()
                if self._on_tick is not None:
                    self._on_tick()
                time.sleep(0.2)
        finally:
            self._shutdown()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def _reap_and_restart(self) -> None:
        now = time.monotonic()
        for child in self.children:
            proc = child.process
            if proc is None or proc.is_alive():
                if proc is None and now >= child.next_start:
                    child.start()
                continue
            proc.join(0)
            uptime = now - child.started_at
            child.restarts = 0 if uptime > 30 else child.restarts + 1
            delay = min(0.5 * (2**child.restarts), 10.0)
            print(
                f"veil: {child.name} exited with code {proc.exitcode}; restarting in {delay:.1f}s"
            )
            child.process = None
            child.next_start = now + delay

    def _shutdown(self) -> None:
        alive = [c.process for c in self.children if c.process is not None and c.process.is_alive()]
        for proc in alive:
            if proc.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()  # SIGTERM: drain
        deadline = time.monotonic() + self.grace
        for proc in alive:
            proc.join(max(0.0, deadline - time.monotonic()))
        for proc in alive:
            if proc.is_alive():
                proc.kill()
                proc.join(1)
