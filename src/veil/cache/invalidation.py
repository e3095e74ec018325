"""Invalidation after unsafe methods (RFC 9111 §4.4) and the purge matching core. Pure.

Theory of operation. Two ways a stored object stops being served.

RFC 9111 §4.4: a non-error response to an unsafe method invalidates the target URI and, when
they share its origin, the URIs in Location and Content-Location. `invalidation_keys` returns
their `keys.uri_key`s; the store drops (or marks invalid) every key of those URIs.

Purges (Cloudflare's `purge_cache` shape): each rule — by URL (optionally with request headers
naming one Vary variant), by prefix, by host, by tag, or everything — carries the time it was
issued and a `soft` flag. An object stored at or before a matching rule's time is purged
(hard) or to be treated as stale (soft); one stored after it is untouched, so a purge needs no
walk over the store: it is checked on each hit. `PurgeIndex.check` is built for that: one dict
lookup by zone, then one comparison with the zone's newest rule answers the common case (the
object is younger than every purge); otherwise dict lookups by URL, host and each tag, and a
scan of the prefix rules for the object's host only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Final, Protocol, TypeVar
from urllib.parse import urljoin, urlsplit

from veil.cache.keys import CacheKeySettings, key_prefix, uri_key
from veil.cache.vary import field_lines, variant_key

Header = tuple[bytes, bytes]
_K = TypeVar("_K")

# RFC 9110 §9.2.1 safe methods, plus the methods the IANA method registry marks safe.
# Every other method, known or not, is unsafe for §4.4 ("including methods whose safety is
# unknown"). Method names are case-sensitive (RFC 9110 §9.1).
SAFE_METHODS: Final = frozenset(
    {b"GET", b"HEAD", b"OPTIONS", b"TRACE", b"PROPFIND", b"REPORT", b"SEARCH"}
)

MAX_TAG_BYTES: Final = 1024  # longer tags are dropped rather than stored


def invalidates(method: bytes, status: int) -> bool:
    """RFC 9111 §4.4: an unsafe method answered with a non-error (2xx or 3xx) status."""
    return method not in SAFE_METHODS and 200 <= status < 400


def _resolved_target(
    base: bytes, reference: bytes, origin: bytes
) -> tuple[bytes, bytes, bytes] | None:
    """(scheme, host, target) of `reference` resolved against `base`, if it has `origin`."""
    try:
        parts = urlsplit(urljoin(base, reference.strip()))
    except ValueError:  # e.g. an unbalanced "[" in the authority
        return None
    if not parts.scheme or not parts.netloc or b"@" in parts.netloc:
        return None
    if key_prefix(parts.scheme, parts.netloc) != origin:
        return None  # §4.4: never invalidate another origin's URIs
    target = (parts.path or b"/") + (b"?" + parts.query if parts.query else b"")
    return parts.scheme, parts.netloc, target


def invalidation_keys(
    settings: CacheKeySettings,
    *,
    method: bytes,
    status: int,
    scheme: bytes,
    host: bytes,
    target: bytes,
    response_headers: Sequence[Header],
) -> list[bytes]:
    """The URI keys to invalidate after this exchange (RFC 9111 §4.4); [] when none.

    The target URI always; the URI-references in Location and Content-Location, resolved
    against the target URI (RFC 9110 §10.2.2, §8.7), only when their origin (scheme, host and
    port, RFC 9110 §4.3.1) is the target's. Keys are `keys.uri_key`s under the zone's settings.
    """
    if not invalidates(method, status):
        return []
    keys = [uri_key(settings, scheme=scheme, host=host, target=target)]
    origin = key_prefix(scheme, host)
    base = origin + target
    for name in (b"location", b"content-location"):
        for value in field_lines(response_headers, name):
            found = _resolved_target(base, value, origin)
            if found is not None:
                key = uri_key(settings, scheme=found[0], host=found[1], target=found[2])
                if key not in keys:
                    keys.append(key)
    return keys


def parse_cache_tags(headers: Sequence[Header]) -> frozenset[bytes]:
    """The purge tags of a response: Cache-Tag (comma-separated) and Surrogate-Key (spaces).

    Tags are compared in any case (lower-cased here, as Cloudflare's Cache-Tag is
    case-insensitive); empty tags and tags over MAX_TAG_BYTES are dropped.
    """
    tags: set[bytes] = set()
    for value in field_lines(headers, b"cache-tag"):
        tags.update(t.strip().lower() for t in value.split(b","))
    for value in field_lines(headers, b"surrogate-key"):
        tags.update(t.lower() for t in value.split())
    tags.discard(b"")
    return frozenset(t for t in tags if len(t) <= MAX_TAG_BYTES)


def parse_prefix(prefix: bytes) -> tuple[bytes, bytes] | None:
    """A Cloudflare purge prefix `host/path` as (host, path), or None when it is not one.

    No scheme; no query string or fragment (Cloudflare refuses them). The host is
    lower-cased; `host` alone, or `host/`, covers the whole host (path b"/").
    """
    prefix = prefix.strip()
    if not prefix or b"://" in prefix or b"?" in prefix or b"#" in prefix:
        return None
    host, slash, path = prefix.partition(b"/")
    if not host:
        return None
    return host.lower(), slash + path if slash else b"/"


def prefix_matches(rule_path: bytes, path: bytes) -> bool:
    """Does a prefix rule's path cover `path`? At a path boundary: /foo covers /foo, /foo/x
    but not /foobar; a rule ending in "/" covers everything below it."""
    if rule_path.endswith(b"/"):
        return path.startswith(rule_path)
    return path == rule_path or path.startswith(rule_path + b"/")


def purge_url_key(url: bytes, settings: CacheKeySettings) -> bytes | None:
    """The URI key of an absolute URL given to purge by URL, or None when it is not one."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in (b"http", b"https") or not parts.netloc:
        return None
    target = (parts.path or b"/") + (b"?" + parts.query if parts.query else b"")
    return uri_key(settings, scheme=parts.scheme, host=parts.netloc, target=target)


