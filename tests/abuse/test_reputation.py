"""Reporter reputation: who is throttled, and what a throttled reporter may still file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from veil.abuse.reputation import Filed, ThrottleRule, admit, standing

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def history(pattern: str, *, spacing: timedelta = DAY, last: datetime = NOW) -> list[Filed]:
    """'v' valid, 'x' invalid, oldest first; the last one filed at `last`."""
    n = len(pattern)
    return [Filed(at=last - (n - 1 - i) * spacing, invalid=c == "x") for i, c in enumerate(pattern)]


@pytest.mark.parametrize(
    ("pattern", "throttled"),
    [
        ("", False),
        ("xxxx", False),  # fewer than 5 notices: not judged yet
        ("xxxxx", True),  # 5 of 5 invalid
        ("vvxxx", False),  # 3 of 5 = 60 %: not above 60 %
        ("vxxxx", True),  # 4 of 5 = 80 %
        ("vvvxxxxx", True),  # 5 of 8 = 62.5 %
        ("vvvvxxxxxx", False),  # 6 of 10 = 60 %
        ("vvvvvvvvvv", False),
    ],
)
def test_throttled_above_sixty_percent_of_at_least_five(pattern: str, throttled: bool) -> None:
    """Throttled with at least 5 recent notices of which more than 60 % were invalid."""
    record = standing(history(pattern), NOW)
    assert record.throttled is throttled
    assert (record.notices, record.invalid) == (len(pattern), pattern.count("x"))


def test_only_the_last_thirty_days_count() -> None:
    """A notice exactly 30 days old has left the window; one a second younger still counts."""
    old = [Filed(NOW - timedelta(days=30), True)]
    young = [Filed(NOW - timedelta(days=30) + timedelta(seconds=1), True)]
    recent = history("xxxx", spacing=timedelta(hours=2))
    assert standing(old + recent, NOW).throttled is False
    assert standing(young + recent, NOW).throttled is True
    future = [Filed(NOW + timedelta(seconds=1), True)]
    assert standing(future + recent, NOW).notices == 4  # not yet filed at `now`


@pytest.mark.parametrize(
    ("since_last", "allowed"),
    [
        (timedelta(0), False),
        (timedelta(minutes=59, seconds=59), False),
        (timedelta(hours=1), True),  # exactly one spacing later
        (timedelta(hours=5), True),
    ],
)
def test_a_throttled_reporter_files_one_notice_per_hour(
    since_last: timedelta, allowed: bool
) -> None:
    """Throttled: the next notice is taken one hour after the last, not sooner."""
    last = NOW - since_last
    verdict = admit(history("xxxxx", spacing=timedelta(minutes=1), last=last), NOW)
    assert verdict.standing.throttled and verdict.allowed is allowed
    assert verdict.retry_at == (None if allowed else last + timedelta(hours=1))


def test_an_unthrottled_reporter_is_always_admitted() -> None:
    """No spacing for a reporter in good standing, however fast it files."""
    verdict = admit(history("vvvvvvvvvx", spacing=timedelta(seconds=1)), NOW)
    assert verdict.allowed and verdict.retry_at is None and not verdict.standing.throttled


def test_the_rule_is_configurable_and_checked() -> None:
    """A stricter rule throttles sooner; nonsense rules are refused."""
    strict = ThrottleRule(min_notices=2, max_invalid_percent=0, spacing=timedelta(days=1))
    assert standing(history("vx"), NOW, strict).throttled
    assert not admit(history("vx", spacing=timedelta(hours=1)), NOW, strict).allowed
    for bad in (
        {"min_notices": 0},
        {"max_invalid_percent": 100},
        {"window": timedelta(0)},
        {"spacing": -DAY},
    ):
        with pytest.raises(ValueError):
            ThrottleRule(**bad)  # type: ignore[arg-type]
