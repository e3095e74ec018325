"""Abuse reports in the shape of Cloudflare's abuse-reports API (docs/abuse.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from veil.control.schemas.common import Envelope


class FiledEnvelope(Envelope[str]):
    """Cloudflare answers a new report with its id as `result`; Veil adds `receipt`: one entry
    per case the report opened or joined (a report spanning several zones opens several)."""

    receipt: list[dict[str, Any]] = Field(default_factory=list)


class SubmittedReport(BaseModel):
    """A report as its submitter sees it (`GET …/abuse-reports/submitted/{id}`)."""

    id: str
    cdate: str
    type: str
    act: str
    status: str
    state: str
    validation: str
    domain: str
    urls: list[str]
    missing: list[dict[str, str]]
    hosting_provider: dict[str, Any] | None
    denial_reason: str | None = None
