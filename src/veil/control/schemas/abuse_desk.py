"""The operator's abuse desk: queue rows, case details, actions, bulk, reporters, orders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from veil.abuse.actions import ActionType, Ground
from veil.abuse.notices import Category
from veil.control.schemas.common import ObjectId

Text = Annotated[str, StringConstraints(max_length=5_000)]
Country = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4_096)]


class CaseRow(BaseModel):
    """One case in the queue."""

    id: str
    category: str
    state: str
    validation: str
    source: str
    channel: str
    domain: str
    account_id: str | None
    reporter_id: str | None
    received_on: datetime
    deadline_on: datetime
    overdue: bool
    escalated: bool
    escalated_on: datetime | None
    suspension_review: bool
    urls: int


class ActionPublic(BaseModel):
    id: str
    case_id: str
    type: str
    status: str
    effective_on: datetime
    targets: list[str]
    countries: list[str]
    statement: dict[str, Any]
    created_on: datetime
    modified_on: datetime


class CaseDetail(CaseRow):
    """Everything the operator sees on one case (the origin address included)."""

    origin_ip: str | None
    host: dict[str, Any] | None
    order: dict[str, Any] | None
    reporter_email: str
    notice: dict[str, Any]
    problems: list[dict[str, str]]
    url_list: list[str]
    forwarded_on: datetime | None
    customer_replied_on: datetime | None
    acted_on: datetime | None
    closed_on: datetime | None
    allowed_events: list[str]
    messages: list[dict[str, Any]]
    disclosures: list[dict[str, Any]]
    actions: list[ActionPublic]
    counter_notices: list[dict[str, Any]]
    strikes: list[dict[str, Any]]
    log: list[dict[str, Any]]


class Reasons(BaseModel):
    """DSA Art. 17(3) fields; any left out is filled from the case."""

    restriction: Text | None = None
    duration: Text | None = None
    facts: Text | None = None
    followed_notice: bool | None = None
    automated_detection: bool | None = None
    automated_decision: bool | None = None
    ground: Ground | None = None
    ground_reference: Text | None = None
    explanation: Text | None = None
    redress: list[Text] | None = Field(default=None, max_length=20)


class ActionCreate(BaseModel):
    type: ActionType
    effective_on: AwareDatetime | None = None
    countries: list[Country] = Field(default_factory=list, max_length=250)
    targets: list[Url] | None = Field(default=None, max_length=1_000)
    reason: Text | None = None  # shorthand for statement.explanation
    statement: Reasons = Field(default_factory=Reasons)


class CaseEventBody(BaseModel):
    message: Text = ""  # sent to the customer with reply_requested; noted on the case


class BulkRequest(BaseModel):
    ids: list[ObjectId] = Field(min_length=1, max_length=100)
    operation: Literal["close", "escalate", "reply_requested", "forward", "act"]
    action: ActionCreate | None = None  # for "act"
    message: Text = ""


class BulkItem(BaseModel):
    id: str
    success: bool
    state: str | None = None
    action_id: str | None = None
    error: str | None = None


class ReporterPublic(BaseModel):
    id: str
    email: str
    name: str
    trusted: bool
    trusted_since: datetime | None
    trusted_agreement: str | None
    trust_lapsed: bool
    valid_count: int
    invalid_count: int
    recent_notices: int
    recent_invalid: int
    throttled: bool
    last_active_on: datetime
    created_on: datetime


class TrustRequest(BaseModel):
    agreement: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)
    ]
    signed_on: AwareDatetime | None = None  # default: now


class OrderCreate(BaseModel):
    """A court or authority order (DSA Art. 9)."""

    authority: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)
    ]
    country: Country
    legal_basis: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)
    ]
    reference: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)] = ""
    scope: list[Country] = Field(default_factory=list, max_length=250)  # default: [country]
    urls: list[Url] = Field(min_length=1, max_length=1_000)
    effective_on: AwareDatetime | None = None  # default: now
    category: Category = Category.GENERAL
    explanation: Text = ""
    contact_email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=320)] = ""


class OrderResult(BaseModel):
    cases: list[str]
    actions: list[str]
    not_on_our_network: list[str]
