"""Reading the operator's queue: open cases by deadline, filters, and one case in full.

The queue is every open case ordered by `deadline_on` (then id), filtered by state, category,
source, channel, domain, account, reporter (id or e-mail), escalation and "overdue" — waiting
for the operator past its deadline (`veil.abuse.queue.is_overdue`; the same test in SQL).
A row is flagged `suspension_review` when its account's active strikes meet the
repeat-infringer policy (`veil.abuse.strikes.policy_verdict`, §512(i))."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from veil.abuse.cases import CaseState, allowed_events
from veil.abuse.queue import NEEDS_OPERATOR, OPEN, OPERATOR_EVENTS, is_overdue
from veil.abuse.strikes import RepeatInfringerPolicy, Strike, policy_verdict
from veil.control.store.models import (
    AbuseAction,
    AbuseCase,
    AbuseCaseUrl,
    AbuseCounterNotice,
    AbuseDisclosure,
    AbuseLogEntry,
    AbuseMessage,
    AbuseStrike,
)


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """The queue's filters; None means "any". Without `state`, only open cases are listed."""

    state: str | None = None
    category: str | None = None
    source: str | None = None
    channel: str | None = None
    domain: str | None = None
    account: str | None = None
    reporter: str | None = None  # a reporter id or e-mail address
    overdue: bool | None = None
    escalated: bool | None = None


def _values(states: Iterable[CaseState]) -> list[str]:
    return sorted(s.value for s in states)


def _overdue(now: datetime) -> ColumnElement[bool]:
    return and_(AbuseCase.state.in_(_values(NEEDS_OPERATOR)), AbuseCase.deadline_on <= now)


def _conditions(f: QueueFilter, now: datetime) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.state is not None:
        where.append(AbuseCase.state == f.state)
    else:
        where.append(AbuseCase.state.in_(_values(OPEN)))
    for column, value in (
        (AbuseCase.category, f.category),
        (AbuseCase.source, f.source),
        (AbuseCase.channel, f.channel),
        (AbuseCase.account_id, f.account),
    ):
        if value is not None:
            where.append(column == value)
    if f.domain is not None:
        where.append(AbuseCase.domain == f.domain.strip().lower().rstrip("."))
    if f.reporter is not None:
        who = f.reporter.strip().lower()
        where.append(or_(AbuseCase.reporter_id == f.reporter, AbuseCase.reporter_email == who))
    if f.overdue is not None:
        where.append(_overdue(now) if f.overdue else ~_overdue(now))
    if f.escalated is not None:
        escalated = or_(
            AbuseCase.state == CaseState.ESCALATED.value, AbuseCase.escalated_on.is_not(None)
        )
        where.append(escalated if f.escalated else ~escalated)
    return where


def queue_statement(f: QueueFilter, now: datetime) -> Select[Any]:
    """The queue's query: filtered, by deadline."""
    return (
        select(AbuseCase).where(*_conditions(f, now)).order_by(AbuseCase.deadline_on, AbuseCase.id)
    )


def under_review(
    *, session: Session, account_ids: Iterable[str], now: datetime, policy: RepeatInfringerPolicy
) -> set[str]:
    """The accounts whose active strikes reach the repeat-infringer policy."""
    ids = sorted(set(account_ids))
    if not ids:
        return set()
    ledgers: dict[str, list[Strike]] = {}
    for row in session.scalars(select(AbuseStrike).where(AbuseStrike.account_id.in_(ids))):
        ledgers.setdefault(row.account_id, []).append(
            Strike(row.account_id, row.case_id, row.issued_on, row.reversed_on)
        )
    return {a for a, ledger in ledgers.items() if policy_verdict(ledger, now, policy) is not None}


def url_counts(*, session: Session, case_ids: Sequence[str]) -> dict[str, int]:
    if not case_ids:
        return {}
    rows = session.execute(
        select(AbuseCaseUrl.case_id, func.count())
        .where(AbuseCaseUrl.case_id.in_(list(case_ids)))
        .group_by(AbuseCaseUrl.case_id)
    ).all()
    return {str(case_id): int(n) for case_id, n in rows}


