"""Rendering the public pages: one Jinja2 environment (autoescaping on everywhere), one
response helper with the headers every page carries.

Headers. `Content-Security-Policy` allows our stylesheet and nothing else (no script runs on
these pages; forms post only to us); `Referrer-Policy: no-referrer` keeps the status key in a
case link from leaking to any site the page links to; case pages are `no-store` and `noindex`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from veil.control.state import ControlState

_env = Environment(
    loader=PackageLoader("veil.control.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
BASE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
PRIVATE_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


def when(moment: datetime | None) -> str:
    """A date for people: `2026-11-29 13:45 UTC`; an empty string for None."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


_env.filters["when"] = when


def state_of(request: Request) -> ControlState:
    state: ControlState = request.app.state.veil
    return state


def page(
    request: Request,
    template: str,
    *,
    status: int = 200,
    private: bool = False,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render `template` with the operator's name and the footer links available."""
    settings = state_of(request).desk.settings
    body = _env.get_template(template).render(operator=settings.operator_name, **context)
    merged = {**BASE_HEADERS, **(PRIVATE_HEADERS if private else {}), **(headers or {})}
    return HTMLResponse(body, status_code=status, headers=merged)


def problem_page(
    request: Request, status: int, title: str, message: str, **extra: Any
) -> HTMLResponse:
    """A plain error page (bad form data, not found, too many posts)."""
    return page(request, "problem.html", status=status, title=title, message=message, **extra)
