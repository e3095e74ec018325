"""Moving a stored case through `veil.abuse.cases` and logging what happened.

Every state change of a stored case goes through `move`: the pure table decides, the row
takes the new state, and the hash-chained log records `case_state`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from veil.abuse.cases import CaseEvent, CaseState, transition
from veil.abuse.ledger import Event, entry
from veil.control.desk.log import append_log
from veil.control.store.models import AbuseCase, AbuseDisclosure, AbuseMessage, Account


def move(*, session: Session, case: AbuseCase, event: CaseEvent, now: datetime) -> CaseState:
    """Apply `event` (IllegalTransition when the table has no such step) and log it."""
    before = CaseState(case.state)
    after = transition(before, event)
    case.state = after.value
    case.modified_on = now
    if after is CaseState.CLOSED:
        case.closed_on = now
    append_log(
        session=session,
        entry=entry(Event.CASE_STATE, now, case=case.id, **{"from": before.value, "to": after}),
    )
    return after


def note_message(
    *,
    session: Session,
    case_id: str,
    party: str,
    direction: str,
    kind: str,
    body: str,
    at: datetime,
) -> None:
    session.add(
        AbuseMessage(case_id=case_id, party=party, direction=direction, kind=kind, body=body, at=at)
    )


def disclose(
    *,
    session: Session,
    case_id: str,
    party: str,
    recipient: str,
    what: str,
    reason: str,
    at: datetime,
) -> None:
    """Record (and log) that `party` was told `what` — shown to the customer on their case."""
    session.add(
        AbuseDisclosure(
            case_id=case_id, party=party, recipient=recipient, what=what, reason=reason, at=at
        )
    )
    append_log(
        session=session,
        entry=entry(Event.DISCLOSURE, at, case=case_id, party=party, what=what),
    )


def case_account(session: Session, case: AbuseCase) -> Account | None:
    """The customer account the case is about (None off the network or once deleted)."""
    return session.get(Account, case.account_id) if case.account_id else None
