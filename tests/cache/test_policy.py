"""The shared-cache policy: request decisions, storage decisions, RFC 9213 precedence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

import pytest

from veil.cache.freshness import HEURISTIC_CAP_SECONDS
from veil.cache.policy import (
    RequestDecision,
    StoreDecision,
    client_cache_control,
    request_decision,
    store_decision,
)
from veil.cache.reasons import Forward, Reason
from veil.http.dates import format_http_date

T = 1_700_000_000.0
DATE = (b"Date", format_http_date(T))
ETAG = (b"ETag", b'"v1"')
Headers = Sequence[tuple[bytes, bytes]]


class Opts(TypedDict, total=False):
    status: int
    method: bytes
    path: bytes
    request_headers: Headers
    edge_ttl: int | None


def decide(
    headers: Headers,
    *,
    status: int = 200,
    method: bytes = b"GET",
    path: bytes = b"/a",
    request_headers: Headers = (),
    edge_ttl: int | None = None,
) -> StoreDecision:
    request = request_decision(method if method in (b"GET", b"HEAD") else b"GET", request_headers)
    return store_decision(
        request=request,
        method=method,
        path=path,
        status=status,
        headers=[DATE, *headers],
        request_time=T,
        response_time=T,
        edge_ttl=edge_ttl,
    )


# --- request side ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "dev", "bypass", "reason", "fwd"),
    [
        pytest.param(b"POST", False, False, Reason.METHOD, Forward.METHOD, id="post"),
        pytest.param(b"get", False, False, Reason.METHOD, Forward.METHOD, id="method-case-sensitive"),
        pytest.param(b"DELETE", False, False, Reason.METHOD, Forward.METHOD, id="delete"),
        pytest.param(b"GET", True, False, Reason.DEVELOPMENT_MODE, Forward.BYPASS, id="dev-mode"),
        pytest.param(b"GET", False, True, Reason.CACHE_LEVEL_BYPASS, Forward.BYPASS, id="cache-level-bypass"),
        pytest.param(b"POST", True, False, Reason.DEVELOPMENT_MODE, Forward.BYPASS, id="dev-mode-first"),
    ],
)  # fmt: skip
def test_request_bypass(
    method: bytes, dev: bool, bypass: bool, reason: Reason, fwd: Forward
) -> None:
    """Requests the cache does not handle say why, with RFC 9211's fwd value."""
    decision = request_decision(method, [], development_mode=dev, bypass_cache=bypass)
    assert decision == RequestDecision(lookup=False, reason=reason, fwd=fwd)


@pytest.mark.parametrize("method", [b"GET", b"HEAD"])
def test_plain_request_is_looked_up(method: bytes) -> None:
    """GET and HEAD without directives are looked up, nothing noted."""
    decision = request_decision(method, [(b"Host", b"a"), (b"Accept", b"*/*")])
    assert decision.lookup and not decision.authorization and decision.reason is None


def test_authorization_is_looked_up_but_noted() -> None:
    """RFC 9111 §3.5: Authorization does not bypass; reuse and storage must allow it."""
    decision = request_decision(b"GET", [(b"AUTHORIZATION", b"Bearer x")])
    assert decision.lookup and decision.authorization


def test_request_directives_parsed_once() -> None:
    """The request's Cache-Control is parsed at lookup and carried in the decision."""
    decision = request_decision(b"GET", [(b"cache-control", b"no-cache, max-stale")])
    assert decision.lookup and decision.directives.no_cache
    assert decision.directives.max_stale is not None


