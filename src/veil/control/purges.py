"""Purge requests and their retention: pure functions, no I/O.

Theory of operation
-------------------
`purge_items` turns the members of a `purge_cache` body (Cloudflare's shape: `files`,
`prefixes`, `hosts`, `tags` or `purge_everything`, plus Veil's `soft`) into normalised
`PurgeItem`s, refusing anything the edge could not match or that lies outside the zone, with a
message naming the offending member. The store gives every item of one request the config
version it bumps to, so `veil.snapshot.Purge.version` is the first snapshot that carries it and
the edge purges exactly the objects it stored while running an older snapshot.

Purges must stay in the snapshots as long as an object stored before them could still be
served, but the list cannot grow for ever. `compact` keeps it bounded without ever purging
less (docs/cache.md, "Retention"):

1. a hard `everything` purge at version V supersedes every purge at a version <= V; a soft one
   supersedes the soft purges at a version <= V;
2. purges older than the retention period are folded into one `everything` purge carrying the
   newest version among them (soft only if all of them were soft);
3. above `max_per_zone` purges, the oldest are folded the same way until the count fits.

A fold purges a superset of what it replaces: an `everything` purge at version V drops every
object stored before V, which covers each folded purge's objects (all stored before their own
version, which is <= V).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from veil.control.names import InvalidName, normalize_hostname

EVERYTHING = "everything"
MAX_ITEMS_PER_REQUEST = 500
MAX_URL_LENGTH = 4096
MAX_TAG_BYTES = 1024  # as veil.cache.invalidation: longer tags are never stored
MAX_VARIANT_HEADERS = 20
MAX_HEADER_VALUE = 1024
DEFAULT_RETENTION_SECONDS = 7 * 86400
DEFAULT_MAX_PER_ZONE = 10_000
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 §5.6.2
_PATH_SAFE = "!$&'()*+,;=:@/?%-._~[]"  # kept as they are; other non-ASCII is percent-encoded


class PurgeRefused(ValueError):
    """A purge request the API refuses; the message names the member and says why."""


@dataclass(frozen=True, slots=True)
class PurgeItem:
    """One normalised purge item (one snapshot `Purge` once it has a version)."""

    kind: str  # url, prefix, host, tag, everything (veil.snapshot.PURGE_KINDS)
    value: str = ""
    soft: bool = False
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class PurgePolicy:
    """How many purges a zone keeps, and for how long (docs/cache.md, "Retention")."""

    retention_seconds: float = DEFAULT_RETENTION_SECONDS
    max_per_zone: int = DEFAULT_MAX_PER_ZONE
    max_items_per_request: int = MAX_ITEMS_PER_REQUEST


FileSpec = str | tuple[str, Mapping[str, str]]


def in_zone(host: str, zone_name: str) -> bool:
    return host == zone_name or host.endswith("." + zone_name)


def _printable(text: str) -> bool:
    return not any(ord(c) < 0x21 or ord(c) == 0x7F for c in text)


def _zone_host(host: str, zone_name: str, where: str) -> str:
    try:
        name = normalize_hostname(host)
    except InvalidName:
        raise PurgeRefused(f"{where}: {host!r} is not a valid host name") from None
    if not in_zone(name, zone_name):
        raise PurgeRefused(f"{where}: {name} is not in zone {zone_name}")
    return name


def _path(text: str) -> str:
    return quote(text, safe=_PATH_SAFE) if not text.isascii() else text


def purge_url(text: str, zone_name: str, where: str) -> str:
    """An absolute http(s) URL on one of the zone's host names, with the host normalised."""
    url = text.strip()
    if not url or len(url) > MAX_URL_LENGTH or not _printable(url):
        raise PurgeRefused(f"{where}: give a URL of 1 to {MAX_URL_LENGTH} characters, no spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise PurgeRefused(f"{where}: {url!r} is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise PurgeRefused(f"{where}: {url!r} is not an http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise PurgeRefused(f"{where}: {url!r} must not carry credentials")
    host = _zone_host(parts.hostname, zone_name, where)
    authority = host if port is None else f"{host}:{port}"
    query = f"?{_path(parts.query)}" if parts.query else ""
    return f"{scheme}://{authority}{_path(parts.path) or '/'}{query}"


def purge_prefix(text: str, zone_name: str, where: str) -> str:
    """Cloudflare's prefix form `host/path`: no scheme, query string or fragment."""
    prefix = text.strip()
    if not prefix or len(prefix) > MAX_URL_LENGTH or not _printable(prefix):
        raise PurgeRefused(f"{where}: give a prefix of 1 to {MAX_URL_LENGTH} characters")
    if "://" in prefix:
        raise PurgeRefused(f"{where}: {prefix!r} has a scheme; write it as host/path")
    if "?" in prefix or "#" in prefix:
        raise PurgeRefused(f"{where}: {prefix!r} must not have a query string or fragment")
    host, slash, path = prefix.partition("/")
    return _zone_host(host, zone_name, where) + _path(slash + path)


def purge_tag(text: str, where: str) -> str:
    tag = text.strip()
    if not tag or len(tag.encode()) > MAX_TAG_BYTES:
        raise PurgeRefused(f"{where}: a tag has 1 to {MAX_TAG_BYTES} bytes")
    if "," in tag or any(ord(c) < 0x20 or ord(c) == 0x7F for c in tag):
        raise PurgeRefused(f"{where}: a tag must not contain commas or control characters")
    return tag


def variant_headers(headers: Mapping[str, str], where: str) -> tuple[tuple[str, str], ...]:
    """The request fields naming one Vary variant of a URL: names lower-cased, values kept."""
    if len(headers) > MAX_VARIANT_HEADERS:
        raise PurgeRefused(f"{where}: at most {MAX_VARIANT_HEADERS} headers")
    pairs: list[tuple[str, str]] = []
    for name, value in headers.items():
        if not _TOKEN.match(name):
            raise PurgeRefused(f"{where}: {name!r} is not a valid header name")
        if len(value) > MAX_HEADER_VALUE or any(c in value for c in "\r\n\0"):
            raise PurgeRefused(f"{where}: the value of {name} is too long or has line breaks")
        pairs.append((name.lower(), value.strip(" \t")))
    return tuple(pairs)


def _file_item(spec: FileSpec, zone_name: str, where: str, soft: bool) -> PurgeItem:
    if isinstance(spec, str):
        return PurgeItem("url", purge_url(spec, zone_name, where), soft)
    url, headers = spec
    return PurgeItem(
        "url",
        purge_url(url, zone_name, f"{where}.url"),
        soft,
        variant_headers(headers, f"{where}.headers"),
    )


def purge_items(
    *,
    zone_name: str,
    files: Sequence[FileSpec] | None = None,
    prefixes: Sequence[str] | None = None,
    hosts: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
    everything: bool | None = None,
    soft: bool = False,
    limit: int = MAX_ITEMS_PER_REQUEST,
) -> list[PurgeItem]:
    """The items of one purge request, validated against the zone; duplicates removed."""
    given = {
        name: members
        for name, members in (
            ("files", files),
            ("prefixes", prefixes),
            ("hosts", hosts),
            ("tags", tags),
        )
        if members is not None
    }
    if everything is not None:
        if len(given) or not everything:
            raise PurgeRefused(_ONE_OF if given else "purge_everything: must be true")
        return [PurgeItem(EVERYTHING, "", soft)]
    if len(given) != 1:
        raise PurgeRefused(_ONE_OF)
    [(name, members)] = given.items()
    if not 1 <= len(members) <= limit:
        raise PurgeRefused(f"{name}: give 1 to {limit} items per request")
    items: list[PurgeItem] = []
    for index, member in enumerate(members):
        where = f"{name}[{index}]"
        if name == "files":
            items.append(_file_item(member, zone_name, where, soft))
        elif name == "prefixes":
            assert isinstance(member, str)
            items.append(PurgeItem("prefix", purge_prefix(member, zone_name, where), soft))
        elif name == "hosts":
            assert isinstance(member, str)
            items.append(PurgeItem("host", _zone_host(member.strip(), zone_name, where), soft))
        else:
            assert isinstance(member, str)
            items.append(PurgeItem("tag", purge_tag(member, where), soft))
    return list(dict.fromkeys(items))


_ONE_OF = "give exactly one of files, prefixes, hosts, tags or purge_everything"


@dataclass(frozen=True, slots=True)
class PurgeEntry:
    """A stored purge as compaction sees it; `id` None for an `everything` it adds."""

    id: int | None
    version: int
    kind: str
    soft: bool
    created_at: float


def fold(entries: Sequence[PurgeEntry]) -> PurgeEntry:
    """One `everything` purge covering `entries`: their newest version, hard unless all are
    soft, dated like the newest of them."""
    return PurgeEntry(
        id=None,
        version=max(e.version for e in entries),
        kind=EVERYTHING,
        soft=all(e.soft for e in entries),
        created_at=max(e.created_at for e in entries),
    )


def _newest_everything(entries: Sequence[PurgeEntry], *, soft: bool) -> PurgeEntry | None:
    found = [e for e in entries if e.kind == EVERYTHING and e.soft == soft]
    return max(found, key=lambda e: e.version) if found else None


def drop_superseded(entries: Sequence[PurgeEntry]) -> list[PurgeEntry]:
    """Without what a newer `everything` purge already covers (rule 1)."""
    hard = _newest_everything(entries, soft=False)
    kept = [e for e in entries if hard is None or e is hard or e.version > hard.version]
    soft = _newest_everything(kept, soft=True)
    return [e for e in kept if soft is None or e is soft or not e.soft or e.version > soft.version]


def _order(entry: PurgeEntry) -> tuple[int, int]:
    return (entry.version, -1 if entry.id is None else entry.id)


def compact(entries: Sequence[PurgeEntry], *, now: float, policy: PurgePolicy) -> list[PurgeEntry]:
    """The purges a zone keeps (rules 1 to 3 above), oldest first."""
    kept = drop_superseded(sorted(entries, key=_order))
    cutoff = now - policy.retention_seconds
    aged = [e for e in kept if e.created_at < cutoff]
    if len(aged) > 1 or (aged and aged[0].kind != EVERYTHING):
        rest = [e for e in kept if e.created_at >= cutoff]
        kept = drop_superseded(sorted([fold(aged), *rest], key=_order))
    if len(kept) > policy.max_per_zone:
        over = len(kept) - policy.max_per_zone + 1
        kept = drop_superseded(sorted([fold(kept[:over]), *kept[over:]], key=_order))
    return kept
