"""The versioned, immutable config snapshot: the only thing control and edge share.

Theory of operation
-------------------
Control compiles its tables (zones, proxied DNS records, zone origin settings) into one
`Snapshot` with a monotonically increasing `version`. The edge never reads the database: it
receives snapshots (today by long-polling control's API; later over NATS JetStream, behind the
same `SnapshotSource` seam in `veil.edge.config`), swaps them in atomically by replacing one
reference, and writes the last one to disk so that it can start serving without control
(static stability).

The wire form is plain JSON (`snapshot_to_dict` / `snapshot_from_dict`). This module uses the
standard library only, so both halves can import it (control never imports `veil.edge`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

SNAPSHOT_FORMAT: Final = 1
DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024
DEFAULT_CONNECT_TIMEOUT = 15.0  # Cloudflare answers 522 after 15 s without a TCP handshake
DEFAULT_READ_TIMEOUT = 100.0  # ... and 524 after 100 s without a response


class SnapshotError(ValueError):
    """A snapshot document that does not have the expected shape."""


@dataclass(frozen=True, slots=True)
class OriginSettings:
    """How the edge reaches a zone's origin (documented in docs/origin-settings.md)."""

    scheme: str = "http"
    port: int = 80
    host_header: str | None = None  # Host sent upstream; None keeps the visitor's Host
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT


CACHE_LEVELS: Final = ("bypass", "standard", "ignore_query", "cache_everything")
QUERY_MODES: Final = ("all", "none", "sorted", "allow")
PURGE_KINDS: Final = ("url", "prefix", "host", "tag", "everything")
# The abuse desk's actions the edge enforces (veil.abuse.actions.ActionType; cache_purge is
# carried by `purges`, not here).
ABUSE_KINDS: Final = (
    "legal_block",
    "phishing_interstitial",
    "misleading_interstitial",
    "account_suspend",
)


@dataclass(frozen=True, slots=True)
class CacheSettings:
    """A zone's cache settings (docs/cache.md). None TTLs mean "as the origin says"."""

    level: str = "standard"  # one of CACHE_LEVELS
    edge_ttl: int | None = None  # replaces the origin's freshness lifetime at the edge
    browser_ttl: int | None = None  # minimum max-age sent to visitors
    query: str = "all"  # cache key query string: one of QUERY_MODES
    query_allow: tuple[str, ...] = ()  # the parameters kept when query == "allow"
    key_headers: tuple[str, ...] = ()  # request fields added to the cache key
    key_cookies: tuple[str, ...] = ()  # cookies added to the cache key
    development_mode_until: float = 0.0  # epoch seconds; until then the cache is bypassed


@dataclass(frozen=True, slots=True)
class Purge:
    """One purge_cache request item. `version` is the snapshot version that first carried it:
    an object stored while the edge ran an older snapshot is purged — no clocks compared, so
    edges whose clocks disagree with control still purge exactly what was there before."""

    version: int
    kind: str  # one of PURGE_KINDS
    value: str = ""  # URL ("host/path?q" without scheme is fine), prefix, host or tag
    soft: bool = False  # mark stale (revalidate / serve stale) instead of dropping
    headers: tuple[tuple[str, str], ...] = ()  # a URL purge of one Vary variant


@dataclass(frozen=True, slots=True)
class AbuseBlock:
    """One abuse-desk action the edge enforces on a zone (docs/abuse.md, "Enforcement at the
    edge"). `targets` are canonical URLs (`veil.abuse.urls`; empty for `account_suspend`, which
    covers every URL); `countries` ISO 3166-1 alpha-2 codes, empty = worldwide; the edge
    enforces it from `effective_at` (epoch seconds) on, so a pending action ships with its
    date; `statement_url` is the public statement page (RFC 7725 §3 `rel="blocked-by"`)."""

    id: str
    kind: str  # one of ABUSE_KINDS
    targets: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    effective_at: float = 0.0
    statement_url: str = ""


