"""DNS records."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from veil.control.records import RecordSpec
from veil.control.store.models import DnsRecord, new_id
from veil.control.store.repo.paging import Page, fetch_page


class RecordConflict(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_conflicts(
    *, session: Session, zone_id: str, spec: RecordSpec, exclude_id: str | None = None
) -> None:
    """Raise RecordConflict for an identical record, or a CNAME sharing its name with others
    (RFC 1034 §3.6.2: a CNAME owner has no other data)."""
    statement = select(DnsRecord).where(DnsRecord.zone_id == zone_id, DnsRecord.name == spec.name)
    if exclude_id is not None:
        statement = statement.where(DnsRecord.id != exclude_id)
    for other in session.scalars(statement):
        if other.type == spec.type and other.content == spec.content:
            raise RecordConflict(81058, "an identical record already exists")
        if "CNAME" in (other.type, spec.type):
            raise RecordConflict(81053, "an A, AAAA, or CNAME record with that host already exists")


def _apply(record: DnsRecord, spec: RecordSpec) -> None:
    record.type = spec.type
    record.name = spec.name
    record.content = spec.content
    record.ttl = spec.ttl
    record.proxied = spec.proxied
    record.priority = spec.priority
    record.comment = spec.comment


def create_record(*, session: Session, zone_id: str, spec: RecordSpec, now: datetime) -> DnsRecord:
    check_conflicts(session=session, zone_id=zone_id, spec=spec)
    record = DnsRecord(id=new_id(), zone_id=zone_id, created_on=now, modified_on=now)
    _apply(record, spec)
    session.add(record)
    session.flush()
    return record


def update_record(
    *, session: Session, record: DnsRecord, spec: RecordSpec, now: datetime
) -> DnsRecord:
    check_conflicts(session=session, zone_id=record.zone_id, spec=spec, exclude_id=record.id)
    _apply(record, spec)
    record.modified_on = now
    session.flush()
    return record


def get_record(*, session: Session, zone_id: str, record_id: str) -> DnsRecord | None:
    record = session.get(DnsRecord, record_id)
    return record if record is not None and record.zone_id == zone_id else None


def list_records(
    *,
    session: Session,
    zone_id: str,
    page: Page,
    type: str | None = None,
    name: str | None = None,
    content: str | None = None,
    proxied: bool | None = None,
) -> tuple[Sequence[DnsRecord], int]:
    statement = select(DnsRecord).where(DnsRecord.zone_id == zone_id)
    if type is not None:
        statement = statement.where(DnsRecord.type == type)
    if name is not None:
        statement = statement.where(DnsRecord.name == name)
    if content is not None:
        statement = statement.where(DnsRecord.content == content)
    if proxied is not None:
        statement = statement.where(DnsRecord.proxied == proxied)
    statement = statement.order_by(DnsRecord.type, DnsRecord.name, DnsRecord.content, DnsRecord.id)
    return fetch_page(session=session, statement=statement, page=page)


def proxied_records(*, session: Session, zone_ids: Collection[str]) -> Sequence[DnsRecord]:
    """The proxied A/AAAA/CNAME records of these zones, in a stable order."""
    statement = (
        select(DnsRecord)
        .where(
            DnsRecord.zone_id.in_(list(zone_ids)),
            DnsRecord.proxied.is_(True),
            DnsRecord.type.in_(["A", "AAAA", "CNAME"]),
        )
        .order_by(DnsRecord.name, DnsRecord.type, DnsRecord.content)
    )
    return session.scalars(statement).all()


def count_records(*, session: Session, only_zone_ids: Collection[str] | None = None) -> int:
    statement = select(func.count()).select_from(DnsRecord)
    if only_zone_ids is not None:
        statement = statement.where(DnsRecord.zone_id.in_(list(only_zone_ids)))
    return int(session.execute(statement).scalar_one())


def delete_record(*, session: Session, record: DnsRecord) -> None:
    session.delete(record)
    session.flush()
