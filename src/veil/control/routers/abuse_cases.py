"""The customer's side of abuse reports, in the shape of Cloudflare's abuse-reports API.

A token with `abuse:read` (reads) or `abuse:edit` (answers) sees the reports about the zones
it may see — a zone-scoped token its zones, an unscoped one the account's; `abuse:desk` and
admin see all. Anything else is the same 404 as a report that does not exist.

    GET  /accounts/{a}/abuse-reports                      list (Cloudflare's filters)
    GET  /accounts/{a}/abuse-reports/{id}                 the report + Veil's due-process view
    GET  /accounts/{a}/abuse-reports/{id}/mitigations     the actions
    POST /accounts/{a}/abuse-reports/{id}/mitigations/appeal   request review / counter-notice
    POST /accounts/{a}/abuse-reports/{id}/replies         a text answer (Veil)
    POST /accounts/{a}/abuse-reports/{id}/counter-notices/{c}/lawsuit   the operator records a
                                                          filed action (§512(g)(2)(C))

`abuse_reports` (filing, `/submitted`) is registered first: its `/submitted` paths win.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlalchemy import Select, exists, false, select
from sqlalchemy.orm import Session

from veil.abuse.actions import ActionType
from veil.abuse.notices import Category
from veil.control import abuse_views as views
from veil.control.changes import commit_change
from veil.control.deps import (
    AbuseDesk,
    AbuseEdit,
    Caller,
    ListPage,
    SessionDep,
    StateDep,
    WriteSessionDep,
    require,
)
from veil.control.desk import due_process
from veil.control.desk.due_process import Appeal, Refused
from veil.control.envelope import bad_request, error_response, not_found, ok, page_info
from veil.control.routers.abuse_reports import TYPE_CODES
from veil.control.schemas.abuse_cases import (
    AbuseReportDetail,
    AbuseReportList,
    CounterNoticePublic,
    LawsuitCreate,
    MessagePublic,
    MitigationList,
    MitigationPublic,
    MitigationReview,
    ReplyCreate,
)
from veil.control.schemas.common import Envelope
from veil.control.store.models import AbuseAction, AbuseCase, AbuseCounterNotice, Account, Zone
from veil.control.store.repo.paging import fetch_page
from veil.control.tokens import Permission

router = APIRouter(prefix="/accounts/{account_id}/abuse-reports", tags=["abuse reports"])
CaseRead = Annotated[
    Caller,
    Depends(require(Permission.ABUSE_READ, Permission.ABUSE_EDIT, Permission.ABUSE_DESK)),
]
CODE_REFUSED = 10410  # due process refused the request (the message says why)
CATEGORY_OF = {code: category for category, code in TYPE_CODES.items()}
REPORT_SORTS = {
    "id": AbuseCase.id,
    "cdate": AbuseCase.received_on,
    "domain": AbuseCase.domain,
    "type": AbuseCase.category,
    "status": AbuseCase.state,
}
MITIGATION_SORTS = {
    "type": AbuseAction.type,
    "effective_date": AbuseAction.effective_on,
    "status": AbuseAction.status,
    "entity_type": AbuseAction.type,  # account_suspend is the one account-wide type
}
Status = Literal["pending", "active", "in_review", "cancelled", "removed"]


# -- who sees what ----------------------------------------------------------------------------


def _sees_all(caller: Caller) -> bool:
    return caller.grant.allows(Permission.ABUSE_DESK)


def _account(session: Session, caller: Caller, account_id: str) -> Account:
    """The account, or 404; a zone-scoped token sees only accounts that own its zones."""
    account = session.get(Account, account_id) if len(account_id) <= 64 else None
    zone_ids = caller.grant.zone_ids
    if account is not None and zone_ids is not None and not _sees_all(caller):
        owned = select(Zone.id).where(Zone.account_id == account.id, Zone.id.in_(list(zone_ids)))
        if session.scalars(owned).first() is None:
            account = None
    if account is None:
        raise not_found("account")
    return account


def _visible(statement: Select[AbuseCase], caller: Caller, account: Account) -> Select[AbuseCase]:
    statement = statement.where(AbuseCase.account_id == account.id)
    zone_ids = caller.grant.zone_ids
    if zone_ids is not None and not _sees_all(caller):
        statement = statement.where(AbuseCase.zone_id.in_(list(zone_ids)))
    return statement


def _case(session: Session, caller: Caller, account_id: str, report_id: str) -> AbuseCase:
    account = _account(session, caller, account_id)
    statement = _visible(select(AbuseCase).where(AbuseCase.id == report_id[:64]), caller, account)
    case = session.scalars(statement).first()
    if case is None:
        raise not_found("abuse report")
    return case


def _refused(exc: Refused) -> JSONResponse:
    return error_response(exc.status, [(CODE_REFUSED, p) for p in exc.problems])


def _moment(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise bad_request(f"{name}: an RFC 3339 date-time or a date (YYYY-MM-DD)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _sorted(
    statement: Select[Any], sort: str | None, columns: dict[str, Any], tiebreak: Any
) -> Select[Any]:
    """`field` or `field,asc|desc` (Cloudflare's `sort`)."""
    if sort is None:
        return statement
    name, _, order = sort.strip().partition(",")
    column = columns.get(name.strip())
    if column is None or order.strip() not in {"", "asc", "desc"}:
        raise bad_request(
            f"sort: one of {', '.join(columns)}, optionally followed by ,asc or ,desc"
        )
    return statement.order_by(None).order_by(
        column.desc() if order.strip() == "desc" else column.asc(), tiebreak
    )


# -- reading ----------------------------------------------------------------------------------


@router.get("", response_model=Envelope[AbuseReportList])
def list_reports(
    account_id: str,
    caller: CaseRead,
    session: SessionDep,
    page: ListPage,
    status: Literal["accepted", "in_review"] | None = None,
    mitigation_status: Status | None = None,
    type: str | None = Query(default=None, max_length=16),
    domain: str | None = Query(default=None, max_length=253),
    created_after: str | None = Query(default=None, max_length=64),
    created_before: str | None = Query(default=None, max_length=64),
    sort: str | None = Query(default=None, max_length=32),
) -> Envelope[AbuseReportList]:
    account = _account(session, caller, account_id)
    statement = _visible(select(AbuseCase), caller, account).order_by(
        AbuseCase.received_on.desc(), AbuseCase.id
    )
    if status is not None:
        in_review = [s.value for s in views.IN_REVIEW_STATES]
        statement = statement.where(
            AbuseCase.state.in_(in_review)
            if status == "in_review"
            else AbuseCase.state.not_in(in_review)
        )
    if mitigation_status is not None:
        statement = statement.where(
            exists().where(
                AbuseAction.case_id == AbuseCase.id, AbuseAction.status == mitigation_status
            )
        )
    if type is not None:
        if type not in CATEGORY_OF and type != "NETWORK":
            raise bad_request(f"type: one of {', '.join([*CATEGORY_OF, 'NETWORK'])}")
        category: Category | None = CATEGORY_OF.get(type)
        statement = statement.where(
            false() if category is None else AbuseCase.category == category.value
        )
    if domain is not None:
        statement = statement.where(AbuseCase.domain == domain.strip().lower().rstrip("."))
    after, before = (
        _moment(created_after, "created_after"),
        _moment(created_before, "created_before"),
    )
    if after is not None:
        statement = statement.where(AbuseCase.received_on > after)
    if before is not None:
        statement = statement.where(AbuseCase.received_on < before)
    statement = _sorted(statement, sort, REPORT_SORTS, AbuseCase.id)
    rows, total = fetch_page(session=session, statement=statement, page=page)
    return ok(
        AbuseReportList(reports=views.report_list(session, rows)),
        result_info=page_info(page, count=len(rows), total=total),
    )


@router.get("/{report_id}", response_model=Envelope[AbuseReportDetail])
def get_report(
    account_id: str, report_id: str, caller: CaseRead, session: SessionDep, state: StateDep
) -> Envelope[AbuseReportDetail]:
    case = _case(session, caller, account_id, report_id)
    return ok(views.report_detail(session, state.desk, case, caller.grant, state.now()))


@router.get("/{report_id}/mitigations", response_model=Envelope[MitigationList])
def list_mitigations(
    account_id: str,
    report_id: str,
    caller: CaseRead,
    session: SessionDep,
    page: ListPage,
    status: Status | None = None,
    entity_type: Literal["url_pattern", "account", "zone", "custom_expression"] | None = None,
    type: Annotated[list[str] | None, Query(max_length=10)] = None,
    effective_after: str | None = Query(default=None, max_length=64),
    effective_before: str | None = Query(default=None, max_length=64),
    sort: str | None = Query(default=None, max_length=32),
) -> Envelope[MitigationList]:
    case = _case(session, caller, account_id, report_id)
    statement = (
        select(AbuseAction)
        .where(AbuseAction.case_id == case.id)
        .order_by(AbuseAction.effective_on, AbuseAction.id)
    )
    if status is not None:
        statement = statement.where(AbuseAction.status == status)
    if entity_type is not None:
        suspend = AbuseAction.type == ActionType.ACCOUNT_SUSPEND.value
        statement = statement.where(
            suspend
            if entity_type == "account"
            else ~suspend
            if entity_type == "url_pattern"
            else false()
        )
    if type:
        statement = statement.where(AbuseAction.type.in_(type))
    after = _moment(effective_after, "effective_after")
    before = _moment(effective_before, "effective_before")
    if after is not None:
        statement = statement.where(AbuseAction.effective_on > after)
    if before is not None:
        statement = statement.where(AbuseAction.effective_on < before)
    statement = _sorted(statement, sort, MITIGATION_SORTS, AbuseAction.id)
    rows, total = fetch_page(session=session, statement=statement, page=page)
    return ok(
        MitigationList(mitigations=[views.mitigation(a) for a in rows]),
        result_info=page_info(page, count=len(rows), total=total),
    )


# -- answering --------------------------------------------------------------------------------


@router.post("/{report_id}/mitigations/appeal", response_model=Envelope[list[MitigationPublic]])
def appeal(
    account_id: str,
    report_id: str,
    review: MitigationReview,
    caller: AbuseEdit,
    session: WriteSessionDep,
    state: StateDep,
) -> Any:
    """Request review of pending mitigations (`appeals`), or a report-level appeal: `type`
    counter_notice with `data` (17 U.S.C. §512(g)(3)), or content_removed."""
    case = _case(session, caller, account_id, report_id)
    now = state.now()
    try:
        if review.type == "counter_notice":
            if review.data is None:
                raise Refused("data: the counter-notice form (full_name, street_address, …)")
            due_process.receive_counter_notice(
                session=session, desk=state.desk, case=case, data=review.data, now=now
            )
            actions = _live(session, case)
        elif review.type == "content_removed":
            actions = due_process.content_removed(session=session, case=case, now=now)
        elif review.appeals:
            appeals = [Appeal(a.id, a.reason) for a in review.appeals]
            actions = due_process.request_review(
                session=session, case=case, appeals=appeals, now=now
            )
        else:
            raise Refused("send appeals [{id, reason}], or type counter_notice with data")
    except Refused as exc:
        return _refused(exc)
    result = [views.mitigation(a) for a in actions]
    _audit(session, caller, f"abuse.report.{review.type or 'appeal'}", case.id, now, result)
    return ok(result)


def _audit(
    session: Session, caller: Caller, action: str, resource_id: str, now: datetime, after: Any
) -> None:
    """Audit and commit (the desk's own log already holds the case's facts)."""
    commit_change(
        session=session,
        actor=caller.actor,
        action=action,
        resource_type="abuse_case",
        resource_id=resource_id,
        now=now,
        after=[a.model_dump(mode="json") for a in after] if isinstance(after, list) else after,
        edge_visible=False,  # change_status bumped the version where the edge's view moved
    )


def _live(session: Session, case: AbuseCase) -> list[AbuseAction]:
    return list(
        session.scalars(
            select(AbuseAction)
            .where(AbuseAction.case_id == case.id, AbuseAction.status.in_(list(views.LIVE)))
            .order_by(AbuseAction.created_on)
        )
    )


@router.post("/{report_id}/replies", response_model=Envelope[MessagePublic])
def create_reply(
    account_id: str,
    report_id: str,
    body: ReplyCreate,
    caller: AbuseEdit,
    session: WriteSessionDep,
    state: StateDep,
) -> Any:
    case = _case(session, caller, account_id, report_id)
    now = state.now()
    try:
        due_process.reply(session=session, case=case, text=body.text, now=now)
    except Refused as exc:
        return _refused(exc)
    _audit(session, caller, "abuse.report.reply", case.id, now, {"chars": len(body.text)})
    return ok(
        MessagePublic(
            party="customer",
            direction="in",
            kind="reply",
            body=body.text.strip(),
            at=views.when(now) or "",
        )
    )


@router.post(
    "/{report_id}/counter-notices/{counter_id}/lawsuit",
    response_model=Envelope[CounterNoticePublic],
)
def record_lawsuit(
    account_id: str,
    report_id: str,
    counter_id: str,
    body: LawsuitCreate,
    caller: AbuseDesk,
    session: WriteSessionDep,
    state: StateDep,
) -> Any:
    """The operator records that the reporter showed a filed action (§512(g)(2)(C))."""
    case = _case(session, caller, account_id, report_id)
    counter = session.get(AbuseCounterNotice, counter_id[:64])
    if counter is None or counter.case_id != case.id:
        raise not_found("counter-notice")
    details = {k: v for k, v in body.model_dump().items() if v}
    now = state.now()
    try:
        due_process.record_lawsuit(
            session=session, case=case, counter=counter, details=details, now=now
        )
    except Refused as exc:
        return _refused(exc)
    result = views.counter_public(counter)
    _audit(
        session,
        caller,
        "abuse.report.lawsuit",
        case.id,
        now,
        {"counter_notice": counter.id, **details},
    )
    return ok(result)
