"""What the operator does to cases: actions with their statement of reasons, case events,
forwarding, and the same for many cases at once.

Actions go through `veil.control.desk.mitigations.propose` (the one way they are made). The
statement of reasons (DSA Art. 17(3)) starts from `veil.abuse.queue.default_statement` and
takes the operator's overrides; its territorial scope is always the action's countries. An
effective date in the future makes the action pending until then, whatever the category.
Without a date, a non-urgent action waits `CUSTOMER_ANSWER_PERIOD` (72 h) for the customer's
answer or review request — a pending action is enforced from its date on, so "pending" with
the date of now would give the customer no time at all; urgent ones act at once.

Bulk: each case runs in a savepoint of the caller's transaction, so one case that fails leaves
no half-done rows and the others still go through; the caller commits once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from veil.abuse.actions import (
    ActionType,
    Ground,
    StatementOfReasons,
    Status,
    country_codes,
    initial_status,
)
from veil.abuse.cases import CaseEvent, CaseState, IllegalTransition
from veil.abuse.ledger import Event, Source, entry
from veil.abuse.letters import Letter
from veil.abuse.notices import Category
from veil.abuse.queue import (
    CUSTOMER_ANSWER_PERIOD,
    OPERATOR_EVENTS,
    CaseFacts,
    default_statement,
)
from veil.abuse.urls import normalise_url
from veil.control.desk.context import DeskContext
from veil.control.desk.forwarding import forward
from veil.control.desk.log import append_log
from veil.control.desk.mitigations import ActionRefused, case_urls, propose
from veil.control.desk.outbox import mail_customer
from veil.control.desk.workflow import move, note_message
from veil.control.store.db import BUMPED_VERSION_KEY
from veil.control.store.models import AbuseAction, AbuseCase

CLOSED = frozenset({CaseState.CLOSED.value, CaseState.NOT_ON_NETWORK.value})


@dataclass(frozen=True, slots=True)
class ActRequest:
    """An action the operator asks for; `reasons` overrides fields of the default statement."""

    type: ActionType
    effective_on: datetime | None = None
    countries: tuple[str, ...] = ()
    targets: tuple[str, ...] | None = None
    reasons: Mapping[str, Any] = field(default_factory=dict)


def _targets(asked: Sequence[str] | None, urls: Sequence[str]) -> list[str]:
    """The asked targets in canonical form, each one a URL of the case."""
    if asked is None:
        return list(urls)
    chosen: list[str] = []
    for url in asked:
        canonical = normalise_url(url)
        if canonical is None:
            raise ActionRefused(f"not an http(s) URL: {url!r}")
        if canonical.canonical not in urls:
            raise ActionRefused(f"not a URL of this case: {canonical.canonical}")
        chosen.append(canonical.canonical)
    if not chosen:
        raise ActionRefused("targets: name at least one URL of the case (or leave targets out)")
    return chosen


def facts_of(case: AbuseCase, urls: Sequence[str], desk: DeskContext) -> CaseFacts:
    notice = case.notice or {}
    return CaseFacts(
        case_id=case.id,
        category=Category(case.category),
        received_on=case.received_on,
        urls=tuple(urls),
        work=str(notice.get("original_work") or ""),
        explanation=str(notice.get("justification") or notice.get("comments") or ""),
        customer_url=desk.customer_url(case.id),
        operator=desk.settings.operator_name,
    )


def statement_for(
    *,
    case: AbuseCase,
    desk: DeskContext,
    request: ActRequest,
    urls: Sequence[str],
    targets: Sequence[str],
) -> StatementOfReasons:
    """The default statement for this action, with the operator's overrides."""
    fields = default_statement(facts_of(case, urls, desk), request.type, targets, request.countries)
    fields.update({k: v for k, v in request.reasons.items() if v is not None})
    fields["territorial_scope"] = frozenset(request.countries)
    fields["ground"] = Ground(fields["ground"])
    fields["redress"] = tuple(fields["redress"])
    try:
        return StatementOfReasons(**fields)
    except ValueError as exc:
        raise ActionRefused(str(exc)) from None


def _effective_on(case: AbuseCase, request: ActRequest, now: datetime) -> datetime | None:
    """The operator's date, else: non-urgent categories wait for the customer's answer."""
    if request.effective_on is not None:
        return request.effective_on.astimezone(UTC)
    if request.type is ActionType.CACHE_PURGE or case.source == Source.AUTHORITY.value:
        return None
    if initial_status(Category(case.category)) is Status.PENDING:
        return now + CUSTOMER_ANSWER_PERIOD
    return None


