"""The desk's timers: what happens on a case because time passed.

Theory of operation. `tick(session, desk, now)` does everything that is due at `now`, once:
every step selects only rows still waiting for it, so a second tick at the same `now` changes
nothing, and a tick that comes late catches up. Each item runs in its own savepoint: one row
the rules refuse is logged and skipped, never blocking the others.

1. Pending actions whose effective date has come take effect (`change_status`, take_effect);
   the edge already enforced them from that date (`veil.abuse.actions.effective`), this
   records it and issues the strike (§512(i)).
2. Valid counter-notices whose restore day has come with no lawsuit shown: the case's active
   actions are lifted, the case is `restored`, its strike reversed, reporter and customer told
   (17 U.S.C. §512(g)(2)(C): "not less than 10, nor more than 14, business days").
3. Valid notices the customer left unanswered for `desk.escalate_after` (30 days by default)
   are escalated, and the operator told (the failure the Tokyo court punished).
4. Accounts whose active strikes reach the repeat-infringer policy (`desk.policy`, §512(i))
   get a `suspension_review` message for the operator — once per new strike. Nothing is
   suspended automatically; a human decides. Strikes expire by themselves (they count within
   the policy's window), so expiry needs no job.

`run(state)` calls `tick` every few seconds at `state.now()` in a write transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from veil.abuse.actions import ActionEvent, Status
from veil.abuse.cases import UNANSWERED, CaseEvent, CaseState, needs_escalation
from veil.abuse.ledger import Event, entry
from veil.abuse.letters import restored, to_operator
from veil.abuse.strikes import Strike, active_strikes, policy_verdict
from veil.control.desk.context import DeskContext
from veil.control.desk.log import append_log
from veil.control.desk.mitigations import case_urls, change_status, due_to_take_effect
from veil.control.desk.outbox import mail_customer, mail_reporter, queue_mail
from veil.control.desk.workflow import move, note_message
from veil.control.store.models import (
    AbuseAction,
    AbuseCase,
    AbuseCounterNotice,
    AbuseMessage,
    AbuseStrike,
)

if TYPE_CHECKING:
    from veil.control.state import ControlState

log = logging.getLogger("veil.desk.timers")
EVERY = 5.0  # seconds between ticks
_LOCK_KEY = 0x7665696C_7469  # "veil" "ti": the advisory lock of the desk's timers
SUSPENSION_REVIEW = "suspension_review"  # the operator's flag (an AbuseMessage kind)


@dataclass(slots=True)
class TickReport:
    """What one tick did (ids), for logs and tests."""

    took_effect: list[str] = field(default_factory=list)  # action ids
    restored: list[str] = field(default_factory=list)  # case ids
    escalated: list[str] = field(default_factory=list)  # case ids
    reviews: list[str] = field(default_factory=list)  # account ids flagged for review

    def __bool__(self) -> bool:
        return bool(self.took_effect or self.restored or self.escalated or self.reviews)


def tick(session: Session, desk: DeskContext, now: datetime) -> TickReport:
    """Everything due at `now` (see the module doc); the caller commits. On PostgreSQL one
    control process ticks at a time (others skip this round); SQLite's write transaction is
    exclusive already."""
    report = TickReport()
    if not _sole_ticker(session):
        return report
    for action in due_to_take_effect(session=session, now=now):
        if _each(session, "take effect", action.id, partial(_take_effect, session, action, now)):
            report.took_effect.append(action.id)
    for counter in _due_restores(session, now):
        case_id = counter.case_id
        if _each(session, "restore", case_id, partial(_restore, session, counter, now)):
            report.restored.append(case_id)
    for case in _unanswered(session, desk, now):
        if _each(session, "escalate", case.id, partial(_escalate, session, desk, case, now)):
            report.escalated.append(case.id)
    report.reviews = repeat_infringer_reviews(session=session, desk=desk, now=now)
    return report


def _sole_ticker(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True
    taken = session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    return bool(taken.scalar_one())


def _each(session: Session, what: str, key: str, step: Callable[[], object]) -> bool:
    """Run one item in a savepoint; a refusal is logged and the item skipped."""
    try:
        with session.begin_nested():
            step()
    except ValueError as exc:  # IllegalTransition and friends: a state the rules refuse
        log.warning("timers: cannot %s %s: %s", what, key, exc)
        return False
    return True


def _take_effect(session: Session, action: AbuseAction, now: datetime) -> None:
    change_status(session=session, action=action, event=ActionEvent.TAKE_EFFECT, now=now)


# -- §512(g)(2)(C): restore after a counter-notice -------------------------------------------


def _due_restores(session: Session, now: datetime) -> Sequence[AbuseCounterNotice]:
    return session.scalars(
        select(AbuseCounterNotice)
        .where(
            AbuseCounterNotice.valid.is_(True),
            AbuseCounterNotice.lawsuit_on.is_(None),
            AbuseCounterNotice.restored_on.is_(None),
            AbuseCounterNotice.restore_due_on <= now,
        )
        .order_by(AbuseCounterNotice.restore_due_on)
    ).all()


def _restore(session: Session, counter: AbuseCounterNotice, now: datetime) -> None:
    case = session.get(AbuseCase, counter.case_id)
    if case is None:
        return
    active = session.scalars(
        select(AbuseAction).where(
            AbuseAction.case_id == case.id, AbuseAction.status == Status.ACTIVE.value
        )
    ).all()
    for action in active:
        change_status(session=session, action=action, event=ActionEvent.LIFT, now=now)
    if case.state == CaseState.COUNTER_NOTICED.value:
        move(session=session, case=case, event=CaseEvent.RESTORE_DUE, now=now)
    counter.restored_on = now
    append_log(session=session, entry=entry(Event.RESTORED, now, case=case.id))
    reverse_strike(session=session, case=case, now=now)
    urls = case_urls(session, case.id)
    letter = restored(case_id=case.id, urls=urls, to_reporter=True)
    mail_reporter(session=session, case=case, letter=letter, kind="restored", now=now)
    letter = restored(case_id=case.id, urls=urls, to_reporter=False)
    mail_customer(session=session, case=case, letter=letter, kind="restored", now=now)


def reverse_strike(*, session: Session, case: AbuseCase, now: datetime) -> None:
    """A successful counter-notice withdraws the case's strike (§512(i) ledger)."""
    strikes = session.scalars(
        select(AbuseStrike).where(AbuseStrike.case_id == case.id, AbuseStrike.reversed_on.is_(None))
    ).all()
    for strike in strikes:
        strike.reversed_on = now
        append_log(
            session=session,
            entry=entry(Event.STRIKE_REVERSED, now, case=case.id, account=strike.account_id),
        )


