"""Actions on cases (Cloudflare's "mitigations"): proposing them and moving their status.

Theory of operation. `propose` stores an `AbuseAction` with its DSA Art. 17(3) statement of
reasons, in the status `veil.abuse.actions.initial_status` gives (urgent categories act at
once, the rest start pending so the customer can answer), moves the case, logs it, and bumps
the config version so the edge gets it in its next snapshot. A pending action ships to the edge
with its effective date and is enforced from then on its own (`veil.abuse.actions.effective`);
`take_effect` later only records the fact. `change_status` is the one way a status moves
(`veil.abuse.actions.advance`), with the case following:

    take_effect / uphold -> case action_effective (strike for copyright/trademark, §512(i))
    request_review        -> case contested (in_review; not enforced)
    overturn / cancel     -> case closed unless another action is live
    lift                  -> nothing on the case (the restore path moves it)

A `cache_purge` action is done at once: the reported URLs are purged (§512(b)(2)(E): the
material is already gone at the origin) and the action is active from then on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from veil.abuse.actions import (
    Action,
    ActionEvent,
    ActionType,
    StatementOfReasons,
    Status,
    advance,
    initial_status,
    missing_reasons,
)
from veil.abuse.cases import CaseEvent, CaseState, IllegalTransition
from veil.abuse.ledger import Event, entry
from veil.abuse.notices import Category
from veil.control.desk.log import append_log
from veil.control.desk.workflow import move
from veil.control.purges import purge_items
from veil.control.store.models import (
    AbuseAction,
    AbuseCase,
    AbuseCaseUrl,
    AbuseStrike,
    Zone,
    new_id,
)
from veil.control.store.repo.purges import add_purges
from veil.control.store.repo.version import bump_version

STRIKE_CATEGORIES = frozenset({Category.DMCA.value, Category.TRADEMARK.value})
LIVE = frozenset({Status.PENDING.value, Status.ACTIVE.value, Status.IN_REVIEW.value})


class ActionRefused(ValueError):
    """An action that cannot be taken as asked (the message says why, for the API)."""


def statement_json(statement: StatementOfReasons) -> dict[str, Any]:
    return {
        "restriction": statement.restriction,
        "duration": statement.duration,
        "facts": statement.facts,
        "followed_notice": statement.followed_notice,
        "automated_detection": statement.automated_detection,
        "automated_decision": statement.automated_decision,
        "ground": statement.ground.value,
        "ground_reference": statement.ground_reference,
        "explanation": statement.explanation,
        "redress": list(statement.redress),
        "territorial_scope": sorted(statement.territorial_scope),
        "notice_reference": statement.notice_reference,
    }


def case_urls(session: Session, case_id: str) -> list[str]:
    return list(
        session.scalars(
            select(AbuseCaseUrl.url)
            .where(AbuseCaseUrl.case_id == case_id)
            .order_by(AbuseCaseUrl.id)
        )
    )


def propose(
    *,
    session: Session,
    case: AbuseCase,
    type: ActionType,
    statement: StatementOfReasons,
    now: datetime,
    effective_on: datetime | None = None,
    targets: Sequence[str] | None = None,
    countries: Sequence[str] = (),
    status: Status | None = None,
) -> AbuseAction:
    """Store a new action on `case` (see the module doc); the caller commits."""
    missing = missing_reasons(statement)
    if missing:
        raise ActionRefused(f"the statement of reasons lacks: {', '.join(missing)}")
    if case.zone_id is None and type is not ActionType.ACCOUNT_SUSPEND:
        raise ActionRefused("the case names no URL on our network")
    chosen = list(targets) if targets is not None else case_urls(session, case.id)
    status = status or (
        Status.ACTIVE if type is ActionType.CACHE_PURGE else initial_status(Category(case.category))
    )
    when = effective_on or now
    try:
        action = Action(
            type=type,
            status=status,
            effective_date=when,
            targets=tuple(chosen) if type is not ActionType.ACCOUNT_SUSPEND else (),
            countries=frozenset(countries),
        )
    except ValueError as exc:
        raise ActionRefused(str(exc)) from None
    row = AbuseAction(
        id=new_id(),
        case_id=case.id,
        account_id=case.account_id,
        zone_id=None if type is ActionType.ACCOUNT_SUSPEND else case.zone_id,
        type=type.value,
        status=action.status.value,
        effective_on=when,
        targets=list(action.targets),
        countries=sorted(action.countries),
        statement=statement_json(statement),
        created_on=now,
        modified_on=now,
    )
    session.add(row)
    if type is ActionType.CACHE_PURGE:
        _purge(session, case, row, now)
    append_log(
        session=session,
        entry=entry(
            Event.ACTION_CREATED,
            now,
            case=case.id,
            action=row.id,
            type=row.type,
            status=row.status,
            countries=row.countries,
            automated=statement.automated_decision,
        ),
    )
    _follow_case(session, case, row, now)
    bump_version(session=session, now=now)
    return row


def _purge(session: Session, case: AbuseCase, action: AbuseAction, now: datetime) -> None:
    zone = session.get(Zone, case.zone_id)
    if zone is None:
        raise ActionRefused("the zone of this case no longer exists")
    items = purge_items(zone_name=zone.name, files=[url for url in action.targets])
    version = bump_version(session=session, now=now)
    add_purges(
        session=session,
        zone_id=zone.id,
        request_id=action.id,
        items=items,
        version=version,
        now=now,
    )


def _follow_case(session: Session, case: AbuseCase, action: AbuseAction, now: datetime) -> None:
    """Move the case as the action's status says, where the case's table allows it."""
    state = CaseState(case.state)
    if action.status == Status.ACTIVE.value:
        event = CaseEvent.ACTION_EFFECTIVE
    elif action.status == Status.PENDING.value:
        event = CaseEvent.ACTION_PROPOSED
    elif action.status == Status.IN_REVIEW.value:
        event = CaseEvent.CONTESTED
    else:
        return
    try:
        move(session=session, case=case, event=event, now=now)
    except IllegalTransition:
        # The action is what the edge enforces; the case state summarises it. A case already
        # past this step (a second action on an acting case, a review while another action is
        # in review, a restored or closed case) keeps its state rather than block the action.
        if state is CaseState.RECEIVED:
            raise
        return
    if action.status == Status.ACTIVE.value:
        case.acted_on = case.acted_on or now
        _strike(session, case, now)


def _strike(session: Session, case: AbuseCase, now: datetime) -> None:
    """A valid copyright or trademark notice acted upon is a strike (once per case)."""
    if case.category not in STRIKE_CATEGORIES or case.account_id is None:
        return
    exists = session.scalars(select(AbuseStrike.id).where(AbuseStrike.case_id == case.id)).first()
    if exists is not None:
        return
    session.add(AbuseStrike(account_id=case.account_id, case_id=case.id, issued_on=now))
    append_log(
        session=session,
        entry=entry(Event.STRIKE, now, case=case.id, account=case.account_id),
    )


def change_status(
    *, session: Session, action: AbuseAction, event: ActionEvent, now: datetime
) -> Status:
    """Move one action (`IllegalTransition` if its table forbids it), its case following;
    bumps the config version (the edge's view changes). The caller commits."""
    before = Status(action.status)
    after = advance(before, event)
    action.status = after.value
    action.modified_on = now
    append_log(
        session=session,
        entry=entry(
            Event.ACTION_STATUS,
            now,
            case=action.case_id,
            action=action.id,
            type=action.type,
            **{"from": before.value, "to": after.value},
        ),
    )
    case = session.get(AbuseCase, action.case_id)
    if case is not None:
        if after in {Status.CANCELLED} and not _other_live(session, action):
            if CaseState(case.state) in {CaseState.ACTION_PENDING, CaseState.IN_REVIEW}:
                move(session=session, case=case, event=CaseEvent.CLOSE, now=now)
        elif after is not Status.REMOVED:
            _follow_case(session, case, action, now)
    bump_version(session=session, now=now)
    return after


def _other_live(session: Session, action: AbuseAction) -> bool:
    statement = select(AbuseAction.id).where(
        AbuseAction.case_id == action.case_id,
        AbuseAction.id != action.id,
        AbuseAction.status.in_(list(LIVE)),
    )
    return session.scalars(statement).first() is not None


def due_to_take_effect(*, session: Session, now: datetime) -> Sequence[AbuseAction]:
    """Pending actions whose effective date has come (the timer records `take_effect`)."""
    return session.scalars(
        select(AbuseAction).where(
            AbuseAction.status == Status.PENDING.value, AbuseAction.effective_on <= now
        )
    ).all()
