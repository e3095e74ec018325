"""Cache purges: the rows behind `ZoneConfig.purges`, and their compaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from veil.control.purges import PurgeEntry, PurgeItem, PurgePolicy, compact
from veil.control.store.models import CachePurge
from veil.snapshot import Purge

DELETE_BATCH = 500


def add_purges(
    *,
    session: Session,
    zone_id: str,
    request_id: str,
    items: Sequence[PurgeItem],
    version: int,
    now: datetime,
) -> None:
    """Store one request's items, all with `version` (the version this transaction bumped to)."""
    session.add_all(
        CachePurge(
            zone_id=zone_id,
            request_id=request_id,
            version=version,
            kind=item.kind,
            value=item.value,
            soft=item.soft,
            headers=[list(pair) for pair in item.headers],
            created_on=now,
        )
        for item in items
    )
    session.flush()


def compact_purges(
    *, session: Session, zone_id: str, request_id: str, now: datetime, policy: PurgePolicy
) -> int:
    """Apply `veil.control.purges.compact` to the zone's rows; returns how many went."""
    rows = session.execute(
        select(
            CachePurge.id,
            CachePurge.version,
            CachePurge.kind,
            CachePurge.soft,
            CachePurge.created_on,
        ).where(CachePurge.zone_id == zone_id)
    ).all()
    entries = [PurgeEntry(r.id, r.version, r.kind, r.soft, r.created_on.timestamp()) for r in rows]
    kept = compact(entries, now=now.timestamp(), policy=policy)
    kept_ids = {e.id for e in kept}
    gone = [e.id for e in entries if e.id not in kept_ids]
    for start in range(0, len(gone), DELETE_BATCH):
        batch = gone[start : start + DELETE_BATCH]
        session.execute(delete(CachePurge).where(CachePurge.id.in_(batch)))
    session.add_all(
        CachePurge(
            zone_id=zone_id,
            request_id=request_id,
            version=e.version,
            kind=e.kind,
            value="",
            soft=e.soft,
            headers=[],
            created_on=datetime.fromtimestamp(e.created_at, UTC),
        )
        for e in kept
        if e.id is None
    )
    session.flush()
    return len(gone)


def zone_purges(*, session: Session, zone_id: str) -> Sequence[CachePurge]:
    statement = (
        select(CachePurge)
        .where(CachePurge.zone_id == zone_id)
        .order_by(CachePurge.version, CachePurge.id)
    )
    return session.scalars(statement).all()


def purges_for_zones(*, session: Session, zone_ids: Collection[str]) -> dict[str, list[Purge]]:
    """zone id -> its purges as the snapshot carries them, oldest first."""
    result: dict[str, list[Purge]] = defaultdict(list)
    if not zone_ids:
        return result
    statement = (
        select(
            CachePurge.zone_id,
            CachePurge.version,
            CachePurge.kind,
            CachePurge.value,
            CachePurge.soft,
            CachePurge.headers,
        )
        .where(CachePurge.zone_id.in_(list(zone_ids)))
        .order_by(CachePurge.zone_id, CachePurge.version, CachePurge.id)
    )
    for row in session.execute(statement):
        headers = tuple((str(h[0]), str(h[1])) for h in row.headers or ())
        result[row.zone_id].append(
            Purge(
                version=row.version, kind=row.kind, value=row.value, soft=row.soft, headers=headers
            )
        )
    return result
