"""The case workflow: transition table, queue deadlines per category, escalation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from veil.abuse.cases import (
    TRANSITIONS,
    CaseEvent,
    CaseState,
    IllegalTransition,
    allowed_events,
    needs_escalation,
    queue_deadline,
    transition,
)
from veil.abuse.notices import Category

# Every legal step, spelled out again so the table cannot change unnoticed: state event -> next.
LEGAL = """
received validated valid
received found_incomplete incomplete_awaiting_reporter
received found_off_network not_on_network
received close closed
incomplete_awaiting_reporter repaired received
incomplete_awaiting_reporter close closed
not_on_network close closed
valid forwarded forwarded
valid action_proposed action_pending
valid action_effective action_active
valid escalate escalated
valid close closed
forwarded reply_requested awaiting_customer
forwarded customer_replied customer_replied
forwarded action_proposed action_pending
forwarded action_effective action_active
forwarded escalate escalated
forwarded close closed
awaiting_customer customer_replied customer_replied
awaiting_customer action_proposed action_pending
awaiting_customer action_effective action_active
awaiting_customer escalate escalated
awaiting_customer close closed
customer_replied reply_requested awaiting_customer
customer_replied action_proposed action_pending
customer_replied action_effective action_active
customer_replied contested in_review
customer_replied escalate escalated
customer_replied close closed
action_pending action_effective action_active
action_pending contested in_review
action_pending customer_replied customer_replied
action_pending escalate escalated
action_pending close closed
in_review action_effective action_active
in_review escalate escalated
in_review close closed
action_active counter_notice_received counter_noticed
action_active escalate escalated
action_active close closed
counter_noticed restore_due restored
counter_noticed lawsuit_filed action_active
counter_noticed escalate escalated
restored close closed
escalated customer_replied customer_replied
escalated action_proposed action_pending
escalated action_effective action_active
escalated contested in_review
escalated close closed
"""
LEGAL_STEPS = [tuple(line.split()) for line in LEGAL.strip().splitlines()]

ILLEGAL_STEPS = [
    ("received", "forwarded"),  # never forward an unvalidated notice
    ("received", "action_effective"),
    ("not_on_network", "forwarded"),  # disclose nothing off the network
    ("incomplete_awaiting_reporter", "forwarded"),
    ("action_active", "contested"),  # review cancels a pending action only
    ("action_active", "restore_due"),  # restoration needs a counter-notice first
    ("counter_noticed", "close"),  # the §512(g) timer must run out or a suit be shown
    ("forwarded", "counter_notice_received"),  # nothing is down yet
    ("restored", "lawsuit_filed"),
    ("closed", "escalate"),
    ("closed", "validated"),
    ("closed", "close"),
    ("escalated", "escalate"),
]


@pytest.mark.parametrize(
    ("state", "event", "after"), LEGAL_STEPS, ids=[" ".join(s[:2]) for s in LEGAL_STEPS]
)
def test_legal_transition(state: str, event: str, after: str) -> None:
    """Each step in the table leads to the state it names."""
    assert transition(CaseState(state), CaseEvent(event)) is CaseState(after)


def test_table_is_exactly_the_listed_steps() -> None:
    """The module's table holds the listed steps and nothing else."""
    assert {(s.value, e.value, t.value) for (s, e), t in TRANSITIONS.items()} == set(LEGAL_STEPS)


@pytest.mark.parametrize(
    ("state", "event"), ILLEGAL_STEPS, ids=[" ".join(s) for s in ILLEGAL_STEPS]
)
def test_illegal_transition_fails_loudly(state: str, event: str) -> None:
    """A step not in the table raises IllegalTransition naming state and event."""
    with pytest.raises(IllegalTransition, match=f"{state}.*{event}") as caught:
        transition(CaseState(state), CaseEvent(event))
    assert caught.value.state is CaseState(state)
    assert caught.value.event is CaseEvent(event)


def test_closed_is_terminal() -> None:
    """No event leaves a closed case."""
    assert allowed_events(CaseState.CLOSED) == []


def test_every_open_state_can_reach_closed() -> None:
    """From every state some path of events ends the case."""
    reach = {CaseState.CLOSED}
    changed = True
    while changed:
        changed = False
        for (source, _), target in TRANSITIONS.items():
            if target in reach and source not in reach:
                reach.add(source)
                changed = True
    assert reach == set(CaseState)


def test_allowed_events_lists_the_table_rows() -> None:
    """allowed_events gives the events the state accepts, in table order."""
    assert allowed_events(CaseState.COUNTER_NOTICED) == [
        CaseEvent.RESTORE_DUE,
        CaseEvent.LAWSUIT_FILED,
        CaseEvent.ESCALATE,
    ]


