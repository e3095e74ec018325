"""Enforcement actions after Cloudflare's mitigations, their statuses, and statements of reasons.

Theory of operation. An `Action` is what the desk does about a case: a `legal_block` (HTTP 451,
RFC 7725), the same block scoped to the countries an order covers, a click-through
`phishing_interstitial` or `misleading_interstitial`, a `cache_purge` of the reported URLs (the
material is gone at the origin, §512(b)(2)(E)), or an `account_suspend`. Its `Status` changes
only through `advance(status, event)` and `STATUS_TRANSITIONS`:

    pending --take_effect--> active --lift--> removed
    pending --request_review--> in_review --uphold--> active | --overturn--> cancelled
    pending --cancel--> cancelled

Review. Cloudflare's "Request Review" cancels a *pending* block (blocked-content.mdx); issue 4
says "request review moves a pending action to in_review". Our reading: only a pending action
can be put in review, and while in review it is not enforced even after its effective date. An
active action is contested by a counter-notice (§512(g)) or a complaint that ends in `lift`.

Effect. `effective(action, now)` is what the edge enforces: an active action, or a pending one
whose `effective_date` has come (the edge need not wait for a job to flip the status).
Urgent categories (CSAM, phishing, threats) start active (`initial_status`); the others start
pending so the customer can answer first.

Scope. `applies_to(action, url, client_country)`: the URL must be one the action targets
(compared in canonical form; `account_suspend` covers everything), and for a geo-scoped action
the client's country (ISO 3166-1 alpha-2, any case) must be in its list. An empty list means
worldwide. An unknown client country is *not* blocked by a geo-scoped action: the order covers
named countries, and blocking the unknown would block the world.

Every datetime is timezone-aware UTC (see `veil.abuse.cases.require_utc`). Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum

from veil.abuse.cases import IllegalTransition, require_utc
from veil.abuse.notices import Category
from veil.abuse.urls import normalise_url


class ActionType(StrEnum):
    """The kinds of mitigation (Cloudflare's names where they have one)."""

    LEGAL_BLOCK = "legal_block"  # 451, worldwide or geo-scoped
    PHISHING_INTERSTITIAL = "phishing_interstitial"
    MISLEADING_INTERSTITIAL = "misleading_interstitial"
    CACHE_PURGE = "cache_purge"
    ACCOUNT_SUSPEND = "account_suspend"


class Status(StrEnum):
    """Where an action stands."""

    PENDING = "pending"
    ACTIVE = "active"
    IN_REVIEW = "in_review"
    CANCELLED = "cancelled"
    REMOVED = "removed"


class ActionEvent(StrEnum):
    """What happens to an action."""

    TAKE_EFFECT = "take_effect"
    REQUEST_REVIEW = "request_review"
    UPHOLD = "uphold"
    OVERTURN = "overturn"
    CANCEL = "cancel"
    LIFT = "lift"


STATUS_TRANSITIONS: dict[tuple[Status, ActionEvent], Status] = {
    (Status.PENDING, ActionEvent.TAKE_EFFECT): Status.ACTIVE,
    (Status.PENDING, ActionEvent.REQUEST_REVIEW): Status.IN_REVIEW,
    (Status.PENDING, ActionEvent.CANCEL): Status.CANCELLED,
    (Status.IN_REVIEW, ActionEvent.UPHOLD): Status.ACTIVE,
    (Status.IN_REVIEW, ActionEvent.OVERTURN): Status.CANCELLED,
    (Status.ACTIVE, ActionEvent.LIFT): Status.REMOVED,
}

URGENT = frozenset({Category.CHILDREN, Category.PHISHING, Category.THREAT})
GEO_SCOPABLE = frozenset({ActionType.LEGAL_BLOCK})
_ALPHA2 = re.compile(r"[A-Z]{2}")


def advance(status: Status, event: ActionEvent) -> Status:
    """The status after `event`; `IllegalTransition` when the table has no such step."""
    try:
        return STATUS_TRANSITIONS[status, event]
    except KeyError:
        raise IllegalTransition(status, event) from None


def initial_status(category: Category) -> Status:
    """Urgent categories (CSAM, phishing, threats) act at once; the rest wait for the customer."""
    return Status.ACTIVE if category in URGENT else Status.PENDING


def country_codes(codes: tuple[str, ...] | list[str] | frozenset[str]) -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes, upper-cased; ValueError for anything else."""
    out = frozenset(code.strip().upper() for code in codes)
    bad = sorted(code for code in out if not _ALPHA2.fullmatch(code))
    if bad:
        raise ValueError(f"not ISO 3166-1 alpha-2 country codes: {bad}")
    return out


@dataclass(frozen=True, slots=True)
class Action:
    """One mitigation on a case; `targets` are canonical URLs, `countries` empty = worldwide."""

    type: ActionType
    status: Status
    effective_date: datetime
    targets: tuple[str, ...] = ()
    countries: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        require_utc(self.effective_date, "effective_date")
        object.__setattr__(self, "countries", country_codes(self.countries))
        if self.countries and self.type not in GEO_SCOPABLE:
            raise ValueError(f"{self.type.value} cannot be scoped to countries")
        if self.type is not ActionType.ACCOUNT_SUSPEND and not self.targets:
            raise ValueError(f"{self.type.value} needs at least one target URL")
        canonical = tuple(_canonical(url) for url in self.targets)
        object.__setattr__(self, "targets", canonical)


def _canonical(url: str) -> str:
    """The canonical form of a target URL; ValueError when it is not one."""
    normalised = normalise_url(url)
    if normalised is None:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return normalised.canonical


def effective(action: Action, now: datetime) -> bool:
    """Enforced now: active, or pending with its effective date reached."""
    require_utc(now, "now")
    if action.status is Status.ACTIVE:
        return True
    return action.status is Status.PENDING and now >= action.effective_date


def applies_to(action: Action, url: str, client_country: str | None) -> bool:
    """Whether the action covers this URL for a client in this country (scope only, not time)."""
    if action.countries and (
        client_country is None or client_country.strip().upper() not in action.countries
    ):
        return False
    if action.type is ActionType.ACCOUNT_SUSPEND:
        return True
    normalised = normalise_url(url)
    return normalised is not None and normalised.canonical in action.targets


def enforced(action: Action, url: str, client_country: str | None, now: datetime) -> bool:
    """What the edge asks: is this action in force for this request now."""
    return effective(action, now) and applies_to(action, url, client_country)


class Ground(StrEnum):
    """DSA Art. 17(3)(d)/(e): the decision rests on law or on the terms of service."""

    ILLEGAL_CONTENT = "illegal_content"
    INCOMPATIBLE_WITH_TERMS = "incompatible_with_terms"


@dataclass(frozen=True, slots=True)
class StatementOfReasons:
    """DSA Art. 17(3)(a)-(f), field by field; `territorial_scope` empty = worldwide."""

    restriction: str  # (a) what was restricted and how
    duration: str  # (a) e.g. "indefinite" or "until 2026-05-01"
    facts: str  # (b) facts and circumstances relied on
    followed_notice: bool  # (b) taken on an Art. 16 notice, or on own initiative
    automated_detection: bool  # (c)
    automated_decision: bool  # (c)
    ground: Ground  # (d) legal / (e) contractual
    ground_reference: str  # the law or the clause of the terms relied on
    explanation: str  # why the content is illegal / incompatible
    redress: tuple[str, ...]  # (f) internal complaint, out-of-court settlement, court
    territorial_scope: frozenset[str] = field(default_factory=frozenset)  # (a)
    notice_reference: str = ""  # the case id, when it followed a notice

    def __post_init__(self) -> None:
        object.__setattr__(self, "territorial_scope", country_codes(self.territorial_scope))


_REQUIRED_TEXT = ("restriction", "duration", "facts", "ground_reference", "explanation")


def missing_reasons(statement: StatementOfReasons) -> list[str]:
    """The Art. 17(3) fields left empty, in the dataclass's order; [] when complete."""
    missing = [
        f.name
        for f in fields(statement)
        if f.name in _REQUIRED_TEXT and not str(getattr(statement, f.name)).strip()
    ]
    if not any(route.strip() for route in statement.redress):
        missing.append("redress")
    if statement.followed_notice and not statement.notice_reference.strip():
        missing.append("notice_reference")
    return missing