# --- storage ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "kwargs", "reason"),
    [
        pytest.param([(b"Cache-Control", b"no-store, max-age=60")], {}, Reason.NO_STORE, id="no-store"),
        pytest.param([(b"Cache-Control", b"private, max-age=60")], {}, Reason.PRIVATE, id="private"),
        pytest.param([(b"Cache-Control", b"max-age=60"), (b"Set-Cookie", b"a=b")], {}, Reason.SET_COOKIE, id="set-cookie"),
        pytest.param([(b"Cache-Control", b"max-age=60"), (b"Vary", b"accept-encoding, *")], {}, Reason.VARY_STAR, id="vary-star"),
        pytest.param([], {"status": 404}, Reason.ERROR_WITHOUT_FRESHNESS, id="404-cpdos"),
        pytest.param([(b"Cache-Control", b"public")], {"status": 500}, Reason.ERROR_WITHOUT_FRESHNESS, id="500-public"),
        pytest.param([ETAG], {"status": 302}, Reason.NOT_CACHEABLE, id="302-no-freshness"),
        pytest.param([ETAG], {"status": 201}, Reason.NOT_CACHEABLE, id="201"),
        pytest.param([(b"Cache-Control", b"max-age=60")], {"status": 206}, Reason.PARTIAL, id="206"),
        pytest.param([(b"Cache-Control", b"max-age=60")], {"status": 304}, Reason.STATUS, id="304"),
        pytest.param([(b"Cache-Control", b"max-age=60")], {"status": 103}, Reason.STATUS, id="103"),
        pytest.param([(b"Cache-Control", b"max-age=60")], {"method": b"HEAD"}, Reason.HEAD_RESPONSE, id="head"),
        pytest.param([(b"Cache-Control", b"max-age=60")], {"request_headers": [(b"Cache-Control", b"no-store")]}, Reason.REQUEST_NO_STORE, id="request-no-store"),
        pytest.param([(b"Cache-Control", b"max-age=60")], {"request_headers": [(b"Authorization", b"x")]}, Reason.AUTHORIZATION, id="authorization"),
        pytest.param([(b"Cache-Control", b"max-age=60, must-understand")], {"status": 299}, Reason.MUST_UNDERSTAND, id="must-understand-unknown"),
        pytest.param([(b"Cache-Control", b"max-age=60"), (b"Content-Type", b"text/html")], {"path": b"/account.php/x.css"}, Reason.CONTENT_TYPE_MISMATCH, id="deception"),
        pytest.param([], {}, Reason.STALE_ON_ARRIVAL, id="nothing-to-go-on"),
        pytest.param([(b"Expires", b"0")], {}, Reason.STALE_ON_ARRIVAL, id="expires-invalid"),
        pytest.param([(b"Cache-Control", b"max-age=60"), (b"Age", b"90")], {}, Reason.STALE_ON_ARRIVAL, id="aged-out"),
        pytest.param([(b"CDN-Cache-Control", b"private"), (b"Cache-Control", b"public, max-age=60")], {}, Reason.PRIVATE, id="cdn-private"),
        pytest.param([(b"Cache-Control", b"no-store")], {"edge_ttl": 3600}, Reason.NO_STORE, id="edge-ttl-keeps-no-store"),
        pytest.param([], {"status": 404, "edge_ttl": 3600}, Reason.ERROR_WITHOUT_FRESHNESS, id="edge-ttl-not-for-errors"),
    ],
)  # fmt: skip
def test_not_stored(headers: Headers, kwargs: Opts, reason: Reason) -> None:
    """Responses Veil does not store, each with its reason."""
    decision = decide(headers, **kwargs)
    assert (decision.store, decision.reason) == (False, reason)