@dataclass(frozen=True, slots=True)
class ZoneConfig:
    id: str
    name: str
    account_id: str
    origin: OriginSettings = field(default_factory=OriginSettings)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    cache: CacheSettings = field(default_factory=CacheSettings)
    purges: tuple[Purge, ...] = ()
    abuse: tuple[AbuseBlock, ...] = ()  # empty for nearly every zone: the edge checks nothing


@dataclass(frozen=True, slots=True)
class Route:
    """A proxied hostname: where its traffic goes. `addresses` are the proxied A/AAAA/CNAME
    record contents (IP literals or a CNAME target), tried in order."""

    hostname: str
    zone: ZoneConfig
    addresses: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: int
    created_at: float
    zones: tuple[ZoneConfig, ...]
    routes: Mapping[str, Route]  # exact hostname -> route
    wildcards: Mapping[str, Route]  # "example.com" for a "*.example.com" record -> route

    def route_for(self, host: str) -> Route | None:
        """The route for a lower-cased Host without port; exact names win over wildcards."""
        route = self.routes.get(host)
        if route is not None:
            return route
        dot = host.find(".")
        while dot != -1:
            route = self.wildcards.get(host[dot + 1 :])
            if route is not None:
                return route
            dot = host.find(".", dot + 1)
        return None


EMPTY_SNAPSHOT: Final = Snapshot(version=0, created_at=0.0, zones=(), routes={}, wildcards={})


def build_snapshot(
    *, version: int, created_at: float, zones: Mapping[ZoneConfig, Mapping[str, tuple[str, ...]]]
) -> Snapshot:
    """Assemble a snapshot from zones and, per zone, hostname -> origin addresses."""
    routes: dict[str, Route] = {}
    wildcards: dict[str, Route] = {}
    for zone, hosts in zones.items():
        for hostname, addresses in hosts.items():
            name = hostname.lower().rstrip(".")
            route = Route(hostname=name, zone=zone, addresses=tuple(addresses))
            if name.startswith("*."):
                wildcards[name[2:]] = route
            else:
                routes[name] = route
    return Snapshot(
        version=version,
        created_at=created_at,
        zones=tuple(zones),
        routes=routes,
        wildcards=wildcards,
    )


def snapshot_to_dict(snapshot: Snapshot) -> dict[str, Any]:
    hosts_by_zone: dict[str, list[dict[str, Any]]] = {z.id: [] for z in snapshot.zones}
    for route in [*snapshot.routes.values(), *snapshot.wildcards.values()]:
        hosts_by_zone[route.zone.id].append(
            {"name": route.hostname, "addresses": list(route.addresses)}
        )
    return {
        "format": SNAPSHOT_FORMAT,
        "version": snapshot.version,
        "created_at": snapshot.created_at,
        "zones": [
            {
                "id": z.id,
                "name": z.name,
                "account_id": z.account_id,
                "max_body_bytes": z.max_body_bytes,
                "origin": {
                    "scheme": z.origin.scheme,
                    "port": z.origin.port,
                    "host_header": z.origin.host_header,
                    "connect_timeout": z.origin.connect_timeout,
                    "read_timeout": z.origin.read_timeout,
                },
                "hosts": sorted(hosts_by_zone[z.id], key=lambda h: str(h["name"])),
                "cache": _cache_to_dict(z.cache),
                "purges": [_purge_to_dict(p) for p in z.purges],
                "abuse": [_abuse_to_dict(b) for b in z.abuse],
            }
            for z in snapshot.zones
        ],
    }


def _cache_to_dict(c: CacheSettings) -> dict[str, Any]:
    return {
        "level": c.level,
        "edge_ttl": c.edge_ttl,
        "browser_ttl": c.browser_ttl,
        "query": c.query,
        "query_allow": list(c.query_allow),
        "key_headers": list(c.key_headers),
        "key_cookies": list(c.key_cookies),
        "development_mode_until": c.development_mode_until,
    }


def _purge_to_dict(p: Purge) -> dict[str, Any]:
    return {
        "version": p.version,
        "kind": p.kind,
        "value": p.value,
        "soft": p.soft,
        "headers": [list(h) for h in p.headers],
    }


