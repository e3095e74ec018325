"""Freshness, age and reuse of a stored response (RFC 9111 §4.2, §5.2.1, RFC 5861). Pure.

Theory of operation. When a response is stored, the policy records an `EntryPolicy`: its
freshness lifetime, the corrected initial age (§4.2.3), the time it was received and the
stale windows it allows. Everything a hit needs is then arithmetic on `now`:

    current_age = corrected_initial_age + (now - response_time)        §4.2.3
    fresh       = freshness_lifetime > current_age                      §4.2
    ttl         = freshness_lifetime - current_age  (negative: stale)   RFC 9211 §2.4

`reuse()` combines that with the request's directives (max-age, min-fresh, max-stale, no-cache,
only-if-cached) into one `Use`. `may_serve_stale()` answers "origin failed: may the stale copy
go out?" (stale-if-error). Neither ever allows stale where must-revalidate, proxy-revalidate,
s-maxage (§5.2.2.10: it implies proxy-revalidate for a shared cache) or no-cache forbid it
(§4.2.4); the policy folds those into `EntryPolicy.must_revalidate` / `no_cache` at store time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Final

from veil.cache.reasons import Forward
from veil.http.cache_control import DELTA_SECONDS_MAX, CacheControl
from veil.http.dates import parse_http_date as _parse_http_date

# RFC 9111 §4.2.2 leaves the heuristic's bound to the cache; a day is the common choice
# (Squid's default max for this rule, and nginx/Varnish never use a longer heuristic).
HEURISTIC_FRACTION: Final = 0.1
HEURISTIC_CAP_SECONDS: Final = 86_400

# RFC 9110 §15.1: status codes that are heuristically cacheable.
HEURISTICALLY_CACHEABLE: Final = frozenset(
    {200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501}
)


# HTTP-dates repeat (one Date per second for all responses, one Last-Modified per object):
# parsed values are memoised, and the memo is emptied when it reaches this size.
_DATE_MEMO_LIMIT: Final = 512
_dates: Final[dict[bytes, int | None]] = {}


def parse_http_date(value: bytes) -> int | None:
    """`veil.http.dates.parse_http_date`, memoised."""
    if value in _dates:
        return _dates[value]
    if len(_dates) >= _DATE_MEMO_LIMIT:
        _dates.clear()
    parsed = _dates[value] = _parse_http_date(value)
    return parsed


@dataclass(frozen=True, slots=True)
class EntryPolicy:
    """What the store keeps beside an object to decide each later reuse."""

    response_time: float  # when the response was received (§4.2.3)
    initial_age: float  # corrected_initial_age (§4.2.3)
    lifetime: int  # freshness_lifetime for this cache (§4.2.1), or the zone's edge TTL
    stale_while_revalidate: int = 0  # RFC 5861 §3 window, 0 when stale serving is forbidden
    stale_if_error: int = 0  # RFC 5861 §4 window, likewise
    must_revalidate: bool = False  # must-revalidate, proxy-revalidate or s-maxage (§4.2.4)
    no_cache: bool = False  # unqualified no-cache: every reuse is validated (§5.2.2.4)
    authorized_reuse: bool = False  # may answer requests carrying Authorization (§3.5)
    revalidate_fields: frozenset[bytes] = frozenset()  # no-cache="..." fields (§5.2.2.4)


# --- Age (§4.2.3) ---------------------------------------------------------------------------


def age_value(values: Sequence[bytes]) -> int:
    """The Age field (§5.1): first member of the first line, 0 when absent or invalid."""
    if not values:
        return 0
    first = values[0].split(b",", 1)[0].strip()
    if not first.isdigit():
        return 0  # §5.1: an invalid Age is ignored
    return DELTA_SECONDS_MAX if len(first) > 10 else min(int(first), DELTA_SECONDS_MAX)


def date_value(values: Sequence[bytes], response_time: float) -> float:
    """The Date field, or the time the response was received when absent (RFC 9110 §6.6.1)."""
    if values and (date := parse_http_date(values[0])) is not None:
        return date
    return response_time


def corrected_initial_age(
    *, age: int, date: float, request_time: float, response_time: float
) -> float:
    """RFC 9111 §4.2.3: how old the response already was when it reached us."""
    apparent_age = max(0.0, response_time - date)
    response_delay = response_time - request_time
    corrected_age_value = age + response_delay
    return max(apparent_age, corrected_age_value)


def current_age(policy: EntryPolicy, now: float) -> float:
    """RFC 9111 §4.2.3: corrected_initial_age + resident_time."""
    return policy.initial_age + (now - policy.response_time)


def ttl(policy: EntryPolicy, now: float) -> int:
    """Remaining freshness in whole seconds, negative once stale (Cache-Status ttl=)."""
    return math.floor(policy.lifetime - current_age(policy, now))


def is_fresh(policy: EntryPolicy, now: float) -> bool:
    """RFC 9111 §4.2: fresh while the lifetime exceeds the current age."""
    return not policy.no_cache and policy.lifetime > current_age(policy, now)


# --- Freshness lifetime (§4.2.1, §4.2.2) ----------------------------------------------------


def _expires(values: Sequence[bytes]) -> int | None:
    """Expires (§5.3): one date; several that disagree, or an invalid one, are in the past."""
    first = parse_http_date(values[0])
    if first is None or any(parse_http_date(v) != first for v in values[1:]):
        return None
    return first


def explicit_lifetime(cc: CacheControl, expires: Sequence[bytes], date: float) -> int | None:
    """RFC 9111 §4.2.1 for a shared cache: s-maxage, else max-age, else Expires - Date."""
    if cc.s_maxage is not None:
        return cc.s_maxage  # §5.2.2.10: overrides max-age and Expires in a shared cache
    if cc.max_age is not None:
        return cc.max_age  # §5.3: max-age overrides Expires
    if expires:
        when = _expires(expires)
        if when is None:
            return 0  # §5.3: an invalid date, e.g. "0", means already expired
        return max(0, min(int(when - date), DELTA_SECONDS_MAX))
    return None


def heuristic_lifetime(date: float, last_modified: Sequence[bytes]) -> int:
    """RFC 9111 §4.2.2: a fraction of the time since Last-Modified, capped; 0 without it."""
    if not last_modified or (modified := parse_http_date(last_modified[0])) is None:
        return 0
    if modified >= date:
        return 0
    return min(int((date - modified) * HEURISTIC_FRACTION), HEURISTIC_CAP_SECONDS)


# --- Reuse (§4, §5.2.1) ---------------------------------------------------------------------


class Use(Enum):
    """What to do with a stored response that matched the request."""

    HIT = "hit"  # serve it (fresh, or stale within the client's max-stale)
    STALE_WHILE_REVALIDATE = "swr"  # serve it stale now and refresh once in the background
    REVALIDATE = "revalidate"  # forward a conditional request (it is stale): fwd=stale
    REVALIDATE_REQUEST = "revalidate-request"  # fresh, but the request refused it: fwd=request
    AUTHORIZATION = "authorization"  # §3.5: not reusable for a request with Authorization
    GATEWAY_TIMEOUT = "gateway-timeout"  # only-if-cached and nothing usable: 504 (§5.2.1.7)


# The Cache-Status fwd= for each use that goes to the origin.
USE_FORWARD: Final = {
    Use.STALE_WHILE_REVALIDATE: Forward.STALE,
    Use.REVALIDATE: Forward.STALE,
    Use.REVALIDATE_REQUEST: Forward.REQUEST,
    Use.AUTHORIZATION: Forward.BYPASS,
}


def _refused_by_request(request: CacheControl, age: float, remaining: float) -> bool:
    """§5.2.1: request directives that refuse an otherwise usable response."""
    if request.no_cache:
        return True  # §5.2.1.4
    if request.max_age is not None and age > request.max_age:
        return True  # §5.2.1.1
    return request.min_fresh is not None and remaining < request.min_fresh  # §5.2.1.3


def _decide(policy: EntryPolicy, request: CacheControl, authorization: bool, now: float) -> Use:
    if authorization and not policy.authorized_reuse:
        return Use.AUTHORIZATION
    age = current_age(policy, now)
    remaining = policy.lifetime - age
    if policy.no_cache:
        return Use.REVALIDATE  # §5.2.2.4: always validated, never served stale
    if _refused_by_request(request, age, remaining):
        return Use.REVALIDATE_REQUEST if remaining > 0 else Use.REVALIDATE
    if remaining > 0:
        return Use.HIT
    if policy.must_revalidate:
        return Use.REVALIDATE  # §5.2.2.2, §5.2.2.8, §5.2.2.10: never stale
    staleness = -remaining
    if request.max_stale is not None and staleness <= request.max_stale:
        return Use.HIT  # §5.2.1.2: the client accepts this much staleness
    if staleness <= policy.stale_while_revalidate:
        return Use.STALE_WHILE_REVALIDATE  # RFC 5861 §3
    return Use.REVALIDATE


def reuse(policy: EntryPolicy, *, request: CacheControl, authorization: bool, now: float) -> Use:
    """How a stored response may answer this request (RFC 9111 §4, §4.2.4, §5.2.1)."""
    use = _decide(policy, request, authorization, now)
    if request.only_if_cached and use not in (Use.HIT, Use.STALE_WHILE_REVALIDATE):
        return Use.GATEWAY_TIMEOUT  # §5.2.1.7
    return use


def may_serve_stale(policy: EntryPolicy, now: float, *, error: bool) -> bool:
    """May this copy go out now, stale or not, revalidating in the background (error=False,
    RFC 5861 §3) or because the origin failed (error=True, RFC 5861 §4)?"""
    if policy.no_cache:
        return False
    staleness = current_age(policy, now) - policy.lifetime
    if staleness < 0:
        return True
    if policy.must_revalidate:
        return False  # §4.2.4: "MUST NOT generate a stale response if ... prohibited"
    window = policy.stale_if_error if error else policy.stale_while_revalidate
    return staleness <= window
