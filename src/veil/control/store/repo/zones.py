"""Zones."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from veil.control.schemas.zones import ZoneUpdate
from veil.control.store.models import Account, Zone, new_id
from veil.control.store.repo.paging import Page, fetch_page

ZONE_ACTIVE = "active"
ZONE_PENDING = "pending"  # shown, not stored: an active zone whose account is not verified
ZoneOrder = Literal["name", "status", "account.id", "account.name", "created_on"]


class ZoneExists(Exception):
    """A zone with this name already exists (Cloudflare code 1061)."""


def create_zone(*, session: Session, name: str, account_id: str, now: datetime) -> Zone:
    if find_zone_by_name(session=session, name=name) is not None:
        raise ZoneExists(name)
    zone = Zone(
        id=new_id(),
        name=name,
        account_id=account_id,
        status=ZONE_ACTIVE,
        paused=False,
        created_on=now,
        modified_on=now,
    )
    session.add(zone)
    session.flush()
    return zone


def get_zone(*, session: Session, zone_id: str) -> Zone | None:
    return session.get(Zone, zone_id)


def find_zone_by_name(*, session: Session, name: str) -> Zone | None:
    return session.scalars(select(Zone).where(Zone.name == name)).first()


def _name_condition(name: str) -> ColumnElement[bool]:
    """Cloudflare's name filter: exact, or `contains:`, `starts_with:`, `ends_with:`."""
    operator, _, value = name.partition(":")
    value = value.lower()
    if operator == "contains":
        return Zone.name.contains(value, autoescape=True)
    if operator == "starts_with":
        return Zone.name.startswith(value, autoescape=True)
    if operator == "ends_with":
        return Zone.name.endswith(value, autoescape=True)
    return Zone.name == name.lower().rstrip(".")


def list_zones(
    *,
    session: Session,
    page: Page,
    name: str | None = None,
    status: str | None = None,
    account_id: str | None = None,
    account_name: str | None = None,
    only_ids: Collection[str] | None = None,
    order: ZoneOrder = "name",
    descending: bool = False,
) -> tuple[Sequence[Zone], int]:
    statement = select(Zone).join(Account, Zone.account_id == Account.id)
    if name is not None:
        statement = statement.where(_name_condition(name))
    if status in (ZONE_ACTIVE, ZONE_PENDING):  # pending: abuse contact unverified (KYC)
        verified = Account.contact_email_verified.is_(status == ZONE_ACTIVE)
        statement = statement.where(Zone.status == ZONE_ACTIVE, verified)
    elif status is not None:
        statement = statement.where(Zone.status == status)
    if account_id is not None:
        statement = statement.where(Zone.account_id == account_id)
    if account_name is not None:
        statement = statement.where(Account.name == account_name)
    if only_ids is not None:
        statement = statement.where(Zone.id.in_(list(only_ids)))
    column = {
        "name": Zone.name,
        "status": Zone.status,
        "account.id": Zone.account_id,
        "account.name": Account.name,
        "created_on": Zone.created_on,
    }[order]
    statement = statement.order_by(column.desc() if descending else column.asc(), Zone.id)
    return fetch_page(session=session, statement=statement, page=page)


def all_zones(*, session: Session) -> Sequence[Zone]:
    return session.scalars(select(Zone).order_by(Zone.name)).all()


def count_zones(*, session: Session, only_ids: Collection[str] | None = None) -> int:
    statement = select(func.count()).select_from(Zone)
    if only_ids is not None:
        statement = statement.where(Zone.id.in_(list(only_ids)))
    return int(session.execute(statement).scalar_one())


def update_zone(*, session: Session, zone: Zone, zone_in: ZoneUpdate, now: datetime) -> Zone:
    if zone_in.paused is not None and zone_in.paused != zone.paused:
        zone.paused = zone_in.paused
        zone.modified_on = now
    session.flush()
    return zone


def delete_zone(*, session: Session, zone: Zone) -> None:
    session.delete(zone)
    session.flush()
