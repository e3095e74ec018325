"""The audit log (append-only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from veil.control.store.models import AuditEntry
from veil.control.store.repo.paging import Page, fetch_page


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: a token (id and name), or Veil itself (`id=None`)."""

    id: str | None
    name: str


SYSTEM_ACTOR = Actor(id=None, name="veil bootstrap")


def record_change(
    *,
    session: Session,
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: str,
    now: datetime,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=now,
        actor_id=actor.id,
        actor_name=actor.name[:255],
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        before=before,
        after=after,
    )
    session.add(entry)
    return entry


def list_changes(
    *,
    session: Session,
    page: Page,
    resource_type: str | None = None,
    resource_id: str | None = None,
    action: str | None = None,
) -> tuple[Sequence[AuditEntry], int]:
    statement = select(AuditEntry).order_by(AuditEntry.id.desc())
    if resource_type is not None:
        statement = statement.where(AuditEntry.resource_type == resource_type)
    if resource_id is not None:
        statement = statement.where(AuditEntry.resource_id == resource_id)
    if action is not None:
        statement = statement.where(AuditEntry.action == action)
    return fetch_page(session=session, statement=statement, page=page)
