"""One place that ends every write: audit entry, version bump (if the edge can see it),
commit — all in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from veil.control.store.repo.audit import Actor, record_change
from veil.control.store.repo.version import bump_version


def reserve_version(*, session: Session, now: datetime) -> int:
    """Bump the config version BEFORE writing rows that must carry it (purges); the caller
    ends with `commit_change(..., edge_visible=False)`, which then publishes this version."""
    return bump_version(session=session, now=now)


def commit_change(
    *,
    session: Session,
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: str,
    now: datetime,
    before: Any = None,
    after: Any = None,
    edge_visible: bool,
) -> int | None:
    """Audit and commit; returns the new config version when `edge_visible`."""
    record_change(
        session=session,
        actor=actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        now=now,
        before=before,
        after=after,
    )
    version = bump_version(session=session, now=now) if edge_visible else None
    session.commit()
    return version
