"""The operator's queue: which cases wait for the operator, when one is overdue, which case
events the operator may fire, and the default statement of reasons for an action.

Theory of operation. Every case carries a deadline (`veil.abuse.cases.queue_deadline`: CSAM
and threats 1 h, phishing 4 h, trusted reporters 24 h, others 72 h). A case *waits for the
operator* in the states where the next move is the desk's — a notice to forward or decide on,
a customer's reply to read, a review, an escalation, a restored case to close. In the others
it waits for someone else (the reporter completing a notice, the customer answering, an action
or the counter-notice window running), and no deadline of ours runs. `is_overdue` is true from
the deadline itself on.

Statements of reasons (DSA Art. 17(3)): `default_statement` fills every field from the case so
the operator need only confirm — what is restricted and where (a), for how long (a), the facts
(b), no automation (c), the ground (d)/(e): 17 U.S.C. §512(c) for copyright, the acceptable use
policy otherwise, and the redress routes (f) with the customer's links. The operator may
override any field.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from veil.abuse.actions import ActionType, Ground
from veil.abuse.cases import CaseEvent, CaseState
from veil.abuse.letters import category_name
from veil.abuse.notices import Category

S = CaseState
NEEDS_OPERATOR = frozenset(
    {S.RECEIVED, S.VALID, S.FORWARDED, S.CUSTOMER_REPLIED, S.IN_REVIEW, S.ESCALATED, S.RESTORED}
)
CLOSED = frozenset({S.CLOSED, S.NOT_ON_NETWORK})
OPEN = frozenset(CaseState) - CLOSED
del S

# The case events the operator fires by hand; the rest belong to intake, the action service,
# the customer and the timers.
OPERATOR_EVENTS = frozenset(
    {CaseEvent.REPLY_REQUESTED, CaseEvent.CUSTOMER_REPLIED, CaseEvent.ESCALATE, CaseEvent.CLOSE}
)

DMCA_GROUND = "17 U.S.C. §512(c)"
# A non-urgent action the operator does not date waits this long for the customer's answer
# (issue 4: "the others start pending so the customer can respond"); urgent ones act at once.
CUSTOMER_ANSWER_PERIOD = timedelta(hours=72)
MAX_FACT_CHARS = 500
LISTED_URLS = 3


def is_overdue(state: CaseState, deadline: datetime, now: datetime) -> bool:
    """The case waits for the operator and its deadline has come."""
    return state in NEEDS_OPERATOR and now >= deadline


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What a default statement of reasons is written from."""

    case_id: str
    category: Category
    received_on: datetime
    urls: tuple[str, ...]
    work: str  # the notice's original work (copyright)
    explanation: str  # the reporter's justification or comments
    customer_url: str
    operator: str


def _listed(urls: Sequence[str]) -> str:
    if len(urls) == 1:
        return urls[0]
    shown = ", ".join(urls[:LISTED_URLS])
    more = f" and {len(urls) - LISTED_URLS} more" if len(urls) > LISTED_URLS else ""
    return f"{len(urls)} URLs ({shown}{more})"


def _where(countries: Sequence[str]) -> str:
    return f"for visitors in {', '.join(sorted(countries))}" if countries else "worldwide"


def restriction_text(type: ActionType, targets: Sequence[str], countries: Sequence[str]) -> str:
    """Art. 17(3)(a): what is restricted, how and where."""
    what = _listed(targets) if targets else "the account's sites"
    return {
        ActionType.LEGAL_BLOCK: f"Access to {what} is blocked with HTTP 451 Unavailable For "
        f"Legal Reasons (RFC 7725) {_where(countries)}",
        ActionType.PHISHING_INTERSTITIAL: f"Visitors to {what} see a phishing and malware "
        "warning page before they may continue",
        ActionType.MISLEADING_INTERSTITIAL: f"Visitors to {what} see a warning that the "
        "content may be misleading before they may continue",
        ActionType.CACHE_PURGE: f"The cached copies of {what} are removed from our caches",
        ActionType.ACCOUNT_SUSPEND: "Service for every site of the account is suspended",
    }[type]


