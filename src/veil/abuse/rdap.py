"""RDAP for the abuse desk: pick the registry (RFC 9224), read the abuse contact (RFC 9083).

Theory of operation. To tell a hosting provider about a notice we need its abuse address. The
caller loads two JSON documents — the IANA bootstrap registry and the RDAP answer for the origin
IP — and hands the decoded values here; this module only reads them. No network, no files.

- Bootstrap (RFC 9224 §3, §5): `services` is a list of `[[prefix, ...], [url, ...]]`. The
  registry for an address is the service with the *longest* prefix covering it; among its URLs
  an https one is preferred (§3: "SHOULD" use https). ASN services hold "64496-64511" ranges
  (§5.3); the narrowest range wins.
- Abuse contact (RFC 9083 §5.1, §5.4): an IP network carries `entities`, each with `roles`,
  and entities nest inside entities. ARIN puts the abuse contact *inside* the registrant org;
  RIPE, APNIC and LACNIC put it at the top. We walk breadth-first, so the nearest abuse entity
  wins and its depth is reported. Its `vcardArray` is a jCard (RFC 7095 §3.3): `["vcard",
  [[name, params, type, value, ...], ...]]`; we read `fn`, `org`, `email` and `tel`.
- The provider's name is the nearest registrant's `org` or `fn`, else the abuse entity's `org`,
  else the network's `name` — and `provider_from` says which.

Real answers are untidy (ARIN's "074.125.000.000", RIPE's "62.239.237.0/32"), and an answer is
untrusted input: every reader here checks types and gives back what it can, never raising.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

MAX_ENTITIES = 1000  # a bound on the walk; real answers hold a dozen

ProviderSource = Literal["registrant", "abuse-entity", "network", "none"]


@dataclass(frozen=True, slots=True)
class Network:
    """The IP network an RDAP answer describes (RFC 9083 §5.4); any field may be missing."""

    handle: str | None
    name: str | None
    country: str | None
    start_address: str | None
    end_address: str | None
    cidrs: tuple[str, ...]  # from the `cidr0_cidrs` extension, as "prefix/length"


@dataclass(frozen=True, slots=True)
class AbuseContact:
    """Who to tell about abuse on a network, and where in the answer it was found."""

    name: str | None  # the abuse entity's jCard `fn`
    emails: tuple[str, ...]  # preference order (jCard `pref`), duplicates dropped
    phones: tuple[str, ...]
    handle: str | None  # the abuse entity's handle
    depth: int  # 0: a top-level entity of the network; 1: inside one (ARIN); ...
    via: tuple[str, ...]  # handles of the entities it was nested in, outermost first
    provider: str | None  # the hosting provider's name
    provider_from: ProviderSource
    network: Network


# --- Bootstrap (RFC 9224) -------------------------------------------------------------------


def rdap_base_for_ip(bootstrap: object, ip: str) -> str | None:
    """The RDAP base URL for `ip` from an IPv4 or IPv6 bootstrap registry, or None (§5.1, §5.2)."""
    try:
        address = ipaddress.ip_address(ip.strip()) if isinstance(ip, str) else None
    except ValueError:
        return None
    if address is None:
        return None
    best: tuple[int, str] | None = None
    for entries, urls in _services(bootstrap):
        url = _preferred_url(urls)
        for entry in entries:
            length = _prefix_match(entry, address)
            if url is not None and length is not None and (best is None or length > best[0]):
                best = (length, url)
    return best[1] if best else None


def rdap_base_for_asn(bootstrap: object, asn: int) -> str | None:
    """The RDAP base URL for AS number `asn` from the ASN bootstrap registry, or None (§5.3)."""
    if not isinstance(asn, int) or isinstance(asn, bool) or asn < 0:
        return None
    best: tuple[int, str] | None = None
    for entries, urls in _services(bootstrap):
        url = _preferred_url(urls)
        for entry in entries:
            span = _range_span(entry, asn)
            if url is not None and span is not None and (best is None or span < best[0]):
                best = (span, url)
    return best[1] if best else None


def rdap_ip_url(base: str, ip: str) -> str:
    """The query URL for `ip` under `base` (RFC 9082 §3.1.1; RFC 9224 §3: base ends in "/")."""
    return f"{base if base.endswith('/') else base + '/'}ip/{ip}"


def _services(bootstrap: object) -> Iterator[tuple[list[object], list[object]]]:
    services = bootstrap.get("services") if isinstance(bootstrap, dict) else None
    for service in services if isinstance(services, list) else []:
        if isinstance(service, list) and len(service) >= 2:
            entries, urls = service[0], service[1]
            if isinstance(entries, list) and isinstance(urls, list):
                yield entries, urls


def _preferred_url(urls: list[object]) -> str | None:
    usable = [u for u in urls if isinstance(u, str) and u.lower().startswith(("https:", "http:"))]
    https = [u for u in usable if u.lower().startswith("https:")]
    choices = https or usable
    return choices[0] if choices else None


def _prefix_match(
    entry: object, address: ipaddress.IPv4Address | ipaddress.IPv6Address
) -> int | None:
    if not isinstance(entry, str):
        return None
    try:
        network = ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError:
        return None
    if network.version == address.version and address in network:
        return network.prefixlen
    return None


def _range_span(entry: object, asn: int) -> int | None:
    if not isinstance(entry, str):
        return None
    low, _, high = entry.strip().partition("-")
    if not _digits(low) or not _digits(high or low):
        return None
    first, last = int(low), int(high or low)
    return last - first if first <= asn <= last else None


# --- The abuse contact (RFC 9083) -----------------------------------------------------------


def abuse_contact(response: object) -> AbuseContact | None:
    """The nearest entity with the "abuse" role, read from an RDAP IP answer; None if absent."""
    if not isinstance(response, dict):
        return None
    found = next(
        ((e, via) for e, via in _walk(response) if "abuse" in _roles(e)),
        None,
    )
    if found is None:
        return None
    entity, via = found
    card = _jcard(entity)
    provider, source = _provider(response, card)
    return AbuseContact(
        name=_first_text(card, "fn"),
        emails=_dedupe(_texts(card, "email")),
        phones=_dedupe(_texts(card, "tel")),
        handle=_str(entity.get("handle")),
        depth=len(via),
        via=via,
        provider=provider,
        provider_from=source,
        network=network_of(response),
    )


def network_of(response: object) -> Network:
    """The network fields of an RDAP IP answer, each None when missing or of the wrong type."""
    r = response if isinstance(response, dict) else {}
    return Network(
        handle=_str(r.get("handle")),
        name=_str(r.get("name")),
        country=_str(r.get("country")),
        start_address=_address(r.get("startAddress")),
        end_address=_address(r.get("endAddress")),
        cidrs=_cidrs(r.get("cidr0_cidrs")),
    )


def _walk(response: dict[object, object]) -> Iterator[tuple[dict[object, object], tuple[str, ...]]]:
    """Entities breadth-first, each with the handles of the entities enclosing it."""
    queue: deque[tuple[object, tuple[str, ...]]] = deque(
        (e, ()) for e in _list(response.get("entities"))
    )
    seen = 0
    while queue and seen < MAX_ENTITIES:
        entity, via = queue.popleft()
        seen += 1
        if not isinstance(entity, dict):
            continue
        yield entity, via
        inner = (*via, _str(entity.get("handle")) or "?")
        queue.extend((e, inner) for e in _list(entity.get("entities")))


def _provider(
    response: dict[object, object], abuse_card: list[list[object]]
) -> tuple[str | None, ProviderSource]:
    for entity, _via in _walk(response):
        if "registrant" in _roles(entity):
            card = _jcard(entity)
            name = _first_text(card, "org") or _first_text(card, "fn")
            if name:
                return name, "registrant"
    org = _first_text(abuse_card, "org")
    if org:
        return org, "abuse-entity"
    name = _str(response.get("name"))
    return (name, "network") if name else (None, "none")


def _roles(entity: dict[object, object]) -> set[str]:
    return {r.strip().lower() for r in _list(entity.get("roles")) if isinstance(r, str)}


def _jcard(entity: dict[object, object]) -> list[list[object]]:
    """The property list of an entity's jCard (RFC 7095 §3.3); [] when malformed."""
    card = entity.get("vcardArray")
    if not (isinstance(card, list) and len(card) >= 2 and card[0] == "vcard"):
        return []
    return [p for p in _list(card[1]) if isinstance(p, list) and len(p) >= 4]