class PurgeKind(StrEnum):
    """The purge_cache body members, one rule per item."""

    URL = "files"
    PREFIX = "prefixes"
    HOST = "hosts"
    TAG = "tags"
    EVERYTHING = "purge_everything"


@dataclass(frozen=True, slots=True)
class PurgeRule:
    """One purge item. `value` is a URI key for URL rules (see `purge_url_key`), a
    `host/path` prefix (checked by `parse_prefix`), a host, a tag, or b"" for everything.
    `headers` (URL rules only) name one Vary variant of the URL, as Cloudflare's
    `{"url": ..., "headers": {...}}` does."""

    kind: PurgeKind
    value: bytes
    issued_at: float
    soft: bool = False
    headers: tuple[Header, ...] = ()


class PurgeOutcome(Enum):
    """What the purge rules say about one stored object."""

    NONE = "none"
    SOFT_PURGED = "soft_purged"  # treat as stale: revalidate, or serve stale where allowed
    PURGED = "purged"  # gone: a miss


class Purgeable(Protocol):
    """What `PurgeIndex.check` reads from a stored object (a store's entry can provide it)."""

    @property
    def zone(self) -> str: ...
    @property
    def url(self) -> bytes: ...  # its keys.uri_key
    @property
    def host(self) -> bytes: ...  # lower-case, no port
    @property
    def path(self) -> bytes: ...  # path only, no query
    @property
    def tags(self) -> frozenset[bytes]: ...
    @property
    def stored_at(self) -> float: ...
    @property
    def vary(self) -> tuple[bytes, ...]: ...  # vary.vary_names of the stored response
    @property
    def variant(self) -> bytes: ...  # vary.variant_key it was stored under


@dataclass(frozen=True, slots=True)
class StoredObject:
    """A plain `Purgeable`."""

    zone: str
    url: bytes
    host: bytes
    path: bytes
    stored_at: float
    tags: frozenset[bytes] = frozenset()
    vary: tuple[bytes, ...] = ()
    variant: bytes = b""


_NEVER: Final = float("-inf")


class _Mark:
    """The latest hard and soft purge times of one rule target."""

    __slots__ = ("hard", "soft")

    def __init__(self) -> None:
        self.hard = _NEVER
        self.soft = _NEVER

    def note(self, issued_at: float, soft: bool) -> None:
        if soft:
            self.soft = max(self.soft, issued_at)
        else:
            self.hard = max(self.hard, issued_at)

    def latest(self) -> float:
        return max(self.hard, self.soft)