@pytest.mark.parametrize(
    ("headers", "kwargs", "lifetime", "governed_by"),
    [
        pytest.param([(b"Cache-Control", b"max-age=60")], {}, 60, b"cache-control", id="max-age"),
        pytest.param([(b"Cache-Control", b"max-age=60, s-maxage=10")], {}, 10, b"cache-control", id="s-maxage-wins"),
        pytest.param([(b"Expires", format_http_date(T + 100))], {}, 100, b"cache-control", id="expires-minus-date"),
        pytest.param([(b"Expires", b"0"), ETAG], {}, 0, b"cache-control", id="expires-invalid-stale-kept-with-etag"),
        pytest.param([(b"Last-Modified", format_http_date(T - 1000))], {}, 100, b"cache-control", id="heuristic"),
        pytest.param([(b"Last-Modified", format_http_date(T - 10**8))], {}, HEURISTIC_CAP_SECONDS, b"cache-control", id="heuristic-cap"),
        pytest.param([(b"Cache-Control", b"max-age=5")], {"status": 503}, 5, b"cache-control", id="error-with-freshness"),
        pytest.param([(b"Cache-Control", b"max-age=60")], {"status": 302}, 60, b"cache-control", id="302-explicit"),
        pytest.param([(b"Cache-Control", b"max-age=60")], {"status": 404}, 60, b"cache-control", id="404-explicit"),
        pytest.param([(b"Cache-Control", b"no-store, must-understand, max-age=60")], {}, 60, b"cache-control", id="must-understand-overrides-no-store"),
        pytest.param([(b"Cache-Control", b"no-store, must-understand, max-age=60")], {"status": 307}, 60, b"cache-control", id="must-understand-307-explicit"),
        pytest.param([(b"Cache-Control", b"no-cache"), ETAG], {}, 0, b"cache-control", id="no-cache-stored-to-revalidate"),
        pytest.param([(b"CDN-Cache-Control", b"max-age=600"), (b"Cache-Control", b"no-store")], {}, 600, b"cdn-cache-control", id="rfc9213-cdn-over-no-store"),
        pytest.param([(b"CDN-Cache-Control", b"max-age=600"), (b"Cache-Control", b"private")], {}, 600, b"cdn-cache-control", id="rfc9213-cdn-over-private"),
        pytest.param([(b"Cache-Control", b"max-age=60, s-maxage=120"), (b"CDN-Cache-Control", b"max-age=600")], {}, 600, b"cdn-cache-control", id="rfc9213-example"),
        pytest.param([(b"Veil-Cache-Control", b"max-age=5"), (b"CDN-Cache-Control", b"max-age=600")], {}, 5, b"veil-cache-control", id="veil-over-cdn"),
        pytest.param([(b"Veil-Cache-Control", b"Max-Age=5"), (b"CDN-Cache-Control", b"max-age=600")], {}, 600, b"cdn-cache-control", id="invalid-veil-falls-back"),
        pytest.param([(b"CDN-Cache-Control", b""), (b"Cache-Control", b"max-age=60")], {}, 60, b"cache-control", id="empty-cdn-falls-back"),
        pytest.param([(b"CDN-Cache-Control", b"none"), (b"Cache-Control", b"no-store"), ETAG], {}, 0, b"cdn-cache-control", id="rfc9213-none"),
        pytest.param([(b"CDN-Cache-Control", b"must-revalidate"), (b"Expires", format_http_date(T + 100)), (b"Last-Modified", format_http_date(T - 2000))], {}, 200, b"cdn-cache-control", id="targeted-ignores-expires"),
        pytest.param([(b"Surrogate-Control", b"max-age=90"), (b"Cache-Control", b"no-store")], {}, 90, b"surrogate-control", id="surrogate-over-no-store"),
        pytest.param([(b"Surrogate-Control", b"max-age=90;edge1"), (b"Cache-Control", b"no-store")], {}, 90, b"surrogate-control", id="surrogate-targeted"),
        pytest.param([(b"CDN-Cache-Control", b"max-age=30"), (b"Surrogate-Control", b"max-age=90")], {}, 30, b"cdn-cache-control", id="cdn-over-surrogate"),
        pytest.param([(b"Cache-Control", b"max-age=60")], {"edge_ttl": 3600}, 3600, b"cache-control", id="edge-ttl-replaces"),
        pytest.param([], {"edge_ttl": 3600}, 3600, b"cache-control", id="edge-ttl-gives-lifetime"),
        pytest.param([(b"Cache-Control", b"public, max-age=60")], {"request_headers": [(b"Authorization", b"x")]}, 60, b"cache-control", id="authorization-public"),
        pytest.param([(b"Cache-Control", b"s-maxage=60")], {"request_headers": [(b"Authorization", b"x")]}, 60, b"cache-control", id="authorization-s-maxage"),
        pytest.param([(b"Cache-Control", b"max-age=60, must-revalidate")], {"request_headers": [(b"Authorization", b"x")]}, 60, b"cache-control", id="authorization-must-revalidate"),
        pytest.param([(b"Cache-Control", b"max-age=60"), (b"Content-Type", b"text/css; charset=utf-8")], {"path": b"/x.css"}, 60, b"cache-control", id="css-is-css"),
        pytest.param([(b"Cache-Control", b"max-age=60"), (b"Content-Type", b"text/html")], {"path": b"/page.html"}, 60, b"cache-control", id="html-path"),
    ],
)  # fmt: skip
def test_stored(headers: Headers, kwargs: Opts, lifetime: int, governed_by: bytes) -> None:
    """Responses Veil stores, the lifetime it gives them and which field governed."""
    decision = decide(headers, **kwargs)
    assert decision.store and decision.reason is None, decision.reason
    assert decision.freshness_lifetime == lifetime
    assert decision.governed_by == governed_by


@pytest.mark.parametrize(
    ("cache_control", "swr", "sie", "must_revalidate"),
    [
        pytest.param(b"max-age=60, stale-while-revalidate=30, stale-if-error=600", 30, 600, False, id="windows"),
        pytest.param(b"max-age=60, stale-if-error=600, must-revalidate", 0, 0, True, id="must-revalidate"),
        pytest.param(b"max-age=60, stale-if-error=600, proxy-revalidate", 0, 0, True, id="proxy-revalidate"),
        pytest.param(b"s-maxage=60, stale-while-revalidate=30", 0, 0, True, id="s-maxage-implies-proxy-revalidate"),
        pytest.param(b"no-cache, stale-if-error=600", 0, 0, False, id="no-cache"),
    ],
)  # fmt: skip
def test_stale_windows(cache_control: bytes, swr: int, sie: int, must_revalidate: bool) -> None:
    """RFC 5861 windows are kept only where §4.2.4 allows stale responses at all."""
    policy = decide([(b"Cache-Control", cache_control), ETAG]).policy
    assert policy.stale_while_revalidate == swr
    assert policy.stale_if_error == sie
    assert policy.must_revalidate is must_revalidate


