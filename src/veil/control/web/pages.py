"""The desk's published pages: policy, designated agent, DSA contact, statements of reasons.

- `/abuse/policy`: the repeat-infringer policy (17 U.S.C. §512(i)(1)(A): adopted, and
  subscribers informed), how notices are handled and how fast, counter-notice rights (§512(g)).
- `/abuse/agent`: the designated agent to receive notices (§512(c)(2)).
- `/abuse/contact`: the single point of contact for authorities and users (DSA Art. 11, 12).
- `/abuse/statements/{action_id}`: the statement of reasons for an action (DSA Art. 17(3));
  the edge's 451 page links here (RFC 7725 §3). It never names the reporter or the origin.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from veil.abuse.actions import URGENT
from veil.abuse.cases import DEFAULT_DEADLINE, TRUSTED_DEADLINE, URGENT_DEADLINES
from veil.abuse.letters import category_name
from veil.abuse.notices import Category
from veil.abuse.strikes import describe
from veil.control.state import ControlState
from veil.control.store.models import AbuseAction
from veil.control.web.render import page, problem_page, state_of
from veil.control.web.words import ACTION_STATUSES, ACTION_TYPES, GROUNDS, say

router = APIRouter(include_in_schema=False)


def span(delta: timedelta) -> str:
    """A duration in plain words: `1 hour`, `72 hours`, `30 days`."""
    hours = int(delta.total_seconds() // 3600)
    if hours % 24 == 0 and hours >= 24 * 7:
        days = hours // 24
        return "1 day" if days == 1 else f"{days} days"
    return "1 hour" if hours == 1 else f"{hours} hours"


def deadlines() -> list[tuple[str, str, bool]]:
    """Per category: its name, how soon the desk handles it, whether action may be at once."""
    return [
        (
            category_name(c.value),
            span(URGENT_DEADLINES.get(c, DEFAULT_DEADLINE)),
            c in URGENT,
        )
        for c in Category
    ]


@router.get("/abuse/policy")
def policy(request: Request) -> HTMLResponse:
    desk = state_of(request).desk
    return page(
        request,
        "policy.html",
        title="How we handle abuse reports",
        repeat_infringers=describe(desk.policy),
        deadlines=deadlines(),
        trusted=span(TRUSTED_DEADLINE),
        escalate=span(desk.escalate_after),
    )


@router.get("/abuse/agent")
def agent(request: Request) -> HTMLResponse:
    settings = state_of(request).desk.settings
    configured = bool(settings.agent_name.strip() or settings.agent_email.strip())
    return page(request, "agent.html", title="Designated agent", s=settings, configured=configured)


@router.get("/abuse/contact")
def contact(request: Request) -> HTMLResponse:
    settings = state_of(request).desk.settings
    return page(
        request,
        "contact.html",
        title="Point of contact (Digital Services Act)",
        s=settings,
        configured=bool(settings.dsa_contact_email.strip()),
    )


def _statement(state: ControlState, action_id: str) -> dict[str, Any] | None:
    if not 0 < len(action_id) <= 64:
        return None
    with state.db.read() as session:
        action = session.get(AbuseAction, action_id)
        if action is None:
            return None
        doc = action.statement or {}
        return {
            "id": action.id,
            "type": say(ACTION_TYPES, action.type),
            "status": say(ACTION_STATUSES, action.status),
            "effective_on": action.effective_on,
            "targets": list(action.targets or []),
            "countries": list(action.countries or []),
            "restriction": str(doc.get("restriction", "")),
            "duration": str(doc.get("duration", "")),
            "facts": str(doc.get("facts", "")),
            "followed_notice": bool(doc.get("followed_notice", False)),
            "automated_detection": bool(doc.get("automated_detection", False)),
            "automated_decision": bool(doc.get("automated_decision", False)),
            "ground": say(GROUNDS, str(doc.get("ground", ""))),
            "ground_reference": str(doc.get("ground_reference", "")),
            "explanation": str(doc.get("explanation", "")),
            "redress": [str(r) for r in doc.get("redress", []) if str(r).strip()],
        }


@router.get("/abuse/statements/{action_id}")
async def statement(request: Request, action_id: str) -> HTMLResponse:
    view = await run_in_threadpool(_statement, state_of(request), action_id)
    if view is None:
        return problem_page(
            request, 404, "Statement not found", "There is no statement of reasons at this address."
        )
    return page(request, "statement.html", title="Statement of reasons", a=view)


@lru_cache(maxsize=1)
def _stylesheet() -> bytes:
    return files("veil.control.web").joinpath("static/desk.css").read_bytes()


@router.get("/abuse/static/desk.css")
def stylesheet() -> Response:
    return Response(
        _stylesheet(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
