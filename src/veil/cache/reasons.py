"""Why the cache did what it did: the values that reach Cache-Status and the access log.

`Forward` is RFC 9211 §2.2's `fwd` parameter (why the request went to the origin). `Reason` says
why a request bypassed the cache or why a response was not stored; its value is written as
Cache-Status `detail=` and logged (STYLE principle 3: uncacheable always says why). Values are
lower-case tokens (RFC 8941 §3.3.4), so they need no quoting.
"""

from __future__ import annotations

from enum import StrEnum


class Forward(StrEnum):
    """RFC 9211 §2.2: why the request was forwarded."""

    BYPASS = "bypass"  # the cache was configured not to handle this request
    METHOD = "method"  # the method's semantics require forwarding
    URI_MISS = "uri-miss"  # nothing stored for this URI
    VARY_MISS = "vary-miss"  # stored for this URI, but no variant matches the request
    MISS = "miss"  # nothing usable (when uri-miss and vary-miss cannot be told apart)
    REQUEST = "request"  # a fresh response existed, the request's directives refused it
    STALE = "stale"  # a stored response existed but was stale (or had to be revalidated)
    PARTIAL = "partial"  # a partial response existed, not covering the requested ranges


class Reason(StrEnum):
    """Why a request bypasses the cache or a response is not stored (Cache-Status detail)."""

    # request side
    METHOD = "method"  # not GET or HEAD (RFC 9110 §9.2.3)
    DEVELOPMENT_MODE = "development-mode"  # the zone bypasses its cache for a while
    CACHE_LEVEL_BYPASS = "cache-level-bypass"  # the zone's cache level is "bypass"
    AUTHORIZATION = "authorization"  # RFC 9111 §3.5: response does not allow shared reuse
    # response side
    REQUEST_NO_STORE = "request-no-store"  # RFC 9111 §5.2.1.5
    HEAD_RESPONSE = "head-response"  # no body to answer a later GET with
    STATUS = "status"  # not final, or 304: nothing to store (RFC 9111 §3)
    PARTIAL = "partial"  # 206: the store keeps whole representations
    MUST_UNDERSTAND = "must-understand"  # RFC 9111 §5.2.2.3: status code not understood
    NO_STORE = "no-store"  # RFC 9111 §5.2.2.5
    PRIVATE = "private"  # RFC 9111 §5.2.2.7: a shared cache must not store it
    VARY_STAR = "vary-star"  # RFC 9111 §4.1: Vary: * never matches a later request
    SET_COOKIE = "set-cookie"  # the response hands out a cookie: risky to share
    ERROR_WITHOUT_FRESHNESS = "error-without-freshness"  # 4xx/5xx not explicitly cacheable
    NOT_CACHEABLE = "not-cacheable"  # RFC 9111 §3: no freshness, not heuristically cacheable
    STALE_ON_ARRIVAL = "stale-on-arrival"  # no lifetime, no validator, no stale window
    CONTENT_TYPE_MISMATCH = "content-type-mismatch"  # cache deception armour
