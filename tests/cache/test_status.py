"""Cache-Status (RFC 9211) values naming the `veil` cache."""

from __future__ import annotations

from typing import TypedDict

import pytest

from veil.cache.reasons import Forward, Reason
from veil.cache.status import collapsed_hit, forward, hit


class Params(TypedDict, total=False):
    fwd_status: int
    stored: bool
    collapsed: bool
    ttl: int
    detail: str


@pytest.mark.parametrize(
    ("ttl", "expected"),
    [
        pytest.param(3590, b"veil; hit; ttl=3590", id="fresh"),
        pytest.param(0, b"veil; hit; ttl=0", id="last-second"),
        pytest.param(-5, b"veil; hit; ttl=-5", id="stale"),
    ],
)
def test_hit(ttl: int, expected: bytes) -> None:
    """A hit names the cache and the remaining freshness, negative when served stale."""
    assert hit(ttl) == expected
    assert hit(ttl) is hit(ttl)  # memoised: the hit path allocates nothing new


def test_hit_memo_is_bounded() -> None:
    """Past the memo's limit hits are still right, just formatted each time."""
    for ttl in range(10_000):
        assert hit(ttl) == b"veil; hit; ttl=%d" % ttl


def test_collapsed_hit() -> None:
    """A waiter served from a collapsed fill says so (RFC 9211 §2.7)."""
    assert collapsed_hit(10) == b"veil; hit; collapsed; ttl=10"


@pytest.mark.parametrize(
    ("fwd", "params", "expected"),
    [
        pytest.param(Forward.URI_MISS, {"stored": True}, b"veil; fwd=uri-miss; stored", id="stored-miss"),
        pytest.param(Forward.URI_MISS, {"detail": Reason.SET_COOKIE}, b"veil; fwd=uri-miss; detail=set-cookie", id="not-stored"),
        pytest.param(Forward.STALE, {"fwd_status": 304}, b"veil; fwd=stale; fwd-status=304", id="revalidated"),
        pytest.param(Forward.STALE, {"fwd_status": 304, "stored": True, "ttl": 60}, b"veil; fwd=stale; fwd-status=304; stored; ttl=60", id="revalidated-refreshed"),
        pytest.param(Forward.BYPASS, {"detail": Reason.AUTHORIZATION}, b"veil; fwd=bypass; detail=authorization", id="bypass"),
        pytest.param(Forward.METHOD, {}, b"veil; fwd=method", id="method"),
        pytest.param(Forward.VARY_MISS, {"collapsed": True, "stored": True}, b"veil; fwd=vary-miss; stored; collapsed", id="collapsed"),
        pytest.param(Forward.STALE, {"fwd_status": 503, "ttl": -30, "detail": "stale-if-error"}, b"veil; fwd=stale; fwd-status=503; ttl=-30; detail=stale-if-error", id="stale-if-error"),
        pytest.param(Forward.MISS, {"detail": 'has "quotes" and spaces'}, b'veil; fwd=miss; detail="has \\"quotes\\" and spaces"', id="detail-string"),
        pytest.param(Forward.MISS, {"detail": "1abc"}, b'veil; fwd=miss; detail="1abc"', id="detail-not-a-token"),
    ],
)  # fmt: skip
def test_forward(fwd: Forward, params: Params, expected: bytes) -> None:
    """A forwarded request says why (fwd), what came back, whether stored, and details."""
    assert forward(fwd, **params) == expected


@pytest.mark.parametrize("reason", list(Reason), ids=str)
def test_every_reason_is_a_bare_token(reason: Reason) -> None:
    """Every Reason goes out as detail=<token>, unquoted (RFC 8941 §3.3.4)."""
    assert forward(Forward.MISS, detail=reason) == b"veil; fwd=miss; detail=" + reason.encode()