def act(
    *, session: Session, desk: DeskContext, case: AbuseCase, request: ActRequest, now: datetime
) -> AbuseAction:
    """Propose an action on `case` (ActionRefused / IllegalTransition say why not)."""
    if case.state in CLOSED:
        raise ActionRefused(f"case {case.id} is {case.state}; reopen it by a new notice")
    try:
        countries = tuple(sorted(country_codes(request.countries)))
    except ValueError as exc:
        raise ActionRefused(f"countries: {exc}") from None
    request = replace(request, countries=countries)
    urls = case_urls(session, case.id)
    targets = _targets(request.targets, urls)
    statement = statement_for(case=case, desk=desk, request=request, urls=urls, targets=targets)
    when = _effective_on(case, request, now)
    status: Status | None = None
    if when is not None and when > now:
        if request.type is ActionType.CACHE_PURGE:
            raise ActionRefused("a cache purge takes effect at once: leave effective_on out")
        status = Status.PENDING
    return propose(
        session=session,
        case=case,
        type=request.type,
        statement=statement,
        now=now,
        effective_on=when,
        targets=None if request.type is ActionType.ACCOUNT_SUSPEND else targets,
        countries=request.countries,
        status=status,
    )


def _reply_letter(case: AbuseCase, desk: DeskContext, message: str) -> Letter:
    lines = [
        f"We are waiting for your answer on case {case.id} about {case.domain}.",
        "",
        *([message.strip(), ""] if message.strip() else []),
        f"Please answer here: {desk.customer_url(case.id)}",
        "Unanswered valid notices are escalated.",
    ]
    return Letter(subject=f"[case {case.id}] Your answer is needed", body="\n".join(lines))


def fire(
    *,
    session: Session,
    desk: DeskContext,
    case: AbuseCase,
    event: CaseEvent,
    now: datetime,
    message: str = "",
) -> CaseState:
    """A case event the operator may fire (`veil.abuse.queue.OPERATOR_EVENTS`)."""
    if event not in OPERATOR_EVENTS:
        allowed = ", ".join(sorted(e.value for e in OPERATOR_EVENTS))
        raise ActionRefused(f"the operator cannot fire {event.value!r}; one of: {allowed}")
    after = move(session=session, case=case, event=event, now=now)
    if event is CaseEvent.ESCALATE:
        case.escalated_on = now
        append_log(session=session, entry=entry(Event.ESCALATED, now, case=case.id))
    elif event is CaseEvent.CUSTOMER_REPLIED:
        case.customer_replied_on = now
    if event is CaseEvent.REPLY_REQUESTED:
        _ask_customer(session, desk, case, message, now)
    elif message.strip():
        note_message(
            session=session,
            case_id=case.id,
            party="operator",
            direction="in",
            kind=event.value,
            body=message,
            at=now,
        )
    return after


def _ask_customer(
    session: Session, desk: DeskContext, case: AbuseCase, message: str, now: datetime
) -> None:
    letter = _reply_letter(case, desk, message)
    mail_customer(session=session, case=case, letter=letter, kind="reply_requested", now=now)


def forward_case(*, session: Session, desk: DeskContext, case: AbuseCase, now: datetime) -> None:
    """Forward a valid case the queue holds (intake forwards complete notices itself)."""
    if case.state != CaseState.VALID.value:
        raise ActionRefused(f"case {case.id} is {case.state}; only a valid case can be forwarded")
    forward(session=session, desk=desk, case=case, now=now)


@dataclass(frozen=True, slots=True)
class Outcome:
    case_id: str
    success: bool
    state: str | None = None
    action_id: str | None = None
    error: str | None = None


def in_savepoint(
    session: Session, case_id: str, work: Callable[[AbuseCase], str | None]
) -> Outcome:
    """Run `work` on one case in a savepoint; a refusal undoes that case only."""
    bumped = session.info.get(BUMPED_VERSION_KEY)
    case = session.get(AbuseCase, case_id)
    if case is None:
        return Outcome(case_id, False, error="case not found")
    savepoint = session.begin_nested()
    try:
        action_id = work(case)
        savepoint.commit()
    except (ActionRefused, IllegalTransition) as exc:
        savepoint.rollback()
        if bumped is None:
            session.info.pop(BUMPED_VERSION_KEY, None)
        else:
            session.info[BUMPED_VERSION_KEY] = bumped
        session.refresh(case)
        return Outcome(case_id, False, state=case.state, error=str(exc))
    return Outcome(case_id, True, state=case.state, action_id=action_id)
