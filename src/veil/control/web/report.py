"""The public report form: choose a type, fill it in, get a receipt. No account needed.

Flow. `GET /abuse` lists the report types; `GET /abuse/new/{type}` (or `/abuse?type=…`) is the
form. `POST /abuse/new/{type}` reads the form (bounded, `formdata`), builds a `Notice` and
validates it (pure):

- invalid (it lacks what no notice can do without, e.g. the URLs, or §512(c)(3)(A)(ii)-(iv)
  for copyright): nothing is filed; the form comes back with the reporter's values and an
  error beside each field, so typos do not count against the reporter's reputation;
- complete, or a copyright notice with (ii)-(iv) that lacks other elements: filed through
  `file_notice` (channel "form"). An incomplete one is kept open "awaiting reporter", as
  §512(c)(3)(B)(ii) wants, and the receipt names exactly what is missing.

The receipt is the reporter's view: case ids, status links, the hosting provider's name and
abuse contact, the "not on our network" addresses. Never the origin address.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from veil.abuse.notices import Notice, Problem, Status, validate
from veil.control.desk.intake import file_notice
from veil.control.desk.receipts import Receipt
from veil.control.desk.reputation import Throttled
from veil.control.state import ControlState
from veil.control.web.catalog import FORMS, FormSpec, field_for, spec_for
from veil.control.web.formdata import FormRejected, client_address, limiter, read_form
from veil.control.web.render import page, problem_page, state_of
from veil.control.web.words import CASE_STATES, say

router = APIRouter(include_in_schema=False)


def _unknown_type(request: Request, raw: str) -> HTMLResponse:
    return problem_page(
        request,
        400,
        "Unknown report type",
        f"There is no report type called “{raw[:80]}”. Choose one from the list.",
    )


@router.get("/abuse")
def choose(request: Request, type: str | None = None) -> HTMLResponse:
    """The list of report types, or the form for `?type=`."""
    if type is None:
        return page(request, "choose.html", title="Report abuse", forms=list(FORMS.values()))
    return new_report(request, type)


@router.get("/abuse/new/{report_type}")
def new_report(request: Request, report_type: str) -> HTMLResponse:
    spec = spec_for(report_type)
    if spec is None:
        return _unknown_type(request, report_type)
    values = {f.name: f.default for f in spec.fields}
    return form_page(request, spec, values, ())


def errors_by_field(
    spec: FormSpec, problems: Sequence[Problem], values: Mapping[str, str]
) -> tuple[dict[str, list[str]], list[tuple[str | None, str]]]:
    """Per input, the messages beside it; and the summary (input id or None, message)."""
    beside: dict[str, list[str]] = {}
    elsewhere: list[tuple[str | None, str]] = []
    for problem in problems:
        name = field_for(problem.element, values)
        if spec.field(name) is None:
            elsewhere.append((None, problem.repair))
        else:
            beside.setdefault(name, []).append(problem.repair)
    in_order = [(f.name, m) for f in spec.fields for m in beside.get(f.name, [])]
    return beside, [*in_order, *elsewhere]  # the summary follows the page's order


def form_page(
    request: Request,
    spec: FormSpec,
    values: Mapping[str, str],
    problems: Sequence[Problem],
    *,
    status: int = 200,
) -> HTMLResponse:
    beside, summary = errors_by_field(spec, problems, values)
    return page(
        request,
        "form.html",
        status=status,
        title=f"Report: {spec.title}",
        spec=spec,
        values=values,
        errors=beside,
        summary=summary,
        action=f"/abuse/new/{spec.category.value}",
    )


def _file(state: ControlState, notice: Notice) -> list[Receipt]:
    with state.db.write() as session:
        receipts = file_notice(
            session=session, desk=state.desk, notice=notice, channel="form", now=state.now()
        )
        session.commit()
    return receipts


def too_many(request: Request, wait: float) -> HTMLResponse:
    minutes = max(1, round(wait / 60))
    return problem_page(
        request,
        429,
        "Too many reports from your address",
        f"Please wait about {minutes} minute(s) and send again. Many reports can be sent in "
        "one: list every address in the same report, one per line.",
        headers={"Retry-After": str(int(wait) + 1)},
    )


@router.post("/abuse/new/{report_type}")
async def submit(request: Request, report_type: str) -> HTMLResponse:
    spec = spec_for(report_type)
    if spec is None:
        return _unknown_type(request, report_type)
    state = state_of(request)
    wait = limiter(request).allow(client_address(request), state.clock.now())
    if wait is not None:
        return too_many(request, wait)
    try:
        values = await read_form(request, spec.fields)
    except FormRejected as exc:
        return problem_page(request, 400, "We could not read the form", str(exc))
    notice = Notice.from_fields({**values, "act": spec.category.value})
    verdict = validate(notice)
    if verdict.status is Status.INVALID:
        return form_page(request, spec, values, verdict.problems, status=422)
    try:
        receipts = await run_in_threadpool(_file, state, notice)
    except Throttled as exc:  # a reporter whose notices are repeatedly invalid
        wait = max(0.0, (exc.retry_at - state.now()).total_seconds())
        return problem_page(
            request,
            429,
            "Too many invalid reports",
            str(exc),
            headers={"Retry-After": str(int(wait) + 1)},
        )
    return page(
        request,
        "receipt.html",
        private=True,
        title="Report received",
        spec=spec,
        receipts=receipts,
        incomplete=verdict.status is Status.INCOMPLETE_AWAITING_REPORTER,
        mailed=bool(notice.email.strip()),
        state_words=lambda value: say(CASE_STATES, value),
    )
