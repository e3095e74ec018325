"""`/zones`: list (Cloudflare's filters), create, get, patch (paused), delete."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from veil.control.changes import commit_change
from veil.control.deps import (
    SessionDep,
    StateDep,
    WriteSessionDep,
    ZoneEdit,
    ZonePage,
    ZoneRead,
    visible_zone,
)
from veil.control.envelope import CODE_ZONE_EXISTS, ApiError, bad_request, ok, page_info
from veil.control.schemas.common import Envelope, IdResult
from veil.control.schemas.zones import ZoneCreate, ZonePublic, ZoneUpdate
from veil.control.store.models import Account, Zone
from veil.control.store.repo import zones as repo
from veil.control.store.repo.accounts import default_account, get_account
from veil.control.views import zone_public

router = APIRouter(prefix="/zones", tags=["zones"])


def _public(session: Session, zone: Zone) -> ZonePublic:
    account = session.get(Account, zone.account_id)
    assert account is not None  # foreign key
    return zone_public(zone, account)


def _exists(name: str) -> ApiError:
    return ApiError(400, CODE_ZONE_EXISTS, f"{name} already exists")


@router.get("", response_model=Envelope[list[ZonePublic]])
def list_zones(
    caller: ZoneRead,
    session: SessionDep,
    page: ZonePage,
    name: Annotated[str | None, Query(max_length=270)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    account_id: Annotated[str | None, Query(alias="account.id", max_length=64)] = None,
    account_name: Annotated[str | None, Query(alias="account.name", max_length=255)] = None,
    order: Annotated[
        Literal["name", "status", "account.id", "account.name", "created_on"], Query()
    ] = "name",
    direction: Annotated[Literal["asc", "desc"], Query()] = "asc",
) -> Envelope[list[ZonePublic]]:
    rows, total = repo.list_zones(
        session=session,
        page=page,
        name=name,
        status=status,
        account_id=account_id,
        account_name=account_name,
        only_ids=caller.grant.zone_ids,
        order=order,
        descending=direction == "desc",
    )
    return ok(
        [_public(session, z) for z in rows],
        result_info=page_info(page, count=len(rows), total=total),
    )


def _account_for_new_zone(session: Session, zone_in: ZoneCreate) -> Account:
    if zone_in.account is None:
        account = default_account(session=session)
        if account is None:
            raise bad_request("account: no account exists yet; create one first")
        return account
    account = get_account(session=session, account_id=zone_in.account.id)
    if account is None:
        raise bad_request("account.id: unknown account")
    return account


@router.post("", response_model=Envelope[ZonePublic])
def create_zone(
    zone_in: ZoneCreate, caller: ZoneEdit, session: WriteSessionDep, state: StateDep
) -> Envelope[ZonePublic]:
    if caller.grant.zone_ids is not None:
        raise ApiError(403, 9109, "A token limited to zones cannot create zones")
    account = _account_for_new_zone(session, zone_in)
    now = state.now()
    try:
        zone = repo.create_zone(session=session, name=zone_in.name, account_id=account.id, now=now)
        public = zone_public(zone, account)
        commit_change(
            session=session,
            actor=caller.actor,
            action="zone.create",
            resource_type="zone",
            resource_id=zone.id,
            now=now,
            after=public.model_dump(mode="json"),
            edge_visible=True,
        )
    except (repo.ZoneExists, IntegrityError):
        session.rollback()
        raise _exists(zone_in.name) from None
    return ok(public)


@router.get("/{zone_id}", response_model=Envelope[ZonePublic])
def get_zone(zone_id: str, caller: ZoneRead, session: SessionDep) -> Envelope[ZonePublic]:
    return ok(_public(session, visible_zone(session=session, caller=caller, zone_id=zone_id)))


@router.patch("/{zone_id}", response_model=Envelope[ZonePublic])
def update_zone(
    zone_id: str,
    zone_in: ZoneUpdate,
    caller: ZoneEdit,
    session: WriteSessionDep,
    state: StateDep,
) -> Envelope[ZonePublic]:
    zone = visible_zone(session=session, caller=caller, zone_id=zone_id)
    before = _public(session, zone).model_dump(mode="json")
    now = state.now()
    repo.update_zone(session=session, zone=zone, zone_in=zone_in, now=now)
    public = _public(session, zone)
    commit_change(
        session=session,
        actor=caller.actor,
        action="zone.update",
        resource_type="zone",
        resource_id=zone.id,
        now=now,
        before=before,
        after=public.model_dump(mode="json"),
        edge_visible=True,
    )
    return ok(public)


@router.delete("/{zone_id}", response_model=Envelope[IdResult])
def delete_zone(
    zone_id: str, caller: ZoneEdit, session: WriteSessionDep, state: StateDep
) -> Envelope[IdResult]:
    zone = visible_zone(session=session, caller=caller, zone_id=zone_id)
    before = _public(session, zone).model_dump(mode="json")
    repo.delete_zone(session=session, zone=zone)
    commit_change(
        session=session,
        actor=caller.actor,
        action="zone.delete",
        resource_type="zone",
        resource_id=zone_id,
        now=state.now(),
        before=before,
        edge_visible=True,
    )
    return ok(IdResult(id=zone_id))
