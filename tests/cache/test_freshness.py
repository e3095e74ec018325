"""Age, freshness lifetime and reuse of stored responses (RFC 9111 §4.2, §5.2.1; RFC 5861)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil.cache.freshness import (
    HEURISTIC_CAP_SECONDS,
    EntryPolicy,
    Use,
    age_value,
    corrected_initial_age,
    current_age,
    date_value,
    explicit_lifetime,
    heuristic_lifetime,
    is_fresh,
    may_serve_stale,
    reuse,
    ttl,
)
from veil.http.cache_control import EMPTY, MAX_STALE_ANY, CacheControl
from veil.http.dates import format_http_date

T = 1_700_000_000.0  # a Date the origin sent
CC = CacheControl


def http_date(t: float) -> bytes:
    return format_http_date(t)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([], 0, id="absent"),
        pytest.param([b"10"], 10, id="plain"),
        pytest.param([b" 10 "], 10, id="ows"),
        pytest.param([b"5, 7"], 5, id="list-first-member"),
        pytest.param([b"5", b"7"], 5, id="first-line"),
        pytest.param([b"abc"], 0, id="invalid-ignored"),
        pytest.param([b"-3"], 0, id="negative-ignored"),
        pytest.param([b"9" * 40], 2**31, id="clamped"),
    ],
)
def test_age_value(values: list[bytes], expected: int) -> None:
    """Age (§5.1): the first member, ignored when invalid, clamped to 2**31."""
    assert age_value(values) == expected


def test_date_missing_uses_response_time() -> None:
    """RFC 9110 §6.6.1: without a (valid) Date the receipt time stands in for it."""
    assert date_value([], T + 5) == T + 5
    assert date_value([b"yesterday"], T + 5) == T + 5
    assert date_value([http_date(T)], T + 5) == T


@pytest.mark.parametrize(
    ("age", "date", "request_time", "response_time", "expected"),
    [
        # apparent_age = 3, response_delay = 2, corrected_age_value = 10 + 2 = 12
        pytest.param(10, T, T + 1, T + 3, 12.0, id="age-field-dominates"),
        # apparent_age = 30 (Date far behind), corrected_age_value = 0 + 1 = 1
        pytest.param(0, T, T + 29, T + 30, 30.0, id="apparent-age-dominates"),
        # origin clock ahead of ours: apparent_age clamps to 0, the delay still counts
        pytest.param(0, T + 100, T, T + 2, 2.0, id="date-in-future"),
        # no Date: date_value = response_time, so only Age + delay remain
        pytest.param(7, T + 3, T + 1, T + 3, 9.0, id="date-missing"),
    ],
)
def test_corrected_initial_age(
    age: int, date: float, request_time: float, response_time: float, expected: float
) -> None:
    """RFC 9111 §4.2.3's formula, term by term."""
    got = corrected_initial_age(
        age=age, date=date, request_time=request_time, response_time=response_time
    )
    assert got == expected


def test_current_age_adds_resident_time() -> None:
    """current_age = corrected_initial_age + (now - response_time) (§4.2.3)."""
    policy = EntryPolicy(response_time=T + 3, initial_age=12.0, lifetime=60)
    assert current_age(policy, T + 13) == 22.0
    assert ttl(policy, T + 13) == 38


@pytest.mark.parametrize(
    ("now", "expected_ttl", "fresh"),
    [
        pytest.param(T, 60, True, id="just-stored"),
        pytest.param(T + 0.5, 59, True, id="floor"),
        pytest.param(T + 59.9, 0, True, id="last-fraction"),
        pytest.param(T + 60, 0, False, id="lifetime-equals-age-is-stale"),
        pytest.param(T + 64.5, -5, False, id="stale-negative"),
    ],
)
def test_ttl_and_is_fresh(now: float, expected_ttl: int, fresh: bool) -> None:
    """ttl is the floor of the remaining lifetime; fresh means lifetime > current age (§4.2)."""
    policy = EntryPolicy(response_time=T, initial_age=0.0, lifetime=60)
    assert ttl(policy, now) == expected_ttl
    assert is_fresh(policy, now) is fresh