def _texts(card: list[list[object]], name: str) -> list[str]:
    """Values of property `name`, lowest `pref` first (RFC 6350 §5.3); structured values skipped."""
    found: list[tuple[int, str]] = []
    for prop in card:
        if prop[0] != name or not isinstance(prop[3], str) or not prop[3].strip():
            continue
        params = prop[1] if isinstance(prop[1], dict) else {}
        found.append((_pref(params.get("pref")), prop[3].strip()))
    return [value for _, value in sorted(found, key=lambda pair: pair[0])]


def _first_text(card: list[list[object]], name: str) -> str | None:
    values = _texts(card, name)
    return values[0] if values else None


def _pref(value: object) -> int:
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return int(text) if _digits(text) and len(text) <= 3 else 101  # RFC 6350: 1..100


def _dedupe(values: list[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    kept = []
    for value in values:
        if value.lower() not in seen:
            seen.add(value.lower())
            kept.append(value)
    return tuple(kept)


def _address(value: object) -> str | None:
    """A network bound in canonical form; zero-padded octets and a stray "/32" are tolerated."""
    text = _str(value)
    if text is None:
        return None
    bare = text.partition("/")[0].strip()
    if bare.count(".") == 3 and ":" not in bare:
        parts = bare.split(".")
        if all(_digits(p) and len(p) <= 3 for p in parts):
            bare = ".".join(str(int(p)) for p in parts)
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        return text


def _cidrs(value: object) -> tuple[str, ...]:
    """`cidr0_cidrs` entries ({"v4prefix"|"v6prefix": ..., "length": n}) as "prefix/length"."""
    found = []
    for item in _list(value):
        if not isinstance(item, dict):
            continue
        prefix = _str(item.get("v4prefix")) or _str(item.get("v6prefix"))
        length = item.get("length")
        if prefix and isinstance(length, int) and not isinstance(length, bool):
            found.append(f"{prefix}/{length}")
    return tuple(found)


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
