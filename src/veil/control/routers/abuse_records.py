"""`/veil/abuse`: the desk's records for the operator (a token with `abuse:desk`, or admin).

- `GET /veil/abuse/log/verify[?head=H]` recomputes the hash chain (`veil.abuse.chain`); the
  result says ok, the row count and head, or the first bad row and why. With `head` (a
  published head hash) a rewritten or truncated log fails too.
- `GET /veil/abuse/report?since=&until=&format=json|csv|html` is the transparency report
  (DSA Art. 15) computed from the log alone; csv and html are the bodies themselves.
- `GET /veil/abuse/exports/lumen/{case_id}`: the case as a Lumen notice (redacted).
- `GET /veil/abuse/exports/dsa/{action_id}` and `GET /veil/abuse/exports/dsa?since=&until=`:
  statements of reasons in the DSA Transparency Database's shape.

`since` and `until` are a date (YYYY-MM-DD, midnight UTC) or an RFC 3339 time with an offset;
the period is [since, until). `until` defaults to now, `since` to a year before `until`."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from veil.abuse.chain import head as chain_head
from veil.abuse.chain import verify
from veil.abuse.exports import NotExportable
from veil.abuse.report import Period, to_csv, to_html
from veil.control.deps import AbuseDesk, SessionDep, StateDep
from veil.control.desk.log import read_log
from veil.control.desk.records import (
    dsa_for_action,
    dsa_for_period,
    lumen_for_case,
    transparency_report,
)
from veil.control.envelope import bad_request, not_found, ok
from veil.control.schemas.common import Envelope
from veil.control.store.models import AbuseAction, AbuseCase

router = APIRouter(prefix="/veil/abuse", tags=["abuse desk"])
DEFAULT_SPAN = timedelta(days=365)
_HEX64 = re.compile(r"[0-9a-f]{64}")

TimeParam = Annotated[str | None, Query(max_length=40)]


def _moment(name: str, raw: str) -> datetime:
    text = raw.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
        if moment.utcoffset() is not None:
            return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        pass
    raise bad_request(f"{name}: give a date (YYYY-MM-DD) or an RFC 3339 time with an offset")


def period_of(since: str | None, until: str | None, now: datetime) -> Period:
    """[since, until) from the query, with the defaults in the module doc."""
    end = now if until is None else _moment("until", until)
    try:
        start = end - DEFAULT_SPAN if since is None else _moment("since", since)
    except OverflowError:
        raise bad_request("until: too early for the default period; give since") from None
    if start >= end:
        raise bad_request("since must be before until")
    return Period(start, end)


@router.get("/log/verify", response_model=Envelope[dict[str, Any]])
def verify_log(
    caller: AbuseDesk,
    session: SessionDep,
    head: Annotated[str | None, Query(max_length=64)] = None,
) -> Envelope[dict[str, Any]]:
    if head is not None and not _HEX64.fullmatch(head):
        raise bad_request("head: a sha256 hash, 64 lowercase hex digits")
    chain = read_log(session=session)
    result = verify(chain, head=head)
    return ok(
        {
            "ok": result.ok,
            "entries": len(chain),
            "head": chain_head(chain),
            "first_bad": result.first_bad,
            "reason": result.reason,
        }
    )


@router.get("/report", response_model=None)
def report(
    caller: AbuseDesk,
    session: SessionDep,
    state: StateDep,
    since: TimeParam = None,
    until: TimeParam = None,
    format: Literal["json", "csv", "html"] = "json",
) -> Envelope[dict[str, Any]] | Response:
    now = state.now()
    made = transparency_report(session=session, period=period_of(since, until, now), now=now)
    name = f"veil-transparency-{made.period.start.date()}-{made.period.end.date()}"
    if format == "csv":
        return Response(
            to_csv(made),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if format == "html":
        return HTMLResponse(to_html(made, operator=state.desk.settings.operator_name))
    return ok(made.to_json())


@router.get("/exports/lumen/{case_id}", response_model=Envelope[dict[str, Any]])
def export_lumen(
    case_id: str, caller: AbuseDesk, session: SessionDep, state: StateDep
) -> Envelope[dict[str, Any]]:
    case = session.get(AbuseCase, case_id) if len(case_id) <= 64 else None
    if case is None:
        raise not_found("abuse case")
    try:
        document = lumen_for_case(
            session=session, case=case, recipient=state.desk.settings.operator_name
        )
    except NotExportable as exc:
        raise bad_request(str(exc)) from None
    return ok(document)


@router.get("/exports/dsa", response_model=Envelope[dict[str, Any]])
def export_dsa_period(
    caller: AbuseDesk,
    session: SessionDep,
    state: StateDep,
    since: TimeParam = None,
    until: TimeParam = None,
) -> Envelope[dict[str, Any]]:
    period = period_of(since, until, state.now())
    return ok(dsa_for_period(session=session, period=period))


@router.get("/exports/dsa/{action_id}", response_model=Envelope[dict[str, Any]])
def export_dsa(action_id: str, caller: AbuseDesk, session: SessionDep) -> Envelope[dict[str, Any]]:
    action = session.get(AbuseAction, action_id) if len(action_id) <= 64 else None
    if action is None:
        raise not_found("abuse action")
    try:
        return ok(dsa_for_action(session=session, action=action))
    except NotExportable as exc:
        raise bad_request(str(exc)) from None
