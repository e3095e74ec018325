"""Zone settings: one JSON value per (zone, setting id); absent rows mean the default."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from veil.control.store.models import ZoneSetting


def get_setting(*, session: Session, zone_id: str, setting_id: str) -> ZoneSetting | None:
    return session.get(ZoneSetting, (zone_id, setting_id))


def put_setting(
    *, session: Session, zone_id: str, setting_id: str, value: Any, now: datetime
) -> ZoneSetting:
    row = get_setting(session=session, zone_id=zone_id, setting_id=setting_id)
    if row is None:
        row = ZoneSetting(zone_id=zone_id, setting_id=setting_id, value=value, modified_on=now)
        session.add(row)
    else:
        row.value = value
        row.modified_on = now
    session.flush()
    return row


def settings_for_zones(
    *, session: Session, zone_ids: Collection[str], setting_id: str
) -> dict[str, Any]:
    """zone id -> stored value of `setting_id`, for the zones that have one."""
    statement = select(ZoneSetting).where(
        ZoneSetting.zone_id.in_(list(zone_ids)), ZoneSetting.setting_id == setting_id
    )
    return {row.zone_id: row.value for row in session.scalars(statement)}


def settings_by_zone(
    *, session: Session, zone_ids: Collection[str], setting_ids: Collection[str]
) -> dict[str, dict[str, Any]]:
    """zone id -> {setting id -> stored value}, for the zones and settings that have rows."""
    statement = select(ZoneSetting).where(
        ZoneSetting.zone_id.in_(list(zone_ids)), ZoneSetting.setting_id.in_(list(setting_ids))
    )
    result: dict[str, dict[str, Any]] = {}
    for row in session.scalars(statement):
        result.setdefault(row.zone_id, {})[row.setting_id] = row.value
    return result
