"""The repeat-infringer ledger and policy (17 U.S.C. §512(i)(1)(A)).

Theory of operation. The safe harbours hold only for a provider that has "adopted and
reasonably implemented, and informs subscribers … of, a policy that provides for the
termination in appropriate circumstances of subscribers … who are repeat infringers"
(§512(i)(1)(A); BMG v. Cox shows what "reasonably implemented" costs when it is not).

- A `Strike` is recorded against an account when a valid notice leads to action in a case.
- A strike is *active* from `issued_at` until `issued_at + window` (exclusive: at the very
  instant the window ends it has expired), unless it was reversed before `now` — a successful
  counter-notice (material restored, no lawsuit filed) reverses the case's strike.
- `policy_verdict` answers the policy's action (default "suspension_review") once an account
  holds `max_strikes` active strikes, else None. A human then reviews; nothing here suspends.
- `describe(policy)` is the paragraph for the desk's public policy page (the "informs" part).

Pure: no I/O, no clock; `now` is a parameter. Times should be timezone-aware.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Strike:
    """One strike against an account, from one case; `reversed_at` set by a counter-notice."""

    account: str
    case_id: str
    issued_at: datetime
    reversed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RepeatInfringerPolicy:
    """How many active strikes within how long lead to which action."""

    max_strikes: int = 3
    window: timedelta = timedelta(days=365)
    action: str = "suspension_review"

    def __post_init__(self) -> None:
        if self.max_strikes < 1:
            raise ValueError("max_strikes must be at least 1")
        if self.window <= timedelta(0):
            raise ValueError("window must be positive")
        if not self.action.strip():
            raise ValueError("action must be named")


def is_active(strike: Strike, now: datetime, *, window: timedelta) -> bool:
    """Issued by `now`, not yet expired (`issued_at + window` is already expired), not reversed."""
    if not strike.issued_at <= now < strike.issued_at + window:
        return False
    return strike.reversed_at is None or strike.reversed_at > now


def active_strikes(
    strikes: Iterable[Strike], now: datetime, *, window: timedelta
) -> tuple[Strike, ...]:
    """The strikes that count at `now`, oldest first; `len()` of it is the count."""
    live = (s for s in strikes if is_active(s, now, window=window))
    return tuple(sorted(live, key=lambda s: s.issued_at))


def policy_verdict(
    strikes: Iterable[Strike], now: datetime, policy: RepeatInfringerPolicy
) -> str | None:
    """The policy's action when one account's active strikes reach `max_strikes`, else None.

    `strikes` is one account's ledger; mixing accounts is a caller's error.
    """
    ledger = tuple(strikes)
    if len({s.account for s in ledger}) > 1:
        raise ValueError("policy_verdict takes one account's strikes")
    if len(active_strikes(ledger, now, window=policy.window)) >= policy.max_strikes:
        return policy.action
    return None


def reverse_for_case(strikes: Iterable[Strike], case_id: str, at: datetime) -> tuple[Strike, ...]:
    """The ledger with the case's strike reversed at `at` (a successful counter-notice).

    A strike already reversed keeps its first reversal time; other cases are untouched.
    """
    return tuple(
        replace(s, reversed_at=at) if s.case_id == case_id and s.reversed_at is None else s
        for s in strikes
    )


def _span(window: timedelta) -> str:
    """A window in plain words: "12 months", "90 days", "1 day"."""
    days = window.days
    if days and days % 365 == 0:
        years = days // 365
        return "12 months" if years == 1 else f"{years} years"
    if days:
        return "1 day" if days == 1 else f"{days} days"
    hours = int(window.total_seconds() // 3600)
    return "1 hour" if hours == 1 else f"{hours} hours"


def describe(policy: RepeatInfringerPolicy) -> str:
    """One paragraph for the public policy page (§512(i)(1)(A): subscribers are informed)."""
    action = policy.action.replace("_", " ")
    strikes = "1 strike" if policy.max_strikes == 1 else f"{policy.max_strikes} strikes"
    return (
        "Repeat infringers. When a valid copyright notice leads us to act on material served "
        "for an account, that account receives a strike. A strike counts for "
        f"{_span(policy.window)} from the day it is issued and then expires. A strike is "
        "withdrawn when the customer sends a valid counter-notice and the material is restored "
        "because the complainant did not tell us of a lawsuit within the legal window. An account "
        f"holding {strikes} at once is referred for {action}, and accounts of repeat infringers "
        "are terminated in appropriate circumstances, as 17 U.S.C. §512(i) requires. Notices "
        "that are incomplete or about material not on our network do not count."
    )
