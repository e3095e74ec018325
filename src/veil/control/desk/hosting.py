"""Who hosts an origin: the seam the intake asks, and the account's declared host.

Order (issue 4): the host the account declares (`account_hosts`) wins; otherwise a
`HostFinder` looks the origin address up (IP -> ASN from a MaxMind-format file, abuse contact
from RDAP; `veil.control.desk.lookup`). The finder may be slow or fail: the intake calls it
with a bounded timeout and treats failure as "unknown"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from veil.control.store.models import AccountHost


@dataclass(frozen=True, slots=True)
class HostingProvider:
    name: str
    abuse_email: str | None
    source: str  # declared | rdap | asn
    asn: int | None = None
    network: str | None = None  # the provider's network (CIDR), when known

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "abuse_email": self.abuse_email,
            "source": self.source,
            "asn": self.asn,
            "network": self.network,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> HostingProvider:
        return cls(
            name=str(doc.get("name", "")),
            abuse_email=doc.get("abuse_email"),
            source=str(doc.get("source", "")),
            asn=doc.get("asn"),
            network=doc.get("network"),
        )


class HostFinder(Protocol):
    def find(self, address: str) -> HostingProvider | None:
        """The provider announcing `address` (an IP literal), or None when unknown."""
        ...


class NoLookup:
    """No ASN database or RDAP configured: only declared hosts are known."""

    def find(self, address: str) -> HostingProvider | None:
        return None


def declared_host(*, session: Session, account_id: str) -> HostingProvider | None:
    row = session.get(AccountHost, account_id)
    if row is None:
        return None
    return HostingProvider(name=row.name, abuse_email=row.abuse_email, source="declared")


def hosting_provider(
    *, session: Session, finder: HostFinder, account_id: str, origin: str | None
) -> HostingProvider | None:
    declared = declared_host(session=session, account_id=account_id)
    if declared is not None or origin is None:
        return declared
    try:
        return finder.find(origin)
    except Exception:  # a lookup is best effort; the notice must still be taken
        return None
