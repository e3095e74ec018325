"""Forwarding a valid notice: to the customer (with the reporter's identity unless it is
withheld) and to the hosting provider (with the origin address), each disclosure recorded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from veil.abuse.cases import CaseEvent
from veil.abuse.ledger import Event, entry
from veil.abuse.letters import Letter, to_customer, to_host
from veil.abuse.notices import (
    ALWAYS_ANONYMOUS,
    Notice,
    Notification,
    reporter_identity_withheld,
)
from veil.control.desk.context import DeskContext
from veil.control.desk.hosting import HostingProvider
from veil.control.desk.log import append_log
from veil.control.desk.outbox import send_letter
from veil.control.desk.trusted import disclose_origin_to_trusted
from veil.control.desk.workflow import case_account, disclose, move
from veil.control.store.models import AbuseCase


def case_host(case: AbuseCase) -> HostingProvider | None:
    return None if case.host is None else HostingProvider.from_json(case.host)


def stored_notice(case: AbuseCase) -> Notice:
    return Notice.from_fields(case.notice)


def forward(*, session: Session, desk: DeskContext, case: AbuseCase, now: datetime) -> None:
    """Send a valid notice on: to the customer (reporter identity as the rules say) and to the
    hosting provider (with the origin address); then the case is `forwarded`."""
    notice = stored_notice(case)
    account = case_account(session, case)
    withheld = reporter_identity_withheld(notice)
    if account is not None and notice.owner_notification is not Notification.NONE:
        letter = to_customer(
            case_id=case.id,
            notice=notice,
            with_identity=not withheld,
            domain=case.domain,
            answer_url=desk.customer_url(case.id),
        )
        forward_letter(session, case, "customer", account.contact_email, letter, now)
        if not withheld:
            disclose(
                session=session,
                case_id=case.id,
                party="customer",
                recipient=account.contact_email,
                what="reporter_identity",
                reason="the notice is forwarded with the reporter's identity",
                at=now,
            )
    host = case_host(case)
    if (
        host is not None
        and host.abuse_email
        and case.origin_ip
        and notice.host_notification is not Notification.NONE
    ):
        letter = to_host(
            case_id=case.id,
            notice=notice,
            with_identity=notice.host_notification is Notification.SEND
            and notice.act not in ALWAYS_ANONYMOUS,
            domain=case.domain,
            origin=case.origin_ip,
        )
        forward_letter(session, case, "host", host.abuse_email, letter, now)
        disclose(
            session=session,
            case_id=case.id,
            party="host",
            recipient=host.abuse_email,
            what="origin_ip",
            reason="the hosting provider is told which of its addresses serves the material",
            at=now,
        )
    case.forwarded_on = now
    move(session=session, case=case, event=CaseEvent.FORWARDED, now=now)
    # operator's queue: a trusted reporter receives the origin address (veil.control.desk.trusted)
    disclose_origin_to_trusted(session=session, desk=desk, case=case, now=now)


def forward_letter(
    session: Session,
    case: AbuseCase,
    party: str,
    to: str,
    letter: Letter,
    now: datetime,
    kind: str = "forward",
) -> None:
    """Send a notice (or an order) on to `party`, and log that it was forwarded."""
    send_letter(
        session=session, case_id=case.id, party=party, to=to, letter=letter, kind=kind, now=now
    )
    append_log(session=session, entry=entry(Event.NOTICE_FORWARDED, now, case=case.id, party=party))