# -- escalation of unanswered notices --------------------------------------------------------


def last_customer_contact(session: Session, case: AbuseCase) -> datetime:
    """When the customer was last asked or last answered: the forward, a letter, a reply."""
    latest = session.scalars(
        select(func.max(AbuseMessage.at)).where(
            AbuseMessage.case_id == case.id, AbuseMessage.party == "customer"
        )
    ).first()
    moments = [case.received_on, case.forwarded_on, case.customer_replied_on, latest]
    return max(m for m in moments if m is not None)


def _unanswered(session: Session, desk: DeskContext, now: datetime) -> list[AbuseCase]:
    cutoff = now - desk.escalate_after
    candidates = session.scalars(
        select(AbuseCase)
        .where(
            AbuseCase.state.in_([s.value for s in UNANSWERED]),
            AbuseCase.received_on <= cutoff,  # the last contact is never before receipt
        )
        .order_by(AbuseCase.received_on)
    ).all()
    return [
        case
        for case in candidates
        if needs_escalation(
            CaseState(case.state),
            last_customer_contact(session, case),
            now,
            after=desk.escalate_after,
        )
    ]


def _escalate(session: Session, desk: DeskContext, case: AbuseCase, now: datetime) -> None:
    waited = (now - last_customer_contact(session, case)).days
    move(session=session, case=case, event=CaseEvent.ESCALATE, now=now)
    case.escalated_on = now
    append_log(session=session, entry=entry(Event.ESCALATED, now, case=case.id))
    text = (
        f"Case {case.id} ({case.domain}): the customer has left a valid notice unanswered for "
        f"{waited} days (the limit is {desk.escalate_after.days}). Decide what to do."
    )
    _tell_operator(session, desk, case, "escalated", "Unanswered notice escalated", text, now)


