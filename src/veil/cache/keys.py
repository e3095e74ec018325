"""The primary cache key (RFC 9111 §4) under a zone's cache-key settings. Pure.

Theory of operation. RFC 9111 §4 keys a stored response by request method and target URI;
Veil stores only GET responses and answers HEAD from them, so the key leaves the method out
and is the normalised target URI: `scheme://host[:port]/path?query`, as bytes. A zone's
settings then shape it: the cache level (`bypass` gives no key at all, `ignore_query` drops the
query), the query-string mode, and chosen request headers and cookies appended after the URI,
one `\\n`-led member each (no URI, field value or cookie contains LF).

`uri_key` is the key without the appended members: invalidation (§4.4) and purge-by-URL work
on it, and a store finds every key of a URI as `uri_key` alone or followed by b"\\n".

Normalisation (RFC 3986 §6.2.2 and §6.2.3): scheme and host lower-case, the scheme's default
port and an empty port dropped, percent-encoded unreserved characters decoded and the hex
digits of the other escapes upper-cased. No dot-segment removal: the edge has already parsed
and checked the path. The common zone (standard level, query kept as sent, no extras) needs
only `key_prefix` once per host and `fast_key` per request: one concatenation when the target
holds no "%".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from veil.cache.vary import combined_value, field_lines

Header = tuple[bytes, bytes]

_UNRESERVED: Final = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)
_HEX: Final = frozenset(b"0123456789abcdefABCDEF")
_DEFAULT_PORTS: Final = {b"http": b":80", b"https": b":443"}


class CacheLevel(StrEnum):
    """How much of a zone the cache may store (Cloudflare's "cache level")."""

    BYPASS = "bypass"  # nothing is cached: no key
    STANDARD = "standard"  # cache by the full key
    IGNORE_QUERY = "ignore_query"  # one object whatever the query string
    CACHE_EVERYTHING = "cache_everything"  # policy stores HTML too; the key is as standard


class QueryMode(StrEnum):
    """What of the query string enters the key."""

    ALL = "all"  # as sent (after percent normalisation)
    NONE = "none"  # dropped
    SORTED = "sorted"  # parameters sorted by name; duplicates keep their order
    ALLOW = "allow"  # only the parameters named in `query_allow`, in the order sent


@dataclass(frozen=True, slots=True)
class CacheKeySettings:
    """A zone's cache-key settings, parsed once per snapshot.

    `headers` are request field names and `cookies` cookie names whose values join the key;
    header names are compared in any case, cookie names and query parameter names exactly.
    """

    level: CacheLevel = CacheLevel.STANDARD
    query: QueryMode = QueryMode.ALL
    query_allow: frozenset[bytes] = frozenset()
    headers: tuple[bytes, ...] = ()
    cookies: tuple[bytes, ...] = ()
    is_default: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", tuple(h.lower() for h in self.headers))
        default = (
            self.level in (CacheLevel.STANDARD, CacheLevel.CACHE_EVERYTHING)
            and self.query is QueryMode.ALL
            and not self.headers
            and not self.cookies
        )
        object.__setattr__(self, "is_default", default)


def normalise_percent(target: bytes) -> bytes:
    """Decode escapes of unreserved characters, upper-case the rest (RFC 3986 §6.2.2.1-2)."""
    if b"%" not in target:
        return target
    pieces = target.split(b"%")
    out = [pieces[0]]
    for piece in pieces[1:]:
        hi_lo = piece[:2]
        if len(hi_lo) == 2 and hi_lo[0] in _HEX and hi_lo[1] in _HEX:
            char = int(hi_lo, 16)
            if char in _UNRESERVED:
                out.append(bytes((char,)) + piece[2:])
            else:
                out.append(b"%" + hi_lo.upper() + piece[2:])
        else:
            out.append(b"%" + piece)  # not an escape: left exactly as sent
    return b"".join(out)


def normalise_authority(scheme: bytes, host: bytes) -> bytes:
    """Host lower-cased, default or empty port dropped (RFC 3986 §6.2.2.1, §6.2.3)."""
    host = host.lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default is not None and host.endswith(default):
        host = host[: -len(default)]
    elif host.endswith(b":"):
        host = host[:-1]
    return host


def key_prefix(scheme: bytes, host: bytes) -> bytes:
    """b"scheme://host" normalised; compute once per zone host and reuse with `fast_key`."""
    scheme = scheme.lower()
    return scheme + b"://" + normalise_authority(scheme, host)


def fast_key(prefix: bytes, target: bytes) -> bytes:
    """The key under default settings (`CacheKeySettings().is_default`): prefix + target."""
    return prefix + (target if b"%" not in target else normalise_percent(target))


def _param_name(param: bytes) -> bytes:
    return param.partition(b"=")[0]


def _shape_target(settings: CacheKeySettings, target: bytes) -> bytes:
    target = normalise_percent(target)
    mode = settings.query
    if mode is QueryMode.ALL and settings.level is not CacheLevel.IGNORE_QUERY:
        return target
    path, mark, query = target.partition(b"?")
    if not mark or mode is QueryMode.NONE or settings.level is CacheLevel.IGNORE_QUERY:
        return path
    params = [p for p in query.split(b"&") if p]
    if mode is QueryMode.SORTED:
        params.sort(key=_param_name)  # stable: duplicates keep the order sent
    else:
        allow = settings.query_allow
        params = [p for p in params if _param_name(p) in allow]
    return path + b"?" + b"&".join(params) if params else path


def uri_key(settings: CacheKeySettings, *, scheme: bytes, host: bytes, target: bytes) -> bytes:
    """The normalised target URI as the settings shape it, without headers or cookies."""
    return key_prefix(scheme, host) + _shape_target(settings, target)


def cookie_value(headers: Sequence[Header], name: bytes) -> bytes | None:
    """The value of cookie `name` in the request's Cookie fields (RFC 6265 §5.4), or None."""
    for line in field_lines(headers, b"cookie"):
        for pair in line.split(b";"):
            key, eq, value = pair.partition(b"=")
            if eq and key.strip() == name:
                return value.strip()
    return None


def _extras(settings: CacheKeySettings, headers: Sequence[Header]) -> bytes:
    parts = []
    for name in settings.headers:
        value = combined_value(headers, name)
        parts.append(b"\nh:" + name if value is None else b"\nh:" + name + b"=" + value)
    for name in settings.cookies:
        value = cookie_value(headers, name)
        parts.append(b"\nc:" + name if value is None else b"\nc:" + name + b"=" + value)
    return b"".join(parts)


def cache_key(
    settings: CacheKeySettings,
    *,
    scheme: bytes,
    host: bytes,
    target: bytes,
    headers: Sequence[Header] = (),
) -> bytes | None:
    """The primary key for a GET (or HEAD) request, or None when the zone bypasses the cache.

    RFC 9111 §4: method and target URI; HEAD is answered from the stored GET, so both share
    the key and the method is not part of it. A chosen header absent from the request adds
    `\\nh:name` and a present one `\\nh:name=value`, so absent and empty differ; cookies alike.
    """
    if settings.level is CacheLevel.BYPASS:
        return None
    if settings.is_default:
        return fast_key(key_prefix(scheme, host), target)
    key = uri_key(settings, scheme=scheme, host=host, target=target)
    if settings.headers or settings.cookies:
        key += _extras(settings, headers)
    return key
