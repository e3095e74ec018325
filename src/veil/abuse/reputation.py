"""Reporter reputation: reporters whose notices are repeatedly invalid are throttled (issue 4).

Theory of operation. A reporter's history is the notices it filed, each with its time and
whether validation found it invalid. `standing(history, now, rule)` looks at the notices of the
last `window` (default 30 days; a notice exactly `window` old has left it) and says the reporter
is *throttled* when there are at least `min_notices` (5) of them and more than
`max_invalid_percent` (60 %) are invalid. Integer arithmetic: 3 of 5 is 60 %, not throttled.

A throttled reporter is not shut out: `admit(history, now, rule)` takes one notice per `spacing`
(1 hour) and refuses any sooner, naming when the next may come. As old invalid notices leave the
window, or valid ones come in, the share falls and the throttle lifts by itself.

Incomplete notices (§512(c)(3)(B)(ii): kept open while the reporter completes them) are not
invalid: the law asks the provider to help complete them, not to hold them against the sender.

Pure: no I/O, no clock; `now` is a parameter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Filed:
    """One notice of a reporter: when it came, and whether it was invalid."""

    at: datetime
    invalid: bool


@dataclass(frozen=True, slots=True)
class ThrottleRule:
    """When a reporter is throttled and how many notices it may then file."""

    window: timedelta = timedelta(days=30)
    min_notices: int = 5
    max_invalid_percent: int = 60  # throttled above this share of invalid notices
    spacing: timedelta = timedelta(hours=1)  # one notice per spacing while throttled

    def __post_init__(self) -> None:
        if self.window <= timedelta(0) or self.spacing <= timedelta(0):
            raise ValueError("window and spacing must be positive")
        if self.min_notices < 1:
            raise ValueError("min_notices must be at least 1")
        if not 0 <= self.max_invalid_percent < 100:
            raise ValueError("max_invalid_percent must be in [0, 100)")


DEFAULT_RULE = ThrottleRule()


@dataclass(frozen=True, slots=True)
class Standing:
    """A reporter's recent record: notices and invalid ones within the window."""

    notices: int
    invalid: int
    throttled: bool


@dataclass(frozen=True, slots=True)
class Admission:
    """Whether the next notice is taken; `retry_at` when it is not."""

    allowed: bool
    standing: Standing
    retry_at: datetime | None = None


def _recent(history: Iterable[Filed], now: datetime, window: timedelta) -> list[Filed]:
    return [f for f in history if now - window < f.at <= now]


def standing(
    history: Iterable[Filed], now: datetime, rule: ThrottleRule = DEFAULT_RULE
) -> Standing:
    """The record of the last `rule.window` and whether it throttles the reporter."""
    recent = _recent(history, now, rule.window)
    invalid = sum(1 for f in recent if f.invalid)
    throttled = len(recent) >= rule.min_notices and invalid * 100 > rule.max_invalid_percent * len(
        recent
    )
    return Standing(notices=len(recent), invalid=invalid, throttled=throttled)


def admit(history: Iterable[Filed], now: datetime, rule: ThrottleRule = DEFAULT_RULE) -> Admission:
    """Take the next notice unless the reporter is throttled and filed one within `spacing`."""
    filed = list(history)
    record = standing(filed, now, rule)
    if not record.throttled:
        return Admission(allowed=True, standing=record)
    last = max((f.at for f in filed if f.at <= now), default=None)
    if last is None or now - last >= rule.spacing:
        return Admission(allowed=True, standing=record)
    return Admission(allowed=False, standing=record, retry_at=last + rule.spacing)
