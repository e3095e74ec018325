"""The reporter's status page for one case, and the repair form of an incomplete notice.

Access is by the secret `status_key` in the receipt's link, compared in constant time
(`secrets.compare_digest`). A wrong key and an unknown case get the same 404 page, so the page
is no oracle for which case ids exist. What the page shows is what the reporter may learn:
state, dates, the hosting provider's name and abuse contact, the reported URLs, what is
missing, the actions and their statuses — never the origin address, never who the customer is.

Repair (17 U.S.C. §512(c)(3)(B)(ii)): while the case is `incomplete_awaiting_reporter`, the
page offers the missing elements as inputs; `POST …/repair` hands them to `repair_notice`,
which validates again and forwards the notice once it is complete.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from veil.abuse.cases import CaseState
from veil.abuse.letters import category_name
from veil.abuse.notices import Category
from veil.control.desk.forwarding import case_host
from veil.control.desk.intake import repair_notice
from veil.control.state import ControlState
from veil.control.store.models import AbuseAction, AbuseCase, AbuseCaseUrl
from veil.control.web.catalog import FORMS, Field, field_for
from veil.control.web.formdata import FormRejected, client_address, limiter, read_form
from veil.control.web.render import page, problem_page, state_of
from veil.control.web.report import too_many
from veil.control.web.words import ACTION_STATUSES, ACTION_TYPES, CASE_STATES, say

router = APIRouter(include_in_schema=False)
_DUMMY_KEY = secrets.token_urlsafe(24)
_FIXED = frozenset({"act", "urls", "email"})  # repair_notice keeps these as first sent


def find_case(session: Session, case_id: str, key: str) -> AbuseCase | None:
    """The case when `key` is its status key; None for a wrong key or an unknown case alike."""
    case = session.get(AbuseCase, case_id) if 0 < len(case_id) <= 64 else None
    expected = case.status_key if case is not None else _DUMMY_KEY
    matches = secrets.compare_digest(expected.encode(), key.encode())
    return case if matches and case is not None else None


def repair_fields(case: AbuseCase) -> tuple[list[Field], list[str]]:
    """The inputs that complete this case, and the messages for what cannot be repaired here."""
    spec = FORMS.get(Category(case.category))
    if spec is None:
        return [], []
    values = {k: _text(v) for k, v in case.notice.items()}
    names: list[str] = []
    notes: list[str] = []
    for problem in case.problems:
        element = problem.get("element", "")
        name = field_for(element, values)
        if name in _FIXED or spec.field(name) is None:
            notes.append(problem.get("repair", ""))
            continue
        extra = ["owner_notification"] if name == "host_notification" else []
        names += [n for n in (name, *extra) if n not in names]
    return [f for f in spec.fields if f.name in names], notes


def _not_found(request: Request) -> HTMLResponse:
    return problem_page(
        request,
        404,
        "Case not found",
        "There is no case at this address, or the link is incomplete. Use the whole link "
        "from your receipt.",
    )


def _text(value: object) -> str:
    """A stored notice value as a form value (a checkbox is "1" or empty)."""
    if isinstance(value, bool):
        return "1" if value else ""
    return "" if value is None else str(value)


def _not_awaiting(request: Request, status_link: str) -> HTMLResponse:
    return problem_page(
        request,
        409,
        "This case is not waiting for you",
        "The report is no longer incomplete, so there is nothing to add.",
        link=status_link,
    )


def _view(session: Session, case: AbuseCase) -> dict[str, Any]:
    urls = session.scalars(
        select(AbuseCaseUrl.url).where(AbuseCaseUrl.case_id == case.id).order_by(AbuseCaseUrl.id)
    ).all()
    actions = session.scalars(
        select(AbuseAction)
        .where(AbuseAction.case_id == case.id)
        .order_by(AbuseAction.created_on, AbuseAction.id)
    ).all()
    fields, notes = repair_fields(case)
    awaiting = case.state == CaseState.INCOMPLETE_AWAITING_REPORTER.value
    return {
        "case": case,
        "category": category_name(case.category),
        "state_words": say(CASE_STATES, case.state),
        "host": case_host(case),
        "urls": list(urls),
        "actions": [
            {
                "id": a.id,
                "type": say(ACTION_TYPES, a.type),
                "status": say(ACTION_STATUSES, a.status),
                "effective_on": a.effective_on,
                "countries": list(a.countries),
            }
            for a in actions
        ],
        "problems": [p.get("repair", "") for p in case.problems],
        "repair": fields if awaiting else [],
        "repair_notes": notes if awaiting else [],
        "values": {k: _text(v) for k, v in case.notice.items()},
    }


def _load(state: ControlState, case_id: str, key: str) -> dict[str, Any] | None:
    with state.db.read() as session:
        case = find_case(session, case_id, key)
        return None if case is None else _view(session, case)


@router.get("/abuse/cases/{case_id}")
async def status_page(request: Request, case_id: str, key: str = "") -> HTMLResponse:
    view = await run_in_threadpool(_load, state_of(request), case_id, key)
    if view is None:
        return _not_found(request)
    return page(
        request,
        "case.html",
        private=True,
        title=f"Case {case_id}",
        key=key,
        action=f"/abuse/cases/{quote(case_id)}/repair?key={quote(key)}",
        **view,
    )


class _Outcome(Enum):
    NOT_FOUND = "not_found"
    NOT_AWAITING = "not_awaiting"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class _Found:
    fields: list[Field]
    awaiting: bool


def _fields_for(state: ControlState, case_id: str, key: str) -> _Found | None:
    with state.db.read() as session:
        case = find_case(session, case_id, key)
        if case is None:
            return None
        awaiting = case.state == CaseState.INCOMPLETE_AWAITING_REPORTER.value
        return _Found(repair_fields(case)[0], awaiting)


def _repair(state: ControlState, case_id: str, key: str, values: dict[str, str]) -> _Outcome:
    with state.db.write() as session:
        case = find_case(session, case_id, key)
        if case is None:
            return _Outcome.NOT_FOUND
        if case.state != CaseState.INCOMPLETE_AWAITING_REPORTER.value:
            return _Outcome.NOT_AWAITING
        repair_notice(session=session, desk=state.desk, case=case, fields=values, now=state.now())
        session.commit()
    return _Outcome.DONE


@router.post("/abuse/cases/{case_id}/repair")
async def repair(request: Request, case_id: str, key: str = "") -> Response:
    state = state_of(request)
    wait = limiter(request).allow(client_address(request), state.clock.now())
    if wait is not None:
        return too_many(request, wait)
    found = await run_in_threadpool(_fields_for, state, case_id, key)
    if found is None:
        return _not_found(request)
    status_link = f"/abuse/cases/{quote(case_id)}?key={quote(key)}"
    if not found.awaiting:
        return _not_awaiting(request, status_link)
    try:
        values = await read_form(request, found.fields)
    except FormRejected as exc:
        return problem_page(request, 400, "We could not read the form", str(exc))
    outcome = await run_in_threadpool(_repair, state, case_id, key, values)
    if outcome is _Outcome.NOT_FOUND:
        return _not_found(request)
    if outcome is _Outcome.NOT_AWAITING:
        return _not_awaiting(request, status_link)
    # Post/Redirect/Get: the status page shows the new state (and what is still missing).
    return RedirectResponse(
        status_link, status_code=303, headers={"Referrer-Policy": "no-referrer"}
    )
