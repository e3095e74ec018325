"""Reporter reputation from the stored cases (`veil.abuse.reputation` decides).

A reporter's history is read from its cases: one notice per distinct `received_on` (a notice
spanning several zones opens several cases at the same instant); a notice is invalid when its
cases were found invalid. Duplicates that joined an open case add no case and are not counted.
`check_reputation` runs first in `veil.control.desk.intake.file_notice` and raises `Throttled`
for a notice a throttled reporter sends too soon; the API answers 429."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from veil.abuse.notices import Status
from veil.abuse.reputation import DEFAULT_RULE, Filed, Standing, ThrottleRule, admit, standing
from veil.control.store.models import AbuseCase, AbuseReporter

THROTTLED_MESSAGE = "too many invalid reports"


class Throttled(Exception):
    """A throttled reporter's notice, sent before its next one may come (HTTP 429)."""

    def __init__(self, retry_at: datetime, record: Standing) -> None:
        when = retry_at.isoformat(timespec="seconds").replace("+00:00", "Z")
        super().__init__(
            f"{THROTTLED_MESSAGE}: {record.invalid} of your last {record.notices} reports were "
            f"invalid, so we take one report per hour from you; send the next after {when}"
        )
        self.retry_at = retry_at
        self.standing = record


def history(
    *, session: Session, reporter_ids: Iterable[str], since: datetime
) -> dict[str, list[Filed]]:
    """Each reporter's notices received after `since`, oldest first."""
    ids = list(reporter_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(AbuseCase.reporter_id, AbuseCase.received_on, AbuseCase.validation)
        .where(AbuseCase.reporter_id.in_(ids), AbuseCase.received_on > since)
        .order_by(AbuseCase.received_on)
    ).all()
    notices: dict[str, dict[datetime, bool]] = {i: {} for i in ids}
    for reporter_id, at, validation in rows:
        seen = notices[str(reporter_id)]
        seen[at] = seen.get(at, False) or validation == Status.INVALID.value
    return {i: [Filed(at=at, invalid=bad) for at, bad in n.items()] for i, n in notices.items()}


def standings(
    *,
    session: Session,
    reporter_ids: Iterable[str],
    now: datetime,
    rule: ThrottleRule = DEFAULT_RULE,
) -> dict[str, Standing]:
    """The current standing of each reporter (for the operator's list)."""
    found = history(session=session, reporter_ids=reporter_ids, since=now - rule.window)
    return {i: standing(filed, now, rule) for i, filed in found.items()}


def check_reputation(
    *,
    session: Session,
    reporter: AbuseReporter | None,
    now: datetime,
    rule: ThrottleRule = DEFAULT_RULE,
) -> None:
    """Raise `Throttled` if this reporter may not file a notice now."""
    if reporter is None or reporter.id is None:
        return
    session.flush()
    filed = history(session=session, reporter_ids=[reporter.id], since=now - rule.window)
    verdict = admit(filed[reporter.id], now, rule)
    if not verdict.allowed and verdict.retry_at is not None:
        raise Throttled(verdict.retry_at, verdict.standing)
