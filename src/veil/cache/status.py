"""The Cache-Status response field (RFC 9211), naming Veil's cache `veil`. Pure.

One list member per response, parameters in a fixed order:

    veil; hit; ttl=3590                      served from cache, fresh for 3590 s more
    veil; hit; ttl=-5                        served stale (max-stale, stale-while-revalidate)
    veil; fwd=uri-miss; stored               went to the origin, the response was stored
    veil; fwd=uri-miss; detail=set-cookie    ... and was not stored, with the reason
    veil; fwd=stale; fwd-status=304; stored  revalidated
    veil; fwd=bypass; detail=authorization   the cache was not used

Values are bytes ready for the head. `hit()` runs on every hit, so its values are memoised per
ttl (a bounded dict: a lookup costs a quarter of the `%` formatting).
"""

from __future__ import annotations

from typing import Final

from veil.cache.reasons import Forward

CACHE_NAME: Final = b"veil"
FIELD_NAME: Final = b"cache-status"

_HIT_MEMO_LIMIT: Final = 4096
_hits: Final[dict[int, bytes]] = {}
_HIT_COLLAPSED: Final = b"veil; hit; collapsed; ttl=%d"

# RFC 8941 §3.3.4 token characters (after a leading ALPHA or "*").
_TOKEN_REST: Final = frozenset(
    b"!#$%&'*+-.^_`|~:/0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def hit(ttl: int) -> bytes:
    """`veil; hit; ttl=N` (RFC 9211 §2.1, §2.5); a negative ttl says it was served stale."""
    value = _hits.get(ttl)
    if value is None:
        value = b"veil; hit; ttl=%d" % ttl
        if len(_hits) < _HIT_MEMO_LIMIT:
            _hits[ttl] = value
    return value


def collapsed_hit(ttl: int) -> bytes:
    """A waiter of a collapsed miss served from the fill (RFC 9211 §2.7)."""
    return _HIT_COLLAPSED % ttl


def _detail(detail: str) -> bytes:
    """detail= as an sf-token when it is one, else as an sf-string (RFC 9211 §2.8)."""
    raw = detail.encode("ascii", "replace")
    first = raw[:1]
    if first and (first.isalpha() or first == b"*") and all(c in _TOKEN_REST for c in raw):
        return raw
    printable = bytes(c if 0x20 <= c <= 0x7E else 0x3F for c in raw)
    return b'"' + printable.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def forward(
    fwd: Forward,
    *,
    fwd_status: int | None = None,
    stored: bool = False,
    collapsed: bool = False,
    ttl: int | None = None,
    detail: str | None = None,
) -> bytes:
    """`veil; fwd=...` for a request that went to the origin (RFC 9211 §2.2-§2.8).

    `detail` takes a `Reason` (or any text): why the response was not stored or the cache
    was bypassed, or how a stale copy came to be served (e.g. "stale-if-error").
    """
    parts = [b"veil; fwd=" + fwd.value.encode()]
    if fwd_status is not None:
        parts.append(b"fwd-status=%d" % fwd_status)
    if stored:
        parts.append(b"stored")
    if collapsed:
        parts.append(b"collapsed")
    if ttl is not None:
        parts.append(b"ttl=%d" % ttl)
    if detail is not None:
        parts.append(b"detail=" + _detail(detail))
    return b"; ".join(parts)