def _tell_operator(
    session: Session,
    desk: DeskContext,
    case: AbuseCase,
    kind: str,
    subject: str,
    text: str,
    now: datetime,
) -> None:
    """A message on the case for the operator's queue, and mail to the designated agent."""
    note_message(
        session=session,
        case_id=case.id,
        party="operator",
        direction="out",
        kind=kind,
        body=text,
        at=now,
    )
    if desk.settings.agent_email:
        letter = to_operator(case_id=case.id, subject=subject, text=text)
        queue_mail(
            session=session,
            to=desk.settings.agent_email,
            letter=letter,
            party="operator",
            kind=kind,
            now=now,
            case_id=case.id,
        )


# -- the repeat-infringer policy (§512(i)) ---------------------------------------------------


def account_strikes(*, session: Session, account_id: str) -> list[tuple[AbuseStrike, Strike]]:
    """An account's ledger, oldest first: each row with its pure `Strike`."""
    rows = session.scalars(
        select(AbuseStrike)
        .where(AbuseStrike.account_id == account_id)
        .order_by(AbuseStrike.issued_on, AbuseStrike.id)
    ).all()
    return [
        (
            r,
            Strike(
                account=r.account_id,
                case_id=r.case_id,
                issued_at=r.issued_on,
                reversed_at=r.reversed_on,
            ),
        )
        for r in rows
    ]


def repeat_infringer_reviews(
    *, session: Session, desk: DeskContext, now: datetime, account_id: str | None = None
) -> list[str]:
    """Flag each account the policy names (once per newest active strike); the account ids."""
    window_start = now - desk.policy.window
    statement = select(AbuseStrike.account_id).where(
        AbuseStrike.reversed_on.is_(None), AbuseStrike.issued_on > window_start
    )
    if account_id is not None:
        statement = statement.where(AbuseStrike.account_id == account_id)
    flagged: list[str] = []
    for account in sorted(set(session.scalars(statement))):
        ledger = [s for _, s in account_strikes(session=session, account_id=account)]
        verdict = policy_verdict(ledger, now, desk.policy)
        if verdict is None:
            continue
        newest = active_strikes(ledger, now, window=desk.policy.window)[-1]
        if _already_flagged(session, account, newest.issued_at):
            continue
        _flag_review(session, desk, account, newest, verdict, now)
        flagged.append(account)
    return flagged


def _already_flagged(session: Session, account_id: str, since: datetime) -> bool:
    statement = (
        select(AbuseMessage.id)
        .join(AbuseCase, AbuseCase.id == AbuseMessage.case_id)
        .where(
            AbuseCase.account_id == account_id,
            AbuseMessage.kind == SUSPENSION_REVIEW,
            AbuseMessage.at >= since,
        )
        .limit(1)
    )
    return session.scalars(statement).first() is not None


def _flag_review(
    session: Session,
    desk: DeskContext,
    account_id: str,
    newest: Strike,
    verdict: str,
    now: datetime,
) -> None:
    case = session.get(AbuseCase, newest.case_id)
    if case is None:
        return
    count = len(
        active_strikes(
            [s for _, s in account_strikes(session=session, account_id=account_id)],
            now,
            window=desk.policy.window,
        )
    )
    text = (
        f"Account {account_id} holds {count} active strikes; the repeat-infringer policy "
        f"({desk.policy.max_strikes} within {_days(desk.policy.window)} days) calls for "
        f"{verdict.replace('_', ' ')} (17 U.S.C. §512(i)). A person decides; nothing has been "
        "suspended."
    )
    _tell_operator(session, desk, case, SUSPENSION_REVIEW, "Repeat-infringer review", text, now)


def _days(window: timedelta) -> int:
    return window.days


# -- the loop --------------------------------------------------------------------------------


def tick_once(state: ControlState) -> TickReport:
    """One tick at the state's clock, in its own write transaction."""
    now = state.now()
    with state.db.write() as session:
        report = tick(session, state.desk, now)
        session.commit()
    if report:
        log.info(
            "timers: %d took effect, %d restored, %d escalated, %d for review",
            len(report.took_effect),
            len(report.restored),
            len(report.escalated),
            len(report.reviews),
        )
    return report


async def run(state: ControlState, *, every: float = EVERY) -> None:
    """Tick every `every` seconds until cancelled (the database work runs in a thread)."""
    while True:
        try:
            await asyncio.to_thread(tick_once, state)
        except Exception:  # a broken tick must not stop the desk's clock
            log.exception("timers: tick failed")
        await asyncio.sleep(every)
