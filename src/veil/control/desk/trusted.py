"""Trusted reporters: vetted by the operator, agreement recorded, lapsing after inactivity;
they may receive the origin address (issue 4, "Routing and disclosure").

`vet` records the agreement and its date (`trusted_since`) and counts as activity, so a
reporter silent for longer than the lapse is trusted again from the day it is vetted; `unvet`
withdraws trust. `disclose_origin_to_trusted` is called by `intake.forward` once a notice is
valid: a trusted reporter (the case's source, judged at intake, and `reporters.is_trusted` still
true: trust not withdrawn since) gets the origin address in a mail of its own — never in the
receipt — and the disclosure is recorded, logged and shown to the customer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from veil.abuse.ledger import Source
from veil.abuse.letters import Letter
from veil.abuse.notices import Status
from veil.control.desk.context import DeskContext
from veil.control.desk.outbox import send_letter
from veil.control.desk.reporters import is_trusted
from veil.control.desk.workflow import disclose
from veil.control.store.models import AbuseCase, AbuseDisclosure, AbuseReporter

PARTY = "trusted_reporter"
WHAT = "origin_ip"


def vet(*, reporter: AbuseReporter, agreement: str, since: datetime, now: datetime) -> None:
    """Trust `reporter` under `agreement` (signed on `since`)."""
    reporter.trusted = True
    reporter.trusted_agreement = agreement
    reporter.trusted_since = since
    reporter.last_active_on = max(reporter.last_active_on, now)


def unvet(*, reporter: AbuseReporter) -> None:
    """Withdraw trust; the agreement text stays on record."""
    reporter.trusted = False
    reporter.trusted_since = None


def origin_letter(*, case: AbuseCase, operator: str, origin: str) -> Letter:
    host = case.host or {}
    lines = [
        f"You reported {case.domain} to {operator} (case {case.id}). As a trusted reporter, "
        "you receive the address of the origin server behind it.",
        "",
        f"Origin address: {origin}",
    ]
    if host.get("name"):
        contact = host.get("abuse_email") or "no abuse contact published"
        lines.append(f"Hosting provider: {host['name']} (abuse contact: {contact})")
    lines += [
        "",
        "Use it only as your trusted reporter agreement allows. This disclosure is logged and "
        "shown to our customer.",
    ]
    return Letter(
        subject=f"[case {case.id}] Origin address of {case.domain}", body="\n".join(lines)
    )


def _already_told(session: Session, case_id: str) -> bool:
    found = session.scalars(
        select(AbuseDisclosure.id).where(
            AbuseDisclosure.case_id == case_id,
            AbuseDisclosure.party == PARTY,
            AbuseDisclosure.what == WHAT,
        )
    ).first()
    return found is not None


def disclose_origin_to_trusted(
    *, session: Session, desk: DeskContext, case: AbuseCase, now: datetime
) -> bool:
    """Mail the origin address to the case's reporter if trusted and the notice is valid;
    record the disclosure. True when it was sent."""
    if case.source != Source.TRUSTED.value or case.validation != Status.COMPLETE.value:
        return False  # trust is judged at intake, before the notice counts as activity
    if not case.origin_ip or case.reporter_id is None:
        return False
    reporter = session.get(AbuseReporter, case.reporter_id)
    if reporter is None or not is_trusted(reporter, desk, now):
        return False
    session.flush()
    if _already_told(session, case.id):
        return False
    letter = origin_letter(case=case, operator=desk.settings.operator_name, origin=case.origin_ip)
    send_letter(
        session=session,
        case_id=case.id,
        party="reporter",
        to=reporter.email,
        letter=letter,
        kind="origin",
        now=now,
    )
    disclose(
        session=session,
        case_id=case.id,
        party=PARTY,
        recipient=reporter.email,
        what=WHAT,
        reason=f"trusted reporter since {_day(reporter.trusted_since)} under a recorded agreement",
        at=now,
    )
    return True


def _day(moment: datetime | None) -> str:
    return "an unknown date" if moment is None else moment.date().isoformat()