def _abuse_to_dict(b: AbuseBlock) -> dict[str, Any]:
    return {
        "id": b.id,
        "kind": b.kind,
        "targets": list(b.targets),
        "countries": list(b.countries),
        "effective_at": b.effective_at,
        "statement_url": b.statement_url,
    }


def _strings(doc: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SnapshotError(f"snapshot field {key!r} must be a list of strings")
    return tuple(value)


def _optional_ttl(doc: Mapping[str, Any], key: str) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SnapshotError(f"cache {key} must be a non-negative integer or null")
    return value


def _cache_from_dict(doc: Mapping[str, Any] | None) -> CacheSettings:
    """A zone's cache settings; a snapshot written before the cache existed has none."""
    if doc is None:
        return CacheSettings()
    if not isinstance(doc, Mapping):
        raise SnapshotError("zone cache settings must be an object")
    level = doc.get("level", "standard")
    if level not in CACHE_LEVELS:
        raise SnapshotError(f"cache level {level!r} is not one of {CACHE_LEVELS}")
    query = doc.get("query", "all")
    if query not in QUERY_MODES:
        raise SnapshotError(f"cache key query mode {query!r} is not one of {QUERY_MODES}")
    until = doc.get("development_mode_until", 0.0)
    if not isinstance(until, (int, float)) or isinstance(until, bool):
        raise SnapshotError("development_mode_until must be a number")
    return CacheSettings(
        level=level,
        edge_ttl=_optional_ttl(doc, "edge_ttl"),
        browser_ttl=_optional_ttl(doc, "browser_ttl"),
        query=query,
        query_allow=_strings(doc, "query_allow"),
        key_headers=_strings(doc, "key_headers"),
        key_cookies=_strings(doc, "key_cookies"),
        development_mode_until=float(until),
    )


def _purge_from_dict(doc: Any) -> Purge:
    if not isinstance(doc, Mapping):
        raise SnapshotError("purge entry must be an object")
    kind = _get(doc, "kind", str)
    if kind not in PURGE_KINDS:
        raise SnapshotError(f"purge kind {kind!r} is not one of {PURGE_KINDS}")
    headers = doc.get("headers", [])
    if not isinstance(headers, list) or not all(
        isinstance(h, list) and len(h) == 2 and all(isinstance(x, str) for x in h) for h in headers
    ):
        raise SnapshotError("purge headers must be a list of [name, value] pairs")
    soft = doc.get("soft", False)
    if not isinstance(soft, bool):
        raise SnapshotError("purge soft must be true or false")
    return Purge(
        version=_get(doc, "version", int),
        kind=kind,
        value=doc.get("value", "") if isinstance(doc.get("value", ""), str) else "",
        soft=soft,
        headers=tuple((h[0], h[1]) for h in headers),
    )


def _abuse_from_dict(doc: Any) -> AbuseBlock:
    """One enforced abuse action; a snapshot written before the desk existed has none."""
    if not isinstance(doc, Mapping):
        raise SnapshotError("abuse entry must be an object")
    kind = _get(doc, "kind", str)
    if kind not in ABUSE_KINDS:
        raise SnapshotError(f"abuse kind {kind!r} is not one of {ABUSE_KINDS}")
    targets = _strings(doc, "targets")
    if kind != "account_suspend" and not targets:
        raise SnapshotError(f"abuse {kind} needs at least one target URL")
    if not all(t.startswith(("http://", "https://")) for t in targets):
        raise SnapshotError("abuse targets must be http(s) URLs")
    countries = _strings(doc, "countries")
    if not all(len(c) == 2 and c.isascii() and c.isalpha() and c.isupper() for c in countries):
        raise SnapshotError("abuse countries must be ISO 3166-1 alpha-2 codes (upper case)")
    if countries and kind != "legal_block":
        raise SnapshotError(f"abuse {kind} cannot be scoped to countries")
    block_id = _get(doc, "id", str)
    if not (0 < len(block_id) <= 64 and block_id.isascii() and block_id.replace("-", "").isalnum()):
        raise SnapshotError("abuse id must be 1-64 letters, digits or hyphens")  # a cookie name
    statement_url = _get(doc, "statement_url", str)
    if statement_url and not (
        statement_url.startswith(("http://", "https://"))
        and all(0x20 < ord(c) < 0x7F and c not in '<>"' for c in statement_url)
    ):
        raise SnapshotError("abuse statement_url must be an http(s) URL (it goes in a Link field)")
    return AbuseBlock(
        id=block_id,
        kind=kind,
        targets=targets,
        countries=countries,
        effective_at=float(_get(doc, "effective_at", (int, float))),
        statement_url=statement_url,
    )


def _get(doc: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = doc.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise SnapshotError(f"snapshot field {key!r} is missing or not {kind}")
    return value


def _origin_from_dict(doc: Mapping[str, Any]) -> OriginSettings:
    scheme = _get(doc, "scheme", str)
    if scheme not in ("http", "https"):
        raise SnapshotError(f"origin scheme {scheme!r} is not http or https")
    port = _get(doc, "port", int)
    if not 0 < port < 65536:
        raise SnapshotError(f"origin port {port} is out of range")
    host_header = doc.get("host_header")
    if host_header is not None and not isinstance(host_header, str):
        raise SnapshotError("origin host_header must be a string or null")
    return OriginSettings(
        scheme=scheme,
        port=port,
        host_header=host_header,
        connect_timeout=float(_get(doc, "connect_timeout", (int, float))),
        read_timeout=float(_get(doc, "read_timeout", (int, float))),
    )


def snapshot_from_dict(doc: Mapping[str, Any]) -> Snapshot:
    """Parse and validate the wire form; raises SnapshotError on any deviation."""
    if not isinstance(doc, Mapping):
        raise SnapshotError("snapshot must be a JSON object")
    if doc.get("format") != SNAPSHOT_FORMAT:
        raise SnapshotError(f"unsupported snapshot format {doc.get('format')!r}")
    zones: dict[ZoneConfig, dict[str, tuple[str, ...]]] = {}
    for zdoc in _get(doc, "zones", list):
        if not isinstance(zdoc, Mapping):
            raise SnapshotError("zone entry must be an object")
        zone = ZoneConfig(
            id=_get(zdoc, "id", str),
            name=_get(zdoc, "name", str),
            account_id=_get(zdoc, "account_id", str),
            origin=_origin_from_dict(_get(zdoc, "origin", Mapping)),
            max_body_bytes=_get(zdoc, "max_body_bytes", int),
            cache=_cache_from_dict(zdoc.get("cache")),
            purges=tuple(_purge_from_dict(p) for p in _get(zdoc, "purges", list))
            if "purges" in zdoc
            else (),
            abuse=tuple(_abuse_from_dict(b) for b in _get(zdoc, "abuse", list))
            if "abuse" in zdoc
            else (),
        )
        hosts: dict[str, tuple[str, ...]] = {}
        for hdoc in _get(zdoc, "hosts", list):
            if not isinstance(hdoc, Mapping):
                raise SnapshotError("host entry must be an object")
            addresses = _get(hdoc, "addresses", list)
            if not addresses or not all(isinstance(a, str) for a in addresses):
                raise SnapshotError("host addresses must be a non-empty list of strings")
            hosts[_get(hdoc, "name", str)] = tuple(addresses)
        zones[zone] = hosts
    return build_snapshot(
        version=_get(doc, "version", int),
        created_at=float(_get(doc, "created_at", (int, float))),
        zones=zones,
    )


def snapshot_to_json(snapshot: Snapshot) -> bytes:
    return json.dumps(snapshot_to_dict(snapshot), separators=(",", ":")).encode()


def snapshot_from_json(data: bytes) -> Snapshot:
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise SnapshotError(f"snapshot is not JSON: {exc}") from exc
    return snapshot_from_dict(doc)
