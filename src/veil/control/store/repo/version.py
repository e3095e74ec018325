"""The config version: one monotonic integer, bumped in the same transaction as every change
the edge can see (zones, DNS records, zone settings)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from veil.control.store.db import BUMPED_VERSION_KEY
from veil.control.store.models import ConfigVersion


def current_version(*, session: Session) -> int:
    return int(
        session.execute(select(ConfigVersion.version).where(ConfigVersion.id == 1)).scalar_one()
    )


def bump_version(*, session: Session, now: datetime) -> int:
    """Increment the version inside the caller's transaction; the row lock (PostgreSQL) or the
    write transaction (SQLite) orders concurrent writers. Returns the new version."""
    session.flush()
    new = session.execute(
        update(ConfigVersion)
        .where(ConfigVersion.id == 1)
        .values(version=ConfigVersion.version + 1, changed_on=now)
        .returning(ConfigVersion.version)
    ).scalar_one()
    session.info[BUMPED_VERSION_KEY] = int(new)
    return int(new)
