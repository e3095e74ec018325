"""The abuse case workflow: an explicit state machine, queue deadlines and escalation.

Theory of operation. A case is one notice (plus its duplicates) on its way from intake to
closure. Its `CaseState` changes only through `transition(state, event)`, which looks the pair up
in `TRANSITIONS` and raises `IllegalTransition` for anything not there: no step is implied.

    received --validated--> valid --forwarded--> forwarded --reply_requested--> awaiting_customer
    received --found_incomplete--> incomplete_awaiting_reporter --repaired--> received
    received --found_off_network--> not_on_network --close--> closed
    forwarded/awaiting_customer --customer_replied--> customer_replied
    … --action_proposed--> action_pending --action_effective--> action_active
    action_pending --contested--> in_review --action_effective--> action_active | --close--> closed
    action_active --counter_notice_received--> counter_noticed
    counter_noticed --restore_due--> restored          (§512(g)(2)(C): 10-14 business days)
    counter_noticed --lawsuit_filed--> action_active   (the material stays down)
    most open states --escalate--> escalated; open states --close--> closed (terminal)

Two events were added to the brief's list so that every step is deterministic:
`found_incomplete` and `found_off_network` (validation's other outcomes), and
`reply_requested` (the operator asks the customer to answer; Cloudflare's 24 h obligation).
`valid` is the state between validation and forwarding, where the operator's queue holds it.

An active action cannot be `contested` here: following Cloudflare, "request review" cancels a
*pending* block; against an active one the routes are the counter-notice or closing the case.

Time: every datetime is timezone-aware UTC; naive ones are refused (`ValueError`).
Pure: no I/O, no clock; `now` is a parameter.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from veil.abuse.notices import Category


class CaseState(StrEnum):
    """Where a case stands."""

    RECEIVED = "received"
    INCOMPLETE_AWAITING_REPORTER = "incomplete_awaiting_reporter"  # §512(c)(3)(B)(ii)
    NOT_ON_NETWORK = "not_on_network"
    VALID = "valid"
    FORWARDED = "forwarded"
    AWAITING_CUSTOMER = "awaiting_customer"
    CUSTOMER_REPLIED = "customer_replied"
    ACTION_PENDING = "action_pending"
    ACTION_ACTIVE = "action_active"
    IN_REVIEW = "in_review"
    COUNTER_NOTICED = "counter_noticed"  # §512(g)(3)
    RESTORED = "restored"
    ESCALATED = "escalated"
    CLOSED = "closed"


class CaseEvent(StrEnum):
    """What happens to a case."""

    VALIDATED = "validated"
    FOUND_INCOMPLETE = "found_incomplete"
    FOUND_OFF_NETWORK = "found_off_network"
    REPAIRED = "repaired"
    FORWARDED = "forwarded"
    REPLY_REQUESTED = "reply_requested"
    CUSTOMER_REPLIED = "customer_replied"
    ACTION_PROPOSED = "action_proposed"
    ACTION_EFFECTIVE = "action_effective"
    CONTESTED = "contested"
    COUNTER_NOTICE_RECEIVED = "counter_notice_received"
    RESTORE_DUE = "restore_due"
    LAWSUIT_FILED = "lawsuit_filed"
    ESCALATE = "escalate"
    CLOSE = "close"


class IllegalTransition(ValueError):
    """An event that the state machine does not allow in the current state."""

    def __init__(self, state: StrEnum, event: StrEnum) -> None:
        super().__init__(f"no transition from {state.value!r} on {event.value!r}")
        self.state = state
        self.event = event


S, E = CaseState, CaseEvent

TRANSITIONS: dict[tuple[CaseState, CaseEvent], CaseState] = {
    (S.RECEIVED, E.VALIDATED): S.VALID,
    (S.RECEIVED, E.FOUND_INCOMPLETE): S.INCOMPLETE_AWAITING_REPORTER,
    (S.RECEIVED, E.FOUND_OFF_NETWORK): S.NOT_ON_NETWORK,
    (S.RECEIVED, E.CLOSE): S.CLOSED,  # invalid beyond repair
    (S.INCOMPLETE_AWAITING_REPORTER, E.REPAIRED): S.RECEIVED,  # validate again
    (S.INCOMPLETE_AWAITING_REPORTER, E.CLOSE): S.CLOSED,
    (S.NOT_ON_NETWORK, E.CLOSE): S.CLOSED,
    (S.VALID, E.FORWARDED): S.FORWARDED,
    (S.VALID, E.ACTION_PROPOSED): S.ACTION_PENDING,
    (S.VALID, E.ACTION_EFFECTIVE): S.ACTION_ACTIVE,  # urgent: CSAM removed without notice
    (S.VALID, E.ESCALATE): S.ESCALATED,
    (S.VALID, E.CLOSE): S.CLOSED,
    (S.FORWARDED, E.REPLY_REQUESTED): S.AWAITING_CUSTOMER,
    (S.FORWARDED, E.CUSTOMER_REPLIED): S.CUSTOMER_REPLIED,
    (S.FORWARDED, E.ACTION_PROPOSED): S.ACTION_PENDING,
    (S.FORWARDED, E.ACTION_EFFECTIVE): S.ACTION_ACTIVE,
    (S.FORWARDED, E.ESCALATE): S.ESCALATED,
    (S.FORWARDED, E.CLOSE): S.CLOSED,  # forward-only categories end here
    (S.AWAITING_CUSTOMER, E.CUSTOMER_REPLIED): S.CUSTOMER_REPLIED,
    (S.AWAITING_CUSTOMER, E.ACTION_PROPOSED): S.ACTION_PENDING,
    (S.AWAITING_CUSTOMER, E.ACTION_EFFECTIVE): S.ACTION_ACTIVE,
    (S.AWAITING_CUSTOMER, E.ESCALATE): S.ESCALATED,
    (S.AWAITING_CUSTOMER, E.CLOSE): S.CLOSED,
    (S.CUSTOMER_REPLIED, E.REPLY_REQUESTED): S.AWAITING_CUSTOMER,
    (S.CUSTOMER_REPLIED, E.ACTION_PROPOSED): S.ACTION_PENDING,
    (S.CUSTOMER_REPLIED, E.ACTION_EFFECTIVE): S.ACTION_ACTIVE,  # the reply did not settle it
    (S.CUSTOMER_REPLIED, E.CONTESTED): S.IN_REVIEW,  # a pending action, contested after a reply
    (S.CUSTOMER_REPLIED, E.ESCALATE): S.ESCALATED,
    (S.CUSTOMER_REPLIED, E.CLOSE): S.CLOSED,  # the customer removed it, or showed it lawful
    (S.ACTION_PENDING, E.ACTION_EFFECTIVE): S.ACTION_ACTIVE,
    (S.ACTION_PENDING, E.CONTESTED): S.IN_REVIEW,
    (S.ACTION_PENDING, E.CUSTOMER_REPLIED): S.CUSTOMER_REPLIED,
    (S.ACTION_PENDING, E.ESCALATE): S.ESCALATED,
    (S.ACTION_PENDING, E.CLOSE): S.CLOSED,  # action cancelled
    (S.IN_REVIEW, E.ACTION_EFFECTIVE): S.ACTION_ACTIVE,  # review upheld the action
    (S.IN_REVIEW, E.ESCALATE): S.ESCALATED,
    (S.IN_REVIEW, E.CLOSE): S.CLOSED,  # review overturned it
    (S.ACTION_ACTIVE, E.COUNTER_NOTICE_RECEIVED): S.COUNTER_NOTICED,
    (S.ACTION_ACTIVE, E.ESCALATE): S.ESCALATED,
    (S.ACTION_ACTIVE, E.CLOSE): S.CLOSED,
    (S.COUNTER_NOTICED, E.RESTORE_DUE): S.RESTORED,
    (S.COUNTER_NOTICED, E.LAWSUIT_FILED): S.ACTION_ACTIVE,  # §512(g)(2)(C): stays down
    (S.COUNTER_NOTICED, E.ESCALATE): S.ESCALATED,
    (S.RESTORED, E.CLOSE): S.CLOSED,
    (S.ESCALATED, E.CUSTOMER_REPLIED): S.CUSTOMER_REPLIED,
    (S.ESCALATED, E.ACTION_PROPOSED): S.ACTION_PENDING,
    (S.ESCALATED, E.ACTION_EFFECTIVE): S.ACTION_ACTIVE,
    (S.ESCALATED, E.CONTESTED): S.IN_REVIEW,  # the customer answers at last, by contesting
    (S.ESCALATED, E.CLOSE): S.CLOSED,
}
del S, E

TERMINAL = frozenset({CaseState.CLOSED})

# A valid notice the customer has been sent and has not answered.
UNANSWERED = frozenset({CaseState.FORWARDED, CaseState.AWAITING_CUSTOMER, CaseState.ACTION_PENDING})


def transition(state: CaseState, event: CaseEvent) -> CaseState:
    """The state after `event`; `IllegalTransition` when the table has no such step."""
    try:
        return TRANSITIONS[state, event]
    except KeyError:
        raise IllegalTransition(state, event) from None


def allowed_events(state: CaseState) -> list[CaseEvent]:
    """The events `state` accepts, in table order (for the operator's buttons)."""
    return [event for (source, event) in TRANSITIONS if source is state]


# The operator queue's deadline per category (issue 4); trusted reporters 24 h, others 72 h.
URGENT_DEADLINES: dict[Category, timedelta] = {
    Category.CHILDREN: timedelta(hours=1),
    Category.THREAT: timedelta(hours=1),
    Category.PHISHING: timedelta(hours=4),
}
TRUSTED_DEADLINE = timedelta(hours=24)
DEFAULT_DEADLINE = timedelta(hours=72)
ESCALATE_AFTER = timedelta(days=30)


def require_utc(moment: datetime, name: str = "datetime") -> datetime:
    """`moment` itself when it is timezone-aware with a zero offset; ValueError otherwise."""
    if moment.tzinfo is None or moment.utcoffset() != timedelta(0):
        raise ValueError(f"{name} must be timezone-aware UTC, got {moment!r}")
    return moment


def queue_deadline(category: Category, received_at: datetime, *, trusted: bool) -> datetime:
    """When the operator must have handled the case: the tightest limit that applies."""
    limits = [URGENT_DEADLINES.get(category, DEFAULT_DEADLINE)]
    if trusted:
        limits.append(TRUSTED_DEADLINE)
    return require_utc(received_at, "received_at").astimezone(UTC) + min(limits)


def needs_escalation(
    case_state: CaseState,
    last_customer_contact: datetime,
    now: datetime,
    *,
    after: timedelta = ESCALATE_AFTER,
) -> bool:
    """True once a valid notice has waited `after` (default 30 days) for the customer's answer.

    `last_customer_contact` is when the customer was last asked (the forward, a reminder, the
    proposed action). Exactly `after` counts as overdue: the Tokyo court punished service that
    went on after notices were left unanswered.
    """
    require_utc(last_customer_contact, "last_customer_contact")
    require_utc(now, "now")
    return case_state in UNANSWERED and now - last_customer_contact >= after