@pytest.mark.parametrize(
    ("cc", "expires", "expected"),
    [
        pytest.param(CC(s_maxage=10, max_age=60), [], 10, id="s-maxage-over-max-age"),
        pytest.param(CC(max_age=60), [http_date(T + 1000)], 60, id="max-age-over-expires"),
        pytest.param(EMPTY, [http_date(T + 100)], 100, id="expires-minus-date"),
        pytest.param(EMPTY, [http_date(T - 100)], 0, id="expires-in-past"),
        pytest.param(EMPTY, [b"0"], 0, id="expires-invalid-is-stale"),
        pytest.param(EMPTY, [http_date(T + 100), http_date(T + 200)], 0, id="expires-conflicting"),
        pytest.param(EMPTY, [http_date(T + 100)] * 2, 100, id="expires-repeated-same"),
        pytest.param(EMPTY, [], None, id="none"),
        pytest.param(CC(max_age=0), [], 0, id="max-age-zero-is-explicit"),
    ],
)
def test_explicit_lifetime(cc: CacheControl, expires: list[bytes], expected: int | None) -> None:
    """§4.2.1 for a shared cache: s-maxage, then max-age, then Expires - Date."""
    assert explicit_lifetime(cc, expires, T) == expected


@pytest.mark.parametrize(
    ("last_modified", "expected"),
    [
        pytest.param([http_date(T - 1000)], 100, id="ten-percent"),
        pytest.param([http_date(T - 100 * 86_400)], HEURISTIC_CAP_SECONDS, id="capped"),
        pytest.param([http_date(T + 10)], 0, id="modified-after-date"),
        pytest.param([], 0, id="no-last-modified"),
        pytest.param([b"garbage"], 0, id="invalid-last-modified"),
    ],
)
def test_heuristic_lifetime(last_modified: list[bytes], expected: int) -> None:
    """§4.2.2: 10% of Date - Last-Modified, at most a day."""
    assert heuristic_lifetime(T, last_modified) == expected


FRESH = EntryPolicy(response_time=T, initial_age=0.0, lifetime=100)
STALE_BY = 50  # `now` for the stale cases: 50 s past the lifetime
STALE_NOW = T + 100 + STALE_BY