def _facts(facts: CaseFacts) -> str:
    day = facts.received_on.date().isoformat()
    text = (
        f"Notice {facts.case_id} ({category_name(facts.category.value)}) received on {day} "
        f"reports {_listed(facts.urls) if facts.urls else 'no URL on our network'}."
    )
    if facts.work.strip():
        text += f" Work concerned: {facts.work.strip()}."
    if facts.explanation.strip():
        text += f" The reporter explains: {facts.explanation.strip()}"
    return text[:MAX_FACT_CHARS]


def _ground(facts: CaseFacts) -> tuple[Ground, str, str]:
    if facts.category is Category.DMCA:
        return (
            Ground.ILLEGAL_CONTENT,
            DMCA_GROUND,
            "A notice complete under 17 U.S.C. §512(c)(3) identifies the material as "
            "infringing the complainant's copyright.",
        )
    return (
        Ground.INCOMPATIBLE_WITH_TERMS,
        f"{facts.operator} acceptable use policy",
        f"The reported material is {category_name(facts.category.value)}, which the acceptable "
        "use policy does not allow.",
    )


def redress_routes(category: Category, customer_url: str) -> tuple[str, ...]:
    """Art. 17(3)(f): how the customer contests the decision."""
    routes = [f"Reply on the case or request a review of a pending action: {customer_url}"]
    if category is Category.DMCA:
        routes.append(f"Send a counter-notice (17 U.S.C. §512(g)(3)): {customer_url}")
    routes.append("Judicial redress before the competent court")
    return tuple(routes)


def default_statement(
    facts: CaseFacts, type: ActionType, targets: Sequence[str], countries: Sequence[str]
) -> dict[str, Any]:
    """Every field of `veil.abuse.actions.StatementOfReasons`, filled from the case."""
    ground, reference, explanation = _ground(facts)
    return {
        "restriction": restriction_text(type, targets, countries),
        "duration": (
            "once (the origin is untouched)"
            if type is ActionType.CACHE_PURGE
            else "until lifted: on review, on a counter-notice, or once the material is gone"
        ),
        "facts": _facts(facts),
        "followed_notice": True,
        "automated_detection": False,
        "automated_decision": False,
        "ground": ground,
        "ground_reference": reference,
        "explanation": explanation,
        "redress": redress_routes(facts.category, facts.customer_url),
        "territorial_scope": frozenset(countries),
        "notice_reference": facts.case_id,
    }


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """A court or authority order (DSA Art. 9) as a statement of reasons needs it."""

    case_id: str
    authority: str
    country: str  # ISO 3166-1 alpha-2 of the issuing Member State or state
    legal_basis: str
    reference: str
    scope: tuple[str, ...]  # the countries where the order applies
    received_on: datetime
    explanation: str
    customer_url: str


def order_statement(order: OrderFacts, targets: Sequence[str]) -> dict[str, Any]:
    """DSA Art. 17(3) fields for the geo-scoped block an order requires (Art. 9(2)(a)/(b):
    the legal basis and the territorial scope come from the order itself)."""
    reference = f" {order.reference}" if order.reference else ""
    return {
        "restriction": restriction_text(ActionType.LEGAL_BLOCK, targets, order.scope),
        "duration": "as long as the order stands",
        "facts": (
            f"Order{reference} of {order.authority} ({order.country}) received on "
            f"{order.received_on.date().isoformat()}, covering {_listed(targets)}, "
            f"applicable in {', '.join(order.scope)}."
        )[:MAX_FACT_CHARS],
        "followed_notice": False,  # an order is not an Art. 16 notice
        "automated_detection": False,
        "automated_decision": False,
        "ground": Ground.ILLEGAL_CONTENT,
        "ground_reference": order.legal_basis,
        "explanation": order.explanation.strip()
        or f"{order.authority} ordered action against this content under {order.legal_basis}.",
        "redress": (
            f"Judicial redress against the order before the courts of {order.country}",
            f"Reply on the case: {order.customer_url}",
        ),
        "territorial_scope": frozenset(order.scope),
        "notice_reference": order.case_id,
    }
