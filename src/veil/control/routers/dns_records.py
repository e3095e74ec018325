"""`/zones/{zone_id}/dns_records`: list (type, name, content, proxied), create, get, patch,
put, delete. Names and contents are validated against the zone; proxied contents pass the
SSRF guard."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import ValidationError
from sqlalchemy.orm import Session

from veil.control.changes import commit_change
from veil.control.deps import (
    Caller,
    DnsEdit,
    DnsRead,
    RecordPage,
    SessionDep,
    StateDep,
    WriteSessionDep,
    visible_zone,
)
from veil.control.envelope import (
    CODE_RECORD_NOT_FOUND,
    ApiError,
    bad_request,
    not_found,
    ok,
    page_info,
)
from veil.control.names import InvalidName, normalize_record_name
from veil.control.records import RecordRefused, RecordSpec, build_record
from veil.control.schemas.common import Envelope, IdResult
from veil.control.schemas.dns_records import (
    DnsRecordCreate,
    DnsRecordPublic,
    DnsRecordUpdate,
    RecordType,
)
from veil.control.state import ControlState
from veil.control.store.models import DnsRecord, Zone
from veil.control.store.repo import dns_records as repo
from veil.control.views import record_public

router = APIRouter(prefix="/zones/{zone_id}/dns_records", tags=["dns_records"])


def _spec(state: ControlState, zone: Zone, record_in: DnsRecordCreate) -> RecordSpec:
    try:
        return build_record(
            type=record_in.type,
            name=record_in.name,
            content=record_in.content,
            ttl=record_in.ttl,
            proxied=record_in.proxied,
            priority=record_in.priority,
            comment=record_in.comment,
            zone_name=zone.name,
            policy=state.policy,
        )
    except RecordRefused as exc:
        raise ApiError(400, exc.code, exc.message) from None


def _record(session: Session, zone: Zone, record_id: str) -> DnsRecord:
    record = (
        repo.get_record(session=session, zone_id=zone.id, record_id=record_id)
        if len(record_id) <= 64
        else None
    )
    if record is None:
        raise not_found("DNS record", CODE_RECORD_NOT_FOUND)
    return record


def _save(
    *,
    state: ControlState,
    session: Session,
    caller: Caller,
    zone: Zone,
    record: DnsRecord | None,
    record_in: DnsRecordCreate,
) -> DnsRecordPublic:
    """Create (record is None) or replace a record, audited, version bumped, committed."""
    spec = _spec(state, zone, record_in)
    now = state.now()
    before = None if record is None else record_public(record, zone.name).model_dump(mode="json")
    try:
        if record is None:
            record = repo.create_record(session=session, zone_id=zone.id, spec=spec, now=now)
        else:
            record = repo.update_record(session=session, record=record, spec=spec, now=now)
    except repo.RecordConflict as exc:
        raise ApiError(400, exc.code, exc.message) from None
    public = record_public(record, zone.name)
    commit_change(
        session=session,
        actor=caller.actor,
        action="dns_record.create" if before is None else "dns_record.update",
        resource_type="dns_record",
        resource_id=record.id,
        now=now,
        before=before,
        after=public.model_dump(mode="json"),
        edge_visible=True,
    )
    return public


@router.get("", response_model=Envelope[list[DnsRecordPublic]])
def list_records(
    zone_id: str,
    caller: DnsRead,
    session: SessionDep,
    page: RecordPage,
    type: Annotated[RecordType | None, Query()] = None,
    name: Annotated[str | None, Query(max_length=255)] = None,
    content: Annotated[str | None, Query(max_length=4096)] = None,
    proxied: Annotated[bool | None, Query()] = None,
) -> Envelope[list[DnsRecordPublic]]:
    zone = visible_zone(session=session, caller=caller, zone_id=zone_id)
    if name is not None:
        try:
            name = normalize_record_name(name, zone_name=zone.name)
        except InvalidName:
            name = name.lower()
    rows, total = repo.list_records(
        session=session,
        zone_id=zone.id,
        page=page,
        type=type,
        name=name,
        content=content,
        proxied=proxied,
    )
    return ok(
        [record_public(r, zone.name) for r in rows],
        result_info=page_info(page, count=len(rows), total=total),
    )


@router.post("", response_model=Envelope[DnsRecordPublic])
def create_record(
    zone_id: str,
    record_in: DnsRecordCreate,
    caller: DnsEdit,
    session: WriteSessionDep,
    state: StateDep,
) -> Envelope[DnsRecordPublic]:
    zone = visible_zone(session=session, caller=caller, zone_id=zone_id)
    return ok(
        _save(
            state=state, session=session, caller=caller, zone=zone, record=None, record_in=record_in
        )
    )


@router.get("/{record_id}", response_model=Envelope[DnsRecordPublic])
def get_record(
    zone_id: str, record_id: str, caller: DnsRead, session: SessionDep
) -> Envelope[DnsRecordPublic]:
    zone = visible_zone(session=session, caller=caller, zone_id=zone_id)
    return ok(record_public(_record(session, zone, record_id), zone.name))


@router.put("/{record_id}", response_model=Envelope[DnsRecordPublic])
def replace_record(
    zone_id: str,
    record_id: str,
    record_in: DnsRecordCreate,
    caller: DnsEdit,
    session: WriteSessionDep,
    state: StateDep,
) -> Envelope[DnsRecordPublic]:
    zone = visible_zone(session=session, caller=caller, zone_id=zone_id)
    record = _record(session, zone, record_id)
    return ok(
        _save(
            state=state,
            session=session,
            caller=caller,
            zone=zone,
            record=record,
            record_in=record_in,
        )
    )


@router.patch("/{record_id}", response_model=Envelope[DnsRecordPublic])
def update_record(
    zone_id: str,
    record_id: str,
    record_in: DnsRecordUpdate,
    caller: DnsEdit,
    session: WriteSessionDep,
    state: StateDep,
) -> Envelope[DnsRecordPublic]:
    zone = visible_zone(session=session, caller=caller, zone_id=zone_id)
    record = _record(session, zone, record_id)
    current = {
        "type": record.type,
        "name": record.name,
        "content": record.content,
        "ttl": record.ttl,
        "proxied": record.proxied,
        "priority": record.priority,
        "comment": record.comment,
    }
    changes = record_in.model_dump(exclude_unset=True)
    try:
        merged = DnsRecordCreate.model_validate(
            {**current, **{k: v for k, v in changes.items() if v is not None or k == "comment"}}
        )
    except ValidationError as exc:
        raise bad_request(f"record: {exc.errors()[0]['msg']}") from None
    return ok(
        _save(
            state=state, session=session, caller=caller, zone=zone, record=record, record_in=merged
        )
    )


@router.delete("/{record_id}", response_model=Envelope[IdResult])
def delete_record(
    zone_id: str, record_id: str, caller: DnsEdit, session: WriteSessionDep, state: StateDep
) -> Envelope[IdResult]:
    zone = visible_zone(session=session, caller=caller, zone_id=zone_id)
    record = _record(session, zone, record_id)
    before = record_public(record, zone.name).model_dump(mode="json")
    repo.delete_record(session=session, record=record)
    commit_change(
        session=session,
        actor=caller.actor,
        action="dns_record.delete",
        resource_type="dns_record",
        resource_id=record_id,
        now=state.now(),
        before=before,
        edge_visible=True,
    )
    return ok(IdResult(id=record_id))