def row_json(case: AbuseCase, *, now: datetime, review: bool, urls: int) -> dict[str, Any]:
    """A queue row (the fields of `schemas.abuse_desk.CaseRow`)."""
    return {
        "id": case.id,
        "category": case.category,
        "state": case.state,
        "validation": case.validation,
        "source": case.source,
        "channel": case.channel,
        "domain": case.domain,
        "account_id": case.account_id,
        "reporter_id": case.reporter_id,
        "received_on": case.received_on,
        "deadline_on": case.deadline_on,
        "overdue": is_overdue(CaseState(case.state), case.deadline_on, now),
        "escalated": case.state == CaseState.ESCALATED.value or case.escalated_on is not None,
        "escalated_on": case.escalated_on,
        "suspension_review": review,
        "urls": urls,
    }


def action_json(row: AbuseAction) -> dict[str, Any]:
    return {
        "id": row.id,
        "case_id": row.case_id,
        "type": row.type,
        "status": row.status,
        "effective_on": row.effective_on,
        "targets": list(row.targets),
        "countries": list(row.countries),
        "statement": dict(row.statement),
        "created_on": row.created_on,
        "modified_on": row.modified_on,
    }


def _rows(session: Session, model: Any, case_id: str, order: Any) -> Sequence[Any]:
    return session.scalars(select(model).where(model.case_id == case_id).order_by(order)).all()


def case_log(*, session: Session, case_id: str) -> list[dict[str, Any]]:
    """The hash-chained log's entries about this case, oldest first."""
    statement = (
        select(AbuseLogEntry)
        .where(AbuseLogEntry.entry["case"].as_string() == case_id)
        .order_by(AbuseLogEntry.id)
    )
    return [{**row.entry, "hash": row.hash} for row in session.scalars(statement)]


def detail_json(
    *, session: Session, case: AbuseCase, now: datetime, policy: RepeatInfringerPolicy
) -> dict[str, Any]:
    """Everything about one case, for the operator (`schemas.abuse_desk.CaseDetail`)."""
    review = case.account_id in under_review(
        session=session,
        account_ids=[case.account_id] if case.account_id else [],
        now=now,
        policy=policy,
    )
    urls = list(
        session.scalars(
            select(AbuseCaseUrl.url)
            .where(AbuseCaseUrl.case_id == case.id)
            .order_by(AbuseCaseUrl.id)
        )
    )
    strikes = (
        session.scalars(
            select(AbuseStrike)
            .where(AbuseStrike.account_id == case.account_id)
            .order_by(AbuseStrike.issued_on)
        ).all()
        if case.account_id
        else []
    )
    return {
        **row_json(case, now=now, review=review, urls=len(urls)),
        "origin_ip": case.origin_ip,
        "host": case.host,
        "order": case.order,
        "reporter_email": case.reporter_email,
        "notice": case.notice,
        "problems": case.problems,
        "url_list": urls,
        "forwarded_on": case.forwarded_on,
        "customer_replied_on": case.customer_replied_on,
        "acted_on": case.acted_on,
        "closed_on": case.closed_on,
        "allowed_events": [
            e.value for e in allowed_events(CaseState(case.state)) if e in OPERATOR_EVENTS
        ],
        "messages": [
            {"party": m.party, "direction": m.direction, "kind": m.kind, "body": m.body, "at": m.at}
            for m in _rows(session, AbuseMessage, case.id, AbuseMessage.id)
        ],
        "disclosures": [
            {
                "party": d.party,
                "recipient": d.recipient,
                "what": d.what,
                "reason": d.reason,
                "at": d.at,
            }
            for d in _rows(session, AbuseDisclosure, case.id, AbuseDisclosure.id)
        ],
        "actions": [
            action_json(a) for a in _rows(session, AbuseAction, case.id, AbuseAction.created_on)
        ],
        "counter_notices": [
            {
                "id": c.id,
                "valid": c.valid,
                "received_on": c.received_on,
                "restore_due_on": c.restore_due_on,
                "lawsuit_on": c.lawsuit_on,
                "restored_on": c.restored_on,
                "fields": c.fields,
            }
            for c in _rows(session, AbuseCounterNotice, case.id, AbuseCounterNotice.received_on)
        ],
        "strikes": [
            {"case_id": s.case_id, "issued_on": s.issued_on, "reversed_on": s.reversed_on}
            for s in strikes
        ],
        "log": case_log(session=session, case_id=case.id),
    }
