"""Reading and writing one zone setting the way every settings endpoint does: the zone must be
visible to the caller; a write is stored, audited with its before and after forms, bumps the
config version (edges see it) and commits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.orm import Session

from veil.control.changes import commit_change
from veil.control.deps import Caller, visible_zone
from veil.control.state import ControlState
from veil.control.store.models import ZoneSetting
from veil.control.store.repo.zone_settings import get_setting, put_setting

P = TypeVar("P", bound=BaseModel)


def read_setting(
    session: Session, caller: Caller, zone_id: str, setting_id: str
) -> tuple[str, ZoneSetting | None]:
    zone = visible_zone(session=session, caller=caller, zone_id=zone_id)
    return zone.id, get_setting(session=session, zone_id=zone.id, setting_id=setting_id)


def write_setting(
    *,
    session: Session,
    state: ControlState,
    caller: Caller,
    zone_id: str,
    setting_id: str,
    value: Any,
    public: Callable[[ZoneSetting | None], P],
) -> P:
    """Store `value`, audit before/after, bump the version, commit; the new public form."""
    zone_id, row = read_setting(session, caller, zone_id, setting_id)
    before = public(row)
    now = state.now()
    after = public(
        put_setting(session=session, zone_id=zone_id, setting_id=setting_id, value=value, now=now)
    )
    commit_change(
        session=session,
        actor=caller.actor,
        action="zone_setting.update",
        resource_type="zone_setting",
        resource_id=f"{zone_id}/{setting_id}",
        now=now,
        before=before.model_dump(mode="json"),
        after=after.model_dump(mode="json"),
        edge_visible=True,
    )
    return after
