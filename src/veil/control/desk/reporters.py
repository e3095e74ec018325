"""Reporters: recorded by e-mail address on first contact; trusted when vetted and active."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from veil.control.desk.context import DeskContext
from veil.control.store.models import AbuseReporter, new_id


def reporter_for(*, session: Session, email: str, name: str, now: datetime) -> AbuseReporter | None:
    """The reporter with this e-mail address (recorded on first contact), or None if none."""
    address = email.strip().lower()
    if not address:
        return None
    reporter = session.scalars(select(AbuseReporter).where(AbuseReporter.email == address)).first()
    if reporter is None:
        reporter = AbuseReporter(
            id=new_id(),
            email=address,
            name=name.strip()[:255],
            trusted=False,
            valid_count=0,
            invalid_count=0,
            last_active_on=now,
            created_on=now,
        )
        session.add(reporter)
    return reporter


def is_trusted(reporter: AbuseReporter | None, desk: DeskContext, now: datetime) -> bool:
    """Vetted by the operator and not lapsed through inactivity."""
    if reporter is None or not reporter.trusted:
        return False
    return now - reporter.last_active_on < desk.trust_lapses_after
