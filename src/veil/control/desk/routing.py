"""URL -> zone -> account, and the origin address behind a hostname."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from veil.control.store.models import DnsRecord, Zone

_ORIGIN_TYPES = ("A", "AAAA", "CNAME")


def _candidates(host: str) -> list[str]:
    """`a.b.example.com` -> itself and every parent name (zones are matched longest first)."""
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)] or [host]


def zone_for_host(*, session: Session, host: str) -> Zone | None:
    """The zone serving `host` (the longest zone name it equals or ends with)."""
    names = _candidates(host.lower().rstrip("."))
    zones = {z.name: z for z in session.scalars(select(Zone).where(Zone.name.in_(names)))}
    for name in names:
        if name in zones:
            return zones[name]
    return None


def origin_for_host(*, session: Session, zone: Zone, host: str) -> str | None:
    """The first proxied origin of `host`: its own record, a wildcard covering it, else the
    apex's. A CNAME target is returned as a name."""
    records = session.scalars(
        select(DnsRecord)
        .where(DnsRecord.zone_id == zone.id, DnsRecord.type.in_(_ORIGIN_TYPES))
        .order_by(DnsRecord.created_on)
    ).all()
    by_name: dict[str, list[DnsRecord]] = {}
    for record in records:
        by_name.setdefault(record.name.lower(), []).append(record)
    wildcard = "*." + host.split(".", 1)[1] if "." in host else ""
    for name in (host, wildcard, zone.name):
        proxied = [r for r in by_name.get(name, []) if r.proxied] or by_name.get(name, [])
        if proxied:
            return proxied[0].content
    return None