T0 = datetime(2025, 11, 19, 9, 0, tzinfo=UTC)

DEADLINES = [
    (Category.CHILDREN, False, timedelta(hours=1)),
    (Category.CHILDREN, True, timedelta(hours=1)),  # urgent beats trusted
    (Category.THREAT, False, timedelta(hours=1)),
    (Category.THREAT, True, timedelta(hours=1)),
    (Category.PHISHING, False, timedelta(hours=4)),
    (Category.PHISHING, True, timedelta(hours=4)),
    (Category.DMCA, True, timedelta(hours=24)),
    (Category.DMCA, False, timedelta(hours=72)),
    (Category.TRADEMARK, True, timedelta(hours=24)),
    (Category.TRADEMARK, False, timedelta(hours=72)),
    (Category.GENERAL, False, timedelta(hours=72)),
    (Category.NCSEI, False, timedelta(hours=72)),
    (Category.NCSEI, True, timedelta(hours=24)),
    (Category.REGISTRAR_WHOIS, False, timedelta(hours=72)),
]


@pytest.mark.parametrize(
    ("category", "trusted", "limit"),
    DEADLINES,
    ids=[f"{c.value}-{'trusted' if t else 'ordinary'}" for c, t, _ in DEADLINES],
)
def test_queue_deadline_per_category(category: Category, trusted: bool, limit: timedelta) -> None:
    """The deadline is receipt plus the tightest limit: 1 h, 4 h, 24 h trusted, else 72 h."""
    assert queue_deadline(category, T0, trusted=trusted) == T0 + limit


def test_queue_deadline_crosses_midnight_and_month() -> None:
    """A late-evening notice on the last day of a month is due next month."""
    late = datetime(2025, 1, 31, 23, 30, tzinfo=UTC)
    assert queue_deadline(Category.CHILDREN, late, trusted=False) == datetime(
        2025, 2, 1, 0, 30, tzinfo=UTC
    )


def test_queue_deadline_refuses_naive_time() -> None:
    """A datetime without a zone is refused rather than guessed."""
    with pytest.raises(ValueError, match="UTC"):
        queue_deadline(Category.DMCA, datetime(2025, 1, 1), trusted=False)


def test_queue_deadline_refuses_non_utc_offset() -> None:
    """A datetime in another zone is refused: the desk runs on UTC."""
    tokyo = timezone(timedelta(hours=9))
    with pytest.raises(ValueError, match="UTC"):
        queue_deadline(Category.DMCA, datetime(2025, 1, 1, tzinfo=tokyo), trusted=False)


ESCALATION = [
    ("forwarded", timedelta(days=30) - timedelta(seconds=1), False),
    ("forwarded", timedelta(days=30), True),  # exactly 30 days is overdue
    ("forwarded", timedelta(days=31), True),
    ("awaiting_customer", timedelta(days=30), True),
    ("action_pending", timedelta(days=30), True),
    ("awaiting_customer", timedelta(days=29, hours=23, minutes=59), False),
    ("customer_replied", timedelta(days=90), False),  # answered
    ("incomplete_awaiting_reporter", timedelta(days=90), False),  # not valid yet
    ("received", timedelta(days=90), False),
    ("not_on_network", timedelta(days=90), False),
    ("escalated", timedelta(days=90), False),  # already escalated
    ("closed", timedelta(days=90), False),
    ("action_active", timedelta(days=90), False),  # acted on already
]


@pytest.mark.parametrize(
    ("state", "waited", "expected"),
    ESCALATION,
    ids=[f"{s}-{w}" for s, w, _ in ESCALATION],
)
def test_needs_escalation(state: str, waited: timedelta, expected: bool) -> None:
    """Valid notices unanswered for 30 days or more escalate; others never do."""
    assert needs_escalation(CaseState(state), T0, T0 + waited) is expected


def test_needs_escalation_custom_window() -> None:
    """The operator may shorten the window; the boundary is still inclusive."""
    window = timedelta(days=7)
    assert needs_escalation(CaseState.FORWARDED, T0, T0 + window, after=window)
    assert not needs_escalation(
        CaseState.FORWARDED, T0, T0 + window - timedelta(microseconds=1), after=window
    )


def test_needs_escalation_refuses_naive_now() -> None:
    """`now` without a zone is refused."""
    with pytest.raises(ValueError, match="now"):
        needs_escalation(CaseState.FORWARDED, T0, datetime(2026, 1, 1))
