"""Time as a parameter (STYLE principle 6).

Anything that waits or expires takes a `Clock`. Production code uses `SystemClock`;
tests use `FakeClock` and move time by hand.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (wall clock), for timestamps shown to people."""
        ...

    def monotonic(self) -> float:
        """Seconds on a monotonic clock, for durations and deadlines."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._wall = start
        self._mono = 0.0

    def now(self) -> float:
        return self._wall

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._wall += seconds
        self._mono += seconds


SYSTEM_CLOCK: Clock = SystemClock()
