"""The repeat-infringer ledger: active strikes, expiry at the window edge, reversal, policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from veil.abuse.strikes import (
    RepeatInfringerPolicy,
    Strike,
    active_strikes,
    describe,
    is_active,
    policy_verdict,
    reverse_for_case,
)

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
YEAR = timedelta(days=365)
POLICY = RepeatInfringerPolicy()


def strike(case: str, issued: datetime, reversed_at: datetime | None = None) -> Strike:
    return Strike("acct-1", case, issued, reversed_at)


@pytest.mark.parametrize(
    ("s", "now", "active"),
    [
        pytest.param(strike("c1", T0), T0, True, id="at-issue"),
        pytest.param(strike("c1", T0), T0 - timedelta(seconds=1), False, id="not-yet-issued"),
        pytest.param(strike("c1", T0), T0 + YEAR - timedelta(microseconds=1), True, id="last-us"),
        pytest.param(strike("c1", T0), T0 + YEAR, False, id="expired-exactly-at-edge"),
        pytest.param(strike("c1", T0, T0 + timedelta(days=20)), T0 + timedelta(days=19), True,
                     id="before-reversal"),
        pytest.param(strike("c1", T0, T0 + timedelta(days=20)), T0 + timedelta(days=20), False,
                     id="at-reversal"),
    ],
)  # fmt: skip
def test_is_active(s: Strike, now: datetime, active: bool) -> None:
    """A strike counts from its issue until the window's end (exclusive), unless reversed."""
    assert is_active(s, now, window=YEAR) is active


def test_active_strikes_counts_only_live_ones_oldest_first() -> None:
    """Expired, reversed and future strikes drop out; the rest come back oldest first."""
    now = T0 + YEAR
    ledger = [
        strike("late", T0 + timedelta(days=200)),
        strike("expired", T0),
        strike("reversed", T0 + timedelta(days=10), T0 + timedelta(days=30)),
        strike("early", T0 + timedelta(days=1)),
        strike("future", now + timedelta(days=1)),
    ]
    assert [s.case_id for s in active_strikes(ledger, now, window=YEAR)] == ["early", "late"]


@pytest.mark.parametrize(
    ("days", "verdict"),
    [
        pytest.param([0, 100, 200], "suspension_review", id="three-within-a-year"),
        pytest.param([0, 100], None, id="two"),
        pytest.param([-165, 100, 200], None, id="first-expired-at-edge"),
        pytest.param([-164, 100, 200], "suspension_review", id="first-one-day-from-edge"),
        pytest.param([0, 1, 2, 3], "suspension_review", id="four"),
    ],
)
def test_policy_verdict(days: list[int], verdict: str | None) -> None:
    """3 active strikes in 12 months (judged on day 200) refer the account for review."""
    ledger = [strike(f"c{d}", T0 + timedelta(days=d)) for d in days]
    assert policy_verdict(ledger, T0 + timedelta(days=200), POLICY) == verdict


def test_reversal_by_counter_notice_lifts_the_verdict() -> None:
    """A successful counter-notice reverses its case's strike and the account drops below 3."""
    ledger = [strike(c, T0 + timedelta(days=d)) for c, d in (("a", 0), ("b", 1), ("c", 2))]
    now = T0 + timedelta(days=30)
    assert policy_verdict(ledger, now, POLICY) == "suspension_review"
    reversed_ledger = reverse_for_case(ledger, "b", now)
    assert policy_verdict(reversed_ledger, now + timedelta(seconds=1), POLICY) is None
    assert [s.reversed_at for s in reversed_ledger] == [None, now, None]


def test_reversal_keeps_the_first_reversal_time() -> None:
    """Reversing an already reversed strike does not move its reversal time."""
    first = T0 + timedelta(days=5)
    ledger = reverse_for_case([strike("a", T0, first)], "a", T0 + timedelta(days=9))
    assert ledger[0].reversed_at == first


def test_policy_verdict_rejects_mixed_accounts() -> None:
    """The verdict is per account; a ledger mixing accounts is refused."""
    with pytest.raises(ValueError, match="one account"):
        policy_verdict([strike("a", T0), Strike("acct-2", "b", T0)], T0, POLICY)


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"max_strikes": 0}, id="zero-strikes"),
        pytest.param({"window": timedelta(0)}, id="empty-window"),
        pytest.param({"action": " "}, id="no-action"),
    ],
)
def test_policy_rejects_nonsense(kwargs: dict[str, object]) -> None:
    """A policy that could never or always fire is refused at construction."""
    with pytest.raises(ValueError):
        RepeatInfringerPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("policy", "phrases"),
    [
        pytest.param(POLICY, ["3 strikes", "12 months", "suspension review", "§512(i)"],
                     id="default"),
        pytest.param(RepeatInfringerPolicy(1, timedelta(days=90), "account_suspend"),
                     ["1 strike", "90 days", "account suspend"], id="strict"),
    ],
)  # fmt: skip
def test_describe_states_the_policy(policy: RepeatInfringerPolicy, phrases: list[str]) -> None:
    """The public paragraph names the threshold, the window and the action in plain words."""
    text = describe(policy)
    assert "\n" not in text
    for phrase in phrases:
        assert phrase in text
