"""Filing abuse reports the way Cloudflare's API takes them, and the submitter's view.

`POST /accounts/{account_id}/abuse-reports/{report_type}` takes Cloudflare's field names (or a
XARF v4 JSON report) with a token holding `abuse:report` (a reporter) or `abuse:desk`; the
account is the submitter's, as in Cloudflare (the operator may file for any account it lists).
The answer's `result` is the case id (what the official SDK returns); `receipt` says where the
case stands, who hosts the site and what is missing — never the origin address.
`GET …/abuse-reports/submitted[/{id}]` lists what the caller's token filed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from veil.abuse.notices import Category, Notice, Status
from veil.abuse.xarf import XarfError, is_xarf
from veil.abuse.xarf import notice_fields as xarf_fields
from veil.control.deps import AbuseReport, Caller, ListPage, SessionDep, StateDep, WriteSessionDep
from veil.control.desk.intake import file_notice
from veil.control.desk.receipts import Receipt
from veil.control.desk.reputation import Throttled
from veil.control.envelope import ApiError, bad_request, not_found, ok, page_info
from veil.control.schemas.abuse_reports import FiledEnvelope, SubmittedReport
from veil.control.schemas.common import Envelope, Message
from veil.control.store.models import AbuseCase, AbuseCaseUrl, AbuseReporter, Account
from veil.control.store.repo.paging import fetch_page
from veil.control.tokens import Permission

router = APIRouter(prefix="/accounts/{account_id}/abuse-reports", tags=["abuse reports"])
MAX_FIELD_CHARS = 20_000
CODE_REPORT = 10400  # a report we took but cannot act on as sent
CODE_THROTTLED = 10429  # a throttled reporter's report came too soon (429)

# Cloudflare's short type codes (the `type` of a listed report)
TYPE_CODES = {
    Category.DMCA: "DMCA",
    Category.TRADEMARK: "TM",
    Category.GENERAL: "GEN",
    Category.PHISHING: "PHISH",
    Category.CHILDREN: "EMER",
    Category.THREAT: "THREAT",
    Category.REGISTRAR_WHOIS: "REG_WHO",
    Category.NCSEI: "NCSEI",
}


def _account(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id) if len(account_id) <= 64 else None
    if account is None:
        raise not_found("account")
    return account


def _notice(report_type: str, body: dict[str, Any]) -> Notice:
    if is_xarf(body):
        try:
            body = xarf_fields(body)
        except XarfError as exc:
            raise bad_request(str(exc)) from None
    elif body.get("act", report_type) != report_type:
        raise bad_request(f"act {body.get('act')!r} does not match the report type {report_type!r}")
    else:
        body = {**body, "act": report_type}
    for name, value in body.items():
        if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
            raise bad_request(f"{name}: at most {MAX_FIELD_CHARS} characters")
    try:
        return Notice.from_fields(body)
    except ValueError as exc:
        raise bad_request(_why(exc, body)) from None


def _why(exc: ValueError, body: dict[str, Any]) -> str:
    if body.get("act") not in {c.value for c in Category}:
        return f"unknown report type; one of: {', '.join(c.value for c in Category)}"
    return f"invalid field: {exc}"


def _messages(receipts: list[Receipt]) -> list[Message]:
    out: list[Message] = []
    for r in receipts:
        out.append(Message(code=10000, message=f"case {r.case_id}: {r.state} ({r.status_url})"))
        if r.host is not None:
            contact = r.host.abuse_email or "no abuse contact published"
            out.append(Message(code=10001, message=f"hosted by {r.host.name} ({contact})"))
        out.extend(Message(code=10002, message=f"{p.element}: {p.repair}") for p in r.problems)
        out.extend(Message(code=10003, message=f"not on our network: {u}") for u in r.off_network)
    return out


def _link_reporter(session: Session, receipts: list[Receipt], caller: Caller) -> None:
    """A reporter token's first report ties the reporter (by e-mail) to the token."""
    if caller.grant.allows(Permission.ABUSE_DESK):
        return
    for receipt in receipts:
        case = session.get(AbuseCase, receipt.case_id)
        if case is None or case.reporter_id is None:
            continue
        reporter = session.get(AbuseReporter, case.reporter_id)
        if reporter is not None and reporter.token_id is None:
            reporter.token_id = caller.token_id


