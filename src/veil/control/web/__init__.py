"""The abuse desk's public pages on the control listener (issue 4): the report form, the
reporter's case status and repair form, the policy, designated-agent and DSA contact pages,
and the public statements of reasons. Server-rendered (Jinja2, autoescaped), no JavaScript,
no account; mounted at the application root, outside the API and its OpenAPI schema."""

from __future__ import annotations

from fastapi import APIRouter

from veil.control.web import cases, pages, report

web_router = APIRouter(include_in_schema=False)
web_router.include_router(report.router)
web_router.include_router(cases.router)
web_router.include_router(pages.router)

__all__ = ["web_router"]
