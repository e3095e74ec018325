"""A customer's abuse reports, in the shape of Cloudflare's abuse-reports API, plus Veil's
due-process extras (docs/abuse.md, "Due process")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from veil.control.schemas.common import ObjectId

EntityType = Literal["url_pattern", "account", "zone"]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class MitigationSummary(BaseModel):
    accepted_url_count: int
    active_count: int
    external_host_notified: bool
    in_review_count: int
    pending_count: int


class Submitter(BaseModel):
    """Empty when the reporter's identity is withheld from the customer."""

    company: str | None = None
    email: str | None = None
    name: str | None = None
    telephone: str | None = None


class AbuseReportPublic(BaseModel):
    """Cloudflare's listed report (AbuseReportListResponse.reports[])."""

    id: str
    cdate: str
    domain: str
    mitigation_summary: MitigationSummary
    status: Literal["accepted", "in_review"]
    type: str
    justification: str | None = None
    original_work: str | None = None
    submitter: Submitter
    urls: list[str]


class AbuseReportList(BaseModel):
    reports: list[AbuseReportPublic]


class MitigationPublic(BaseModel):
    """Cloudflare's mitigation; Veil adds every target URL and the countries (empty: world)."""

    id: str
    effective_date: str
    entity_id: str
    entity_type: EntityType
    status: Literal["pending", "active", "in_review", "cancelled", "removed"]
    type: str
    targets: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)


class MitigationList(BaseModel):
    mitigations: list[MitigationPublic]


class ActionDetail(MitigationPublic):
    """A mitigation with its DSA Art. 17(3) statement of reasons (how to contest included)."""

    statement: dict[str, Any]


class DisclosurePublic(BaseModel):
    """Who was told what about the case; `recipient` is None where it would name a withheld
    reporter."""

    party: str
    recipient: str | None
    what: str
    reason: str
    at: str


class MessagePublic(BaseModel):
    party: str
    direction: str
    kind: str
    body: str
    at: str


class CounterNoticePublic(BaseModel):
    id: str
    valid: bool
    received_on: str
    restore_due_on: str | None
    lawsuit_on: str | None
    restored_on: str | None


class StrikePublic(BaseModel):
    """One strike on the account; `case_id` None for a case the caller may not see."""

    case_id: str | None
    issued_on: str
    expires_on: str
    reversed_on: str | None
    active: bool


class StrikeLedger(BaseModel):
    policy: str
    max_strikes: int
    window_days: int
    active_count: int
    verdict: str | None
    strikes: list[StrikePublic]


class AbuseReportDetail(AbuseReportPublic):
    """Cloudflare's report, plus where the case stands and what the customer may do."""

    act: str
    state: str
    validation: str
    notice: dict[str, Any]
    deadline_on: str
    escalated_on: str | None
    disclosures: list[DisclosurePublic]
    messages: list[MessagePublic]
    mitigations: list[ActionDetail]
    counter_notices: list[CounterNoticePublic]
    strikes: StrikeLedger


class AppealItem(BaseModel):
    id: ObjectId
    reason: Literal["removed", "misclassified"]


class MitigationReview(BaseModel):
    """Cloudflare's MitigationReviewParams: `appeals` (request review), or a report-level
    appeal `type` with `data` (the counter-notice form)."""

    appeals: list[AppealItem] | None = Field(default=None, max_length=100)
    type: Literal["counter_notice", "content_removed"] | None = None
    data: dict[str, Any] | None = None


class ReplyCreate(BaseModel):
    text: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


class LawsuitCreate(BaseModel):
    """What the reporter showed: the court, the docket number, the filing date."""

    court: ShortText = ""
    reference: ShortText = ""
    filed_on: ShortText = ""