@router.post("/{report_type}", response_model=FiledEnvelope)
def create_report(
    account_id: str,
    report_type: str,
    caller: AbuseReport,
    session: WriteSessionDep,
    state: StateDep,
    body: dict[str, Any] = Body(...),  # noqa: B008 (FastAPI's idiom)
) -> JSONResponse:
    _account(session, account_id)
    notice = _notice(report_type, body)
    channel = "xarf" if is_xarf(body) else "api"
    now = state.now()
    try:
        receipts = file_notice(
            session=session, desk=state.desk, notice=notice, channel=channel, now=now
        )
    except Throttled as exc:  # reporter reputation (veil.control.desk.reputation)
        wait = max(1, int((exc.retry_at - now).total_seconds()))
        raise ApiError(429, CODE_THROTTLED, str(exc), headers={"Retry-After": str(wait)}) from None
    _link_reporter(session, receipts, caller)
    session.commit()
    invalid = any(r.validation == Status.INVALID.value for r in receipts)
    envelope = FiledEnvelope(
        success=not invalid,
        result=receipts[0].case_id if not invalid else None,
        messages=[] if invalid else _messages(receipts),
        errors=(
            [Message(code=CODE_REPORT, message=m.message) for m in _messages(receipts)]
            if invalid
            else []
        ),
        receipt=[r.to_json() for r in receipts],
    )
    return JSONResponse(envelope.model_dump(mode="json"), status_code=400 if invalid else 200)


def _submitted(session: Session, case: AbuseCase) -> SubmittedReport:
    urls = list(session.scalars(select(AbuseCaseUrl.url).where(AbuseCaseUrl.case_id == case.id)))
    denial = {
        "not_on_network": "not_on_cloudflare",
        "incomplete_awaiting_reporter": "incomplete_report",
    }.get(case.state)
    if case.state == "closed" and case.validation == Status.INVALID.value:
        denial = "incomplete_report"
    host = case.host or None
    return SubmittedReport(
        id=case.id,
        cdate=case.received_on.isoformat().replace("+00:00", "Z"),
        type=TYPE_CODES[Category(case.category)],
        act=case.category,
        status="accepted" if denial is None else "in_review",
        state=case.state,
        validation=case.validation,
        domain=case.domain,
        urls=urls,
        missing=case.problems,
        hosting_provider=(
            None
            if host is None
            else {"name": host.get("name"), "abuse_email": host.get("abuse_email")}
        ),
        denial_reason=denial,
    )


def _submitted_filter(caller: Caller) -> Any:
    if caller.grant.allows(Permission.ABUSE_DESK):
        return None
    return AbuseCase.reporter_id.in_(
        select(AbuseReporter.id).where(AbuseReporter.token_id == caller.token_id)
    )


@router.get("/submitted", response_model=Envelope[list[SubmittedReport]])
def list_submitted(
    account_id: str, caller: AbuseReport, session: SessionDep, page: ListPage
) -> Envelope[list[SubmittedReport]]:
    _account(session, account_id)
    statement = select(AbuseCase).order_by(AbuseCase.received_on.desc(), AbuseCase.id)
    where = _submitted_filter(caller)
    if where is not None:
        statement = statement.where(where)
    rows, total = fetch_page(session=session, statement=statement, page=page)
    return ok(
        [_submitted(session, c) for c in rows],
        result_info=page_info(page, count=len(rows), total=total),
    )


@router.get("/submitted/{report_id}", response_model=Envelope[SubmittedReport])
def get_submitted(
    account_id: str, report_id: str, caller: AbuseReport, session: SessionDep
) -> Envelope[SubmittedReport]:
    _account(session, account_id)
    statement = select(AbuseCase).where(AbuseCase.id == report_id[:64])
    where = _submitted_filter(caller)
    if where is not None:
        statement = statement.where(where)
    case = session.scalars(statement).first()
    if case is None:
        raise not_found("abuse report")
    return ok(_submitted(session, case))
