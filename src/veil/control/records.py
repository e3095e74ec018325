"""DNS record rules in the context of a zone: pure, no I/O.

`build_record` turns what a client sent into a `RecordSpec` (normalised name and content, the
TTL rule, the proxy rule) or raises `RecordRefused`. A proxied record's content is where the
edge will connect, so it passes the SSRF guard (`veil.netguard.origin_refusal`) first; the
refusal names only the kind of range, never an address of ours.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from veil.control.names import (
    PROXIABLE_TYPES,
    InvalidName,
    check_ttl,
    normalize_content,
    normalize_record_name,
)
from veil.netguard import IPNetwork, origin_refusal

CODE_DNS_VALIDATION = 1004
CODE_NOT_PROXIABLE = 9004
CODE_ORIGIN_REFUSED = 9021


class RecordRefused(ValueError):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class OriginPolicy:
    """What the SSRF guard allows: the operator's switch and the edge's own addresses."""

    allow_private: bool = False
    own: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_addresses(cls, *, allow_private: bool, addresses: Iterable[str]) -> OriginPolicy:
        """Raises ValueError naming the first address (or CIDR) that does not parse."""
        own: list[IPNetwork] = []
        for address in addresses:
            try:
                own.append(ipaddress.ip_network(address.strip(), strict=False))
            except ValueError:
                raise ValueError(f"invalid edge address {address!r}") from None
        return cls(allow_private=allow_private, own=tuple(own))

    def refusal(self, host: str) -> str | None:
        return origin_refusal(host, allow_private=self.allow_private, own=self.own)


@dataclass(frozen=True, slots=True)
class RecordSpec:
    type: str
    name: str
    content: str
    ttl: int
    proxied: bool
    priority: int | None
    comment: str | None

    @property
    def proxiable(self) -> bool:
        return self.type in PROXIABLE_TYPES


def build_record(
    *,
    type: str,
    name: str,
    content: str,
    ttl: int,
    proxied: bool,
    priority: int | None,
    comment: str | None,
    zone_name: str,
    policy: OriginPolicy,
) -> RecordSpec:
    """Validate one record for `zone_name`; raise `RecordRefused` with a Cloudflare-like code."""
    try:
        owner = normalize_record_name(name, zone_name=zone_name)
        value = normalize_content(type, content)
        ttl = check_ttl(ttl, proxied=proxied)
    except InvalidName as exc:
        raise RecordRefused(CODE_DNS_VALIDATION, str(exc)) from None
    if proxied and type not in PROXIABLE_TYPES:
        raise RecordRefused(CODE_NOT_PROXIABLE, f"a {type} record cannot be proxied")
    if proxied:
        reason = policy.refusal(value)
        if reason is not None:
            raise RecordRefused(
                CODE_ORIGIN_REFUSED, f"content is not allowed as a proxied origin: {reason}"
            )
    if type == "MX" and priority is None:
        raise RecordRefused(CODE_DNS_VALIDATION, "priority is required for an MX record")
    return RecordSpec(
        type=type,
        name=owner,
        content=value,
        ttl=ttl,
        proxied=proxied,
        priority=priority if type == "MX" else None,
        comment=comment,
    )