def test_age_and_delay_make_the_initial_age() -> None:
    """The stored policy carries corrected_initial_age (§4.2.3): Age 30 + 2 s in transit."""
    decision = store_decision(
        request=request_decision(b"GET", []),
        method=b"GET",
        path=b"/a",
        status=200,
        headers=[(b"Cache-Control", b"max-age=60"), (b"Age", b"30"), DATE],
        request_time=T,
        response_time=T + 2,
    )
    assert decision.policy.initial_age == 32.0
    assert decision.policy.response_time == T + 2


def test_private_fields_are_stripped_not_refused() -> None:
    """private="set-cookie": the shared cache stores the rest (§5.2.2.7), minus the cookie."""
    decision = decide(
        [(b"Cache-Control", b'max-age=60, private="Set-Cookie"'), (b"Set-Cookie", b"a=b")]
    )
    assert decision.store and decision.strip_fields == frozenset({b"set-cookie"})


def test_no_cache_fields_need_revalidation() -> None:
    """no-cache="x": stored, but x is sent only after revalidation (§5.2.2.4)."""
    policy = decide([(b"Cache-Control", b'max-age=60, no-cache="X-User"')]).policy
    assert policy.revalidate_fields == frozenset({b"x-user"}) and not policy.no_cache


@pytest.mark.parametrize(
    ("cache_control", "authorized_reuse"),
    [(b"max-age=60", False), (b"public, max-age=60", True), (b"s-maxage=60", True)],
)
def test_authorized_reuse_recorded(cache_control: bytes, authorized_reuse: bool) -> None:
    """Whether the entry may later answer a request with Authorization (§3.5) is stored."""
    assert decide([(b"Cache-Control", cache_control)]).policy.authorized_reuse is authorized_reuse


def test_custom_rules_replace_the_defaults() -> None:
    """A zone can run without a default rule: dropping the cookie rule stores the response."""
    decision = store_decision(
        request=request_decision(b"GET", []),
        method=b"GET",
        path=b"/a",
        status=200,
        headers=[(b"Cache-Control", b"max-age=60"), (b"Set-Cookie", b"a=b")],
        request_time=T,
        response_time=T,
        rules=(),
    )
    assert decision.store


# --- the visitor's Cache-Control -------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "browser_ttl", "expected"),
    [
        pytest.param([b"max-age=60"], None, None, id="no-browser-ttl"),
        pytest.param([b"public, max-age=60, stale-if-error=5"], 3600, b"public, stale-if-error=5, max-age=3600", id="lengthened"),
        pytest.param([b"public", b"Max-Age=60"], 3600, b"public, max-age=3600", id="two-lines"),
        pytest.param([b"max-age=7200"], 3600, None, id="origin-longer"),
        pytest.param([b"max-age=3600"], 3600, None, id="origin-equal"),
        pytest.param([], 3600, b"max-age=3600", id="absent"),
        pytest.param([b"no-store"], 3600, None, id="no-store-kept"),
        pytest.param([b"private, max-age=5"], 3600, None, id="private-kept"),
        pytest.param([b"no-cache"], 3600, None, id="no-cache-kept"),
        pytest.param([b'no-cache="a, b", max-age=5'], 3600, b'no-cache="a, b", max-age=3600', id="qualified-no-cache"),
    ],
)  # fmt: skip
def test_client_cache_control(
    values: list[bytes], browser_ttl: int | None, expected: bytes | None
) -> None:
    """The zone's browser TTL lengthens a shorter max-age and touches nothing else."""
    assert client_cache_control(values, browser_ttl=browser_ttl) == expected


def test_date_missing_uses_response_time_for_expires() -> None:
    """§4.2.1: without Date, Expires is measured from when the response arrived."""
    decision = store_decision(
        request=request_decision(b"GET", []),
        method=b"GET",
        path=b"/a",
        status=200,
        headers=[(b"Expires", format_http_date(T + 300))],
        request_time=T + 99,
        response_time=T + 100,
    )
    assert decision.store and decision.freshness_lifetime == 200
    assert decision.policy.initial_age == 1.0  # apparent age 0, one second in transit
