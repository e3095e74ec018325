"""The operator's abuse desk (`abuse:desk`): the queue, one case in full, actions, case
events, bulk operations, reporters (trust and reputation) and court/authority orders.

Every write ends in `commit_change` with an audit entry. Actions and orders change what the
edge enforces: `mitigations` bumps the config version itself, so the commit passes
`edge_visible=False` and the bumped version is still published after the commit (as for purges,
`veil.control.changes.reserve_version`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, Query
from sqlalchemy.orm import Session

from veil.abuse.actions import ActionEvent
from veil.abuse.cases import CaseEvent, CaseState, IllegalTransition
from veil.abuse.notices import Category
from veil.abuse.queue import OPERATOR_EVENTS
from veil.control.changes import commit_change
from veil.control.deps import AbuseDesk, ListPage, SessionDep, StateDep, WriteSessionDep
from veil.control.desk.acting import ActRequest, act, fire, forward_case, in_savepoint
from veil.control.desk.mitigations import ActionRefused, change_status
from veil.control.desk.queue import (
    QueueFilter,
    action_json,
    detail_json,
    queue_statement,
    row_json,
    under_review,
    url_counts,
)
from veil.control.envelope import ApiError, bad_request, not_found, ok, page_info
from veil.control.routers import abuse_parties
from veil.control.schemas.abuse_desk import (
    ActionCreate,
    ActionPublic,
    BulkItem,
    BulkRequest,
    CaseDetail,
    CaseEventBody,
    CaseRow,
)
from veil.control.schemas.common import Envelope
from veil.control.state import ControlState
from veil.control.store.models import AbuseAction, AbuseCase
from veil.control.store.repo.paging import fetch_page

router = APIRouter(prefix="/veil/abuse", tags=["abuse desk"])
CODE_CONFLICT = 10409  # the case or action is not in a state that allows this
OPERATOR_ACTION_EVENTS = [e.value for e in ActionEvent if e is not ActionEvent.REQUEST_REVIEW]
OPERATOR_CASE_EVENTS = sorted(e.value for e in OPERATOR_EVENTS)


def _case(session: Session, case_id: str) -> AbuseCase:
    case = session.get(AbuseCase, case_id) if len(case_id) <= 64 else None
    if case is None:
        raise not_found("abuse case")
    return case


def _conflict(exc: IllegalTransition, what: str) -> ApiError:
    return ApiError(
        409,
        CODE_CONFLICT,
        f"{what} is {exc.state.value}: {exc.event.value!r} is not possible in that state",
    )


def _enum(value: str | None, kind: type[Any], name: str) -> str | None:
    if value is None:
        return None
    allowed = [m.value for m in kind]
    if value not in allowed:
        raise bad_request(f"{name}: one of {', '.join(allowed)}")
    return value


@router.get("/cases", response_model=Envelope[list[CaseRow]])
def list_cases(
    caller: AbuseDesk,
    session: SessionDep,
    state: StateDep,
    page: ListPage,
    case_state: str | None = Query(None, alias="state", max_length=40),
    category: str | None = Query(None, max_length=40),
    source: str | None = Query(None, max_length=16),
    channel: str | None = Query(None, max_length=16),
    domain: str | None = Query(None, max_length=253),
    account: str | None = Query(None, max_length=64),
    reporter: str | None = Query(None, max_length=320),
    overdue: bool | None = None,
    escalated: bool | None = None,
) -> Envelope[list[CaseRow]]:
    """The queue: open cases by deadline (or any state with `state=`), filtered."""
    now = state.now()
    filters = QueueFilter(
        state=_enum(case_state, CaseState, "state"),
        category=_enum(category, Category, "category"),
        source=source,
        channel=channel,
        domain=domain,
        account=account,
        reporter=reporter,
        overdue=overdue,
        escalated=escalated,
    )
    rows, total = fetch_page(session=session, statement=queue_statement(filters, now), page=page)
    review = under_review(
        session=session,
        account_ids=[c.account_id for c in rows if c.account_id],
        now=now,
        policy=state.desk.policy,
    )
    counts = url_counts(session=session, case_ids=[c.id for c in rows])
    result = [
        CaseRow(**row_json(c, now=now, review=c.account_id in review, urls=counts.get(c.id, 0)))
        for c in rows
    ]
    return ok(result, result_info=page_info(page, count=len(rows), total=total))


@router.get("/cases/{case_id}", response_model=Envelope[CaseDetail])
def get_case(
    case_id: str, caller: AbuseDesk, session: SessionDep, state: StateDep
) -> Envelope[CaseDetail]:
    """Everything about one case, the origin address included (the operator only)."""
    case = _case(session, case_id)
    doc = detail_json(session=session, case=case, now=state.now(), policy=state.desk.policy)
    return ok(CaseDetail(**doc))


def _act_request(body: ActionCreate) -> ActRequest:
    reasons = body.statement.model_dump(exclude_none=True)
    if body.reason is not None and "explanation" not in reasons:
        reasons["explanation"] = body.reason
    return ActRequest(
        type=body.type,
        effective_on=body.effective_on,
        countries=tuple(body.countries),
        targets=None if body.targets is None else tuple(body.targets),
        reasons=reasons,
    )


@router.post("/cases/{case_id}/actions", response_model=Envelope[ActionPublic])
def create_action(
    case_id: str,
    body: ActionCreate,
    caller: AbuseDesk,
    session: WriteSessionDep,
    state: StateDep,
) -> Envelope[ActionPublic]:
    """An action on the case with its statement of reasons (DSA Art. 17(3)), via `propose`."""
    case = _case(session, case_id)
    now = state.now()
    try:
        action = act(
            session=session, desk=state.desk, case=case, request=_act_request(body), now=now
        )
    except ActionRefused as exc:
        raise bad_request(str(exc)) from None
    except IllegalTransition as exc:
        raise _conflict(exc, f"case {case.id}") from None
    public = ActionPublic(**action_json(action))
    commit_change(
        session=session,
        actor=caller.actor,
        action="abuse.action.create",
        resource_type="abuse_case",
        resource_id=case.id,
        now=now,
        after=public.model_dump(mode="json"),
        edge_visible=False,  # propose bumped the version; the commit publishes it
    )
    return ok(public)


@router.post("/actions/{action_id}/{event}", response_model=Envelope[ActionPublic])
def move_action(
    action_id: str,
    event: str,
    caller: AbuseDesk,
    session: WriteSessionDep,
    state: StateDep,
) -> Envelope[ActionPublic]:
    """take_effect | uphold | overturn | cancel | lift, via `change_status`."""
    if event not in OPERATOR_ACTION_EVENTS:
        raise bad_request(f"event: one of {', '.join(OPERATOR_ACTION_EVENTS)}")
    action = session.get(AbuseAction, action_id) if len(action_id) <= 64 else None
    if action is None:
        raise not_found("abuse action")
    before = action.status
    now = state.now()
    try:
        change_status(session=session, action=action, event=ActionEvent(event), now=now)
    except IllegalTransition as exc:
        raise _conflict(exc, f"action {action.id}") from None
    commit_change(
        session=session,
        actor=caller.actor,
        action=f"abuse.action.{event}",
        resource_type="abuse_action",
        resource_id=action.id,
        now=now,
        before={"status": before},
        after={"status": action.status, "case_id": action.case_id},
        edge_visible=False,  # change_status bumped the version; the commit publishes it
    )
    return ok(ActionPublic(**action_json(action)))


@router.post("/cases/{case_id}/events/{event}", response_model=Envelope[CaseDetail])
def case_event(
    case_id: str,
    event: str,
    caller: AbuseDesk,
    session: WriteSessionDep,
    state: StateDep,
    body: CaseEventBody = Body(default_factory=CaseEventBody),  # noqa: B008
) -> Envelope[CaseDetail]:
    """reply_requested | customer_replied | escalate | close (`veil.abuse.queue`)."""
    if event not in OPERATOR_CASE_EVENTS:
        raise bad_request(f"event: one of {', '.join(OPERATOR_CASE_EVENTS)}")
    case = _case(session, case_id)
    before = case.state
    now = state.now()
    try:
        fire(
            session=session,
            desk=state.desk,
            case=case,
            event=CaseEvent(event),
            now=now,
            message=body.message,
        )
    except IllegalTransition as exc:
        raise _conflict(exc, f"case {case.id}") from None
    commit_change(
        session=session,
        actor=caller.actor,
        action=f"abuse.case.{event}",
        resource_type="abuse_case",
        resource_id=case.id,
        now=now,
        before={"state": before},
        after={"state": case.state},
        edge_visible=False,
    )
    return ok(
        CaseDetail(**detail_json(session=session, case=case, now=now, policy=state.desk.policy))
    )


def _bulk_work(
    body: BulkRequest, session: Session, state: ControlState
) -> Callable[[AbuseCase], str | None]:
    now = state.now()
    desk = state.desk
    request = None if body.action is None else _act_request(body.action)

    def work(case: AbuseCase) -> str | None:
        if body.operation == "act":
            assert request is not None
            return act(session=session, desk=desk, case=case, request=request, now=now).id
        if body.operation == "forward":
            forward_case(session=session, desk=desk, case=case, now=now)
            return None
        event = {"close": CaseEvent.CLOSE, "escalate": CaseEvent.ESCALATE}.get(
            body.operation, CaseEvent.REPLY_REQUESTED
        )
        fire(session=session, desk=desk, case=case, event=event, now=now, message=body.message)
        return None

    return work


@router.post("/cases/bulk", response_model=Envelope[list[BulkItem]])
def bulk(
    body: BulkRequest,
    caller: AbuseDesk,
    session: WriteSessionDep,
    state: StateDep,
) -> Envelope[list[BulkItem]]:
    """One operation on many cases in one transaction; a result per case."""
    if body.operation == "act" and body.action is None:
        raise bad_request("action: required for the operation act")
    ids = list(dict.fromkeys(body.ids))
    work = _bulk_work(body, session, state)
    outcomes = [in_savepoint(session, case_id, work) for case_id in ids]
    commit_change(
        session=session,
        actor=caller.actor,
        action=f"abuse.bulk.{body.operation}",
        resource_type="abuse_case",
        resource_id=f"bulk:{len(ids)}",  # the ids are in `after`
        now=state.now(),
        after=[{"id": o.case_id, "success": o.success, "error": o.error} for o in outcomes],
        edge_visible=False,  # actions bumped the version themselves
    )
    return ok(
        [
            BulkItem(
                id=o.case_id, success=o.success, state=o.state, action_id=o.action_id, error=o.error
            )
            for o in outcomes
        ]
    )


router.include_router(abuse_parties.router)  # reporters and orders, under the same prefix