@pytest.mark.parametrize(
    ("policy", "request_cc", "authorization", "now", "expected"),
    [
        pytest.param(FRESH, EMPTY, False, T + 10, Use.HIT, id="fresh"),
        pytest.param(FRESH, EMPTY, False, STALE_NOW, Use.REVALIDATE, id="stale"),
        pytest.param(
            replace(FRESH, stale_while_revalidate=60),
            EMPTY,
            False,
            STALE_NOW,
            Use.STALE_WHILE_REVALIDATE,
            id="swr-window",
        ),
        pytest.param(
            replace(FRESH, stale_while_revalidate=10),
            EMPTY,
            False,
            STALE_NOW,
            Use.REVALIDATE,
            id="swr-window-passed",
        ),
        pytest.param(
            replace(FRESH, stale_while_revalidate=60, must_revalidate=True),
            EMPTY,
            False,
            STALE_NOW,
            Use.REVALIDATE,
            id="must-revalidate-beats-swr",
        ),
        pytest.param(
            replace(FRESH, no_cache=True), EMPTY, False, T + 10, Use.REVALIDATE, id="no-cache"
        ),
        pytest.param(
            FRESH, CC(no_cache=True), False, T + 10, Use.REVALIDATE_REQUEST, id="req-no-cache"
        ),
        pytest.param(FRESH, CC(max_age=5), False, T + 10, Use.REVALIDATE_REQUEST, id="req-max-age"),
        pytest.param(FRESH, CC(max_age=10), False, T + 10, Use.HIT, id="req-max-age-equal"),
        pytest.param(
            FRESH, CC(min_fresh=95), False, T + 10, Use.REVALIDATE_REQUEST, id="req-min-fresh"
        ),
        pytest.param(FRESH, CC(min_fresh=90), False, T + 10, Use.HIT, id="req-min-fresh-ok"),
        pytest.param(FRESH, CC(max_stale=60), False, STALE_NOW, Use.HIT, id="req-max-stale"),
        pytest.param(
            FRESH, CC(max_stale=10), False, STALE_NOW, Use.REVALIDATE, id="req-max-stale-short"
        ),
        pytest.param(
            replace(FRESH, must_revalidate=True),
            CC(max_stale=MAX_STALE_ANY),
            False,
            STALE_NOW,
            Use.REVALIDATE,
            id="must-revalidate-beats-max-stale",
        ),
        pytest.param(
            FRESH, CC(no_cache=True), False, STALE_NOW, Use.REVALIDATE, id="req-no-cache-stale"
        ),
        pytest.param(
            FRESH, CC(only_if_cached=True), False, T + 10, Use.HIT, id="only-if-cached-fresh"
        ),
        pytest.param(
            FRESH,
            CC(only_if_cached=True),
            False,
            STALE_NOW,
            Use.GATEWAY_TIMEOUT,
            id="only-if-cached-stale-504",
        ),
        pytest.param(
            replace(FRESH, stale_while_revalidate=60),
            CC(only_if_cached=True),
            False,
            STALE_NOW,
            Use.STALE_WHILE_REVALIDATE,
            id="only-if-cached-swr",
        ),
        pytest.param(FRESH, EMPTY, True, T + 10, Use.AUTHORIZATION, id="authorization"),
        pytest.param(
            replace(FRESH, authorized_reuse=True), EMPTY, True, T + 10, Use.HIT, id="auth-public"
        ),
    ],
)
def test_reuse(
    policy: EntryPolicy, request_cc: CacheControl, authorization: bool, now: float, expected: Use
) -> None:
    """Stored response x request directives -> hit, serve stale, revalidate or 504."""
    assert reuse(policy, request=request_cc, authorization=authorization, now=now) is expected


@pytest.mark.parametrize(
    ("policy", "error", "expected"),
    [
        pytest.param(FRESH, True, False, id="no-window"),
        pytest.param(replace(FRESH, stale_if_error=60), True, True, id="sie-window"),
        pytest.param(replace(FRESH, stale_if_error=60), False, False, id="sie-not-for-swr"),
        pytest.param(replace(FRESH, stale_while_revalidate=60), False, True, id="swr-window"),
        pytest.param(replace(FRESH, stale_if_error=49), True, False, id="sie-window-passed"),
        pytest.param(
            replace(FRESH, stale_if_error=600, must_revalidate=True),
            True,
            False,
            id="must-revalidate-504",
        ),
        pytest.param(replace(FRESH, stale_if_error=600, no_cache=True), True, False, id="no-cache"),
    ],
)
def test_may_serve_stale(policy: EntryPolicy, error: bool, expected: bool) -> None:
    """Stale goes out only inside the RFC 5861 window, never past must-revalidate (§4.2.4)."""
    assert may_serve_stale(policy, STALE_NOW, error=error) is expected


def test_fresh_copy_may_always_serve_on_error() -> None:
    """A copy that is still fresh may answer when the origin fails, whatever its windows."""
    assert may_serve_stale(replace(FRESH, must_revalidate=True), T + 1, error=True)


@given(
    st.integers(0, 10**6),
    st.floats(0, 10**6),
    st.floats(0, 10**6),
    st.booleans(),
    st.integers(0, 1000),
)
def test_must_revalidate_never_serves_stale(
    lifetime: int, initial_age: float, resident: float, error: bool, window: int
) -> None:
    """Whatever the windows and the clock, a must-revalidate copy is never served stale."""
    policy = EntryPolicy(
        response_time=T,
        initial_age=initial_age,
        lifetime=lifetime,
        stale_if_error=window,
        stale_while_revalidate=window,
        must_revalidate=True,
    )
    now = T + resident
    if not is_fresh(policy, now):
        assert not may_serve_stale(policy, now, error=error)
        use = reuse(policy, request=CC(max_stale=MAX_STALE_ANY), authorization=False, now=now)
        assert use is Use.REVALIDATE
