"""Header rules shared by every hop (RFC 9110 §7.6.1, RFC 7239, RFC 8586). Pure functions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

Header = tuple[bytes, bytes]

# RFC 9110 §7.6.1 hop-by-hop fields, plus the de-facto ones proxies must not forward.
HOP_BY_HOP: frozenset[bytes] = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)

# Fields never accepted from a visitor: the edge sets them itself (spoofing them would lie to
# the origin about who connected).
EDGE_SET_REQUEST_FIELDS: frozenset[bytes] = frozenset(
    {b"veil-connecting-ip", b"veil-ray", b"x-forwarded-proto", b"x-real-ip"}
)

# Fields the edge never passes back to a visitor from an origin.
ORIGIN_PRIVATE_RESPONSE_FIELDS: frozenset[bytes] = frozenset({b"server", b"x-powered-by"})

# Trailer fields that must not appear in a trailer section (RFC 9110 §6.5.1).
FORBIDDEN_TRAILERS: Final[frozenset[bytes]] = frozenset(
    {
        b"content-length",
        b"transfer-encoding",
        b"host",
        b"content-encoding",
        b"content-type",
        b"content-range",
        b"trailer",
        b"authorization",
        b"set-cookie",
        b"cache-control",
    }
)


def connection_tokens(values: Iterable[bytes]) -> frozenset[bytes]:
    """The lower-cased option names listed in Connection fields (RFC 9110 §7.6.1)."""
    tokens: set[bytes] = set()
    for value in values:
        for part in value.split(b","):
            token = part.strip().lower()
            if token:
                tokens.add(token)
    return frozenset(tokens)


def forwarded_element(*, client_ip: str, proto: str, host: bytes) -> bytes:
    """One RFC 7239 §4 forwarded-element for this hop. IPv6 nodes are quoted and bracketed."""
    node = f'"[{client_ip}]"' if ":" in client_ip else client_ip
    quoted_host = host.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
    return b"for=" + node.encode() + b";proto=" + proto.encode() + b';host="' + quoted_host + b'"'


def count_cdn_loop(values: Iterable[bytes], token: bytes) -> int:
    """How many times `token` appears as a cdn-id in CDN-Loop fields (RFC 8586 §2)."""
    count = 0
    for value in values:
        for member in value.split(b","):
            cdn_id = member.split(b";", 1)[0].strip().lower()
            if cdn_id == token:
                count += 1
    return count


def wants_json(accept: bytes | None) -> bool:
    """True when the client prefers JSON to HTML (used for error pages)."""
    if not accept:
        return False
    lowered = accept.lower()
    json_at = lowered.find(b"json")
    html_at = lowered.find(b"html")
    return json_at != -1 and (html_at == -1 or json_at < html_at)


class FieldNames:
    """Maps field names to small integer codes, lower-casing each distinct spelling once.

    The hot path meets the same few spellings ("Content-Type", "Host", …) on every message;
    a dict lookup on the raw name measured well below `name.lower()` plus a set test per field.
    Names come from the wire, so the memo is bounded: past `limit` spellings it stops growing.
    Use `memo.get(name)` inline and fall back to `code(name)` on a miss.
    """

    __slots__ = ("_codes", "_limit", "memo")

    def __init__(self, codes: dict[bytes, int], *, limit: int = 4096) -> None:
        self._codes = codes
        self._limit = limit
        self.memo: dict[bytes, int] = {}

    def code(self, name: bytes) -> int:
        found = self._codes.get(name.lower(), 0)
        if len(self.memo) < self._limit:
            self.memo[name] = found
        return found