class _ZoneRules:
    __slots__ = ("everything", "hosts", "newest", "prefixes", "tags", "urls", "variants")

    def __init__(self) -> None:
        self.newest = _NEVER
        self.everything = _Mark()
        self.urls: dict[bytes, _Mark] = {}
        self.hosts: dict[bytes, _Mark] = {}
        self.tags: dict[bytes, _Mark] = {}
        self.prefixes: dict[bytes, list[tuple[bytes, _Mark]]] = {}  # host -> [(path, mark)]
        self.variants: dict[bytes, list[tuple[tuple[Header, ...], _Mark]]] = {}


def _mark(table: dict[bytes, _Mark], key: bytes) -> _Mark:
    mark = table.get(key)
    if mark is None:
        mark = table[key] = _Mark()
    return mark


class PurgeIndex:
    """Purge rules by zone, checked on every hit.

    Mutated only by `add` and `prune` (the worker applying purges it learns of); `check` is
    read-only. Rules are kept until `prune` is told no stored object predates them.
    """

    __slots__ = ("_zones",)

    def __init__(self) -> None:
        self._zones: dict[str, _ZoneRules] = {}

    def add(self, zone: str, rule: PurgeRule) -> None:
        """Record one rule for `zone`."""
        z = self._zones.get(zone)
        if z is None:
            z = self._zones[zone] = _ZoneRules()
        z.newest = max(z.newest, rule.issued_at)
        kind = rule.kind
        if kind is PurgeKind.EVERYTHING:
            mark = z.everything
        elif kind is PurgeKind.URL and rule.headers:
            mark = _Mark()
            z.variants.setdefault(rule.value, []).append((rule.headers, mark))
        elif kind is PurgeKind.URL:
            mark = _mark(z.urls, rule.value)
        elif kind is PurgeKind.HOST:
            mark = _mark(z.hosts, rule.value.strip().lower())
        elif kind is PurgeKind.TAG:
            mark = _mark(z.tags, rule.value.strip().lower())
        else:
            parsed = parse_prefix(rule.value)
            if parsed is None:
                raise ValueError(f"not a purge prefix: {rule.value!r}")
            mark = _Mark()
            z.prefixes.setdefault(parsed[0], []).append((parsed[1], mark))
        mark.note(rule.issued_at, rule.soft)

    def check(self, obj: Purgeable) -> PurgeOutcome:
        """Purged, soft-purged or untouched: the strongest rule issued at or after storing."""
        return self.check_stored(obj.zone, obj.stored_at, obj)

    def check_stored(self, zone: str, stored_at: float, obj: Purgeable) -> PurgeOutcome:
        """`check` with the object's zone and purge epoch already read: on every hit the
        common answer (no purge in the zone since storing) needs nothing else of `obj`."""
        z = self._zones.get(zone)
        if z is None or stored_at > z.newest:
            return PurgeOutcome.NONE
        hard, soft = z.everything.hard, z.everything.soft
        marks = [z.urls.get(obj.url), z.hosts.get(obj.host)]
        if z.tags:
            marks.extend(z.tags.get(tag) for tag in obj.tags)
        for path, mark in z.prefixes.get(obj.host, ()):
            if prefix_matches(path, obj.path):
                marks.append(mark)
        for headers, mark in z.variants.get(obj.url, ()):
            if variant_key(obj.vary, headers) == obj.variant:
                marks.append(mark)
        for found in marks:
            if found is not None:
                hard = max(hard, found.hard)
                soft = max(soft, found.soft)
        if stored_at <= hard:
            return PurgeOutcome.PURGED
        if stored_at <= soft:
            return PurgeOutcome.SOFT_PURGED
        return PurgeOutcome.NONE

    def prune(self, before: float) -> None:
        """Forget rules issued before `before`: no stored object is older than that."""
        for zone in list(self._zones):
            z = self._zones[zone]
            if z.newest < before:
                del self._zones[zone]
                continue
            for table in (z.urls, z.hosts, z.tags):
                for key in [k for k, m in table.items() if m.latest() < before]:
                    del table[key]
            _prune_lists(z.prefixes, before)
            _prune_lists(z.variants, before)
            if z.everything.latest() < before:
                z.everything = _Mark()


def _prune_lists(table: dict[bytes, list[tuple[_K, _Mark]]], before: float) -> None:
    """Drop the (key, mark) pairs whose latest purge is older than `before`."""
    for key in list(table):
        kept = [(k, m) for k, m in table[key] if m.latest() >= before]
        if kept:
            table[key] = kept
        else:
            del table[key]
