"""The mail outbox: letters queued in the transaction that causes them (sent by the mailer)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from veil.abuse.letters import Letter
from veil.control.desk.workflow import case_account
from veil.control.store.models import AbuseCase, AbuseMessage, MailOutbox


def queue_mail(
    *,
    session: Session,
    to: str,
    letter: Letter,
    party: str,
    kind: str,
    now: datetime,
    case_id: str | None = None,
) -> MailOutbox:
    row = MailOutbox(
        case_id=case_id,
        party=party,
        kind=kind,
        to_addr=to,
        subject=letter.subject,
        body=letter.body,
        created_on=now,
        next_attempt_on=now,
        attempts=0,
    )
    session.add(row)
    return row


def send_letter(
    *,
    session: Session,
    case_id: str,
    party: str,
    to: str,
    letter: Letter,
    kind: str,
    now: datetime,
) -> MailOutbox:
    """Queue `letter` and keep a copy on the case's correspondence."""
    row = queue_mail(
        session=session, to=to, letter=letter, party=party, kind=kind, now=now, case_id=case_id
    )
    session.add(
        AbuseMessage(
            case_id=case_id, party=party, direction="out", kind=kind, body=letter.body, at=now
        )
    )
    return row


def mail_customer(
    *, session: Session, case: AbuseCase, letter: Letter, kind: str, now: datetime
) -> bool:
    """Send `letter` to the customer the case is about (its account's contact), if any."""
    account = case_account(session, case)
    to = account.contact_email if account is not None else None
    return _mail_party(session, case, "customer", to, letter, kind, now)


def mail_reporter(
    *, session: Session, case: AbuseCase, letter: Letter, kind: str, now: datetime
) -> bool:
    """Send `letter` to the case's reporter, if the reporter gave an address."""
    return _mail_party(session, case, "reporter", case.reporter_email, letter, kind, now)


def _mail_party(
    session: Session,
    case: AbuseCase,
    party: str,
    to: str | None,
    letter: Letter,
    kind: str,
    now: datetime,
) -> bool:
    if not to:
        return False
    send_letter(
        session=session, case_id=case.id, party=party, to=to, letter=letter, kind=kind, now=now
    )
    return True


def mail_for_case(*, session: Session, case_id: str) -> Sequence[MailOutbox]:
    return session.scalars(
        select(MailOutbox).where(MailOutbox.case_id == case_id).order_by(MailOutbox.id)
    ).all()
