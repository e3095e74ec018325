"""The operator's queue rules: overdue cases, operator events, default statements of reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from veil.abuse.actions import ActionType, Ground, StatementOfReasons, missing_reasons
from veil.abuse.cases import CaseEvent, CaseState, allowed_events
from veil.abuse.notices import Category
from veil.abuse.queue import (
    NEEDS_OPERATOR,
    OPEN,
    OPERATOR_EVENTS,
    CaseFacts,
    OrderFacts,
    default_statement,
    is_overdue,
    order_statement,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
LINK = "https://desk.example/abuse/customer/cases/c1"


@pytest.mark.parametrize(
    ("state", "late", "overdue"),
    [
        (CaseState.FORWARDED, True, True),
        (CaseState.FORWARDED, False, False),
        (CaseState.ESCALATED, True, True),
        (CaseState.CUSTOMER_REPLIED, True, True),
        (CaseState.AWAITING_CUSTOMER, True, False),  # waits for the customer, not for us
        (CaseState.ACTION_PENDING, True, False),
        (CaseState.INCOMPLETE_AWAITING_REPORTER, True, False),
        (CaseState.CLOSED, True, False),
    ],
)
def test_overdue_only_while_the_case_waits_for_the_operator(
    state: CaseState, late: bool, overdue: bool
) -> None:
    """Overdue: the deadline has come (inclusive) and the next move is the operator's."""
    deadline = NOW if late else NOW + timedelta(seconds=1)
    assert is_overdue(state, deadline, NOW) is overdue


def test_queue_state_sets_are_consistent() -> None:
    """Every state waiting for the operator is open; every operator event is a real step."""
    assert NEEDS_OPERATOR <= OPEN and CaseState.CLOSED not in OPEN
    reachable = {e for s in CaseState for e in allowed_events(s)}
    assert OPERATOR_EVENTS.issubset(reachable)
    assert CaseEvent.VALIDATED not in OPERATOR_EVENTS  # intake's, not the operator's


def facts(category: Category, **changes: object) -> CaseFacts:
    base: dict[str, object] = {
        "case_id": "c1",
        "category": category,
        "received_on": NOW,
        "urls": ("https://shop.example/a",),
        "work": "Gown photographs",
        "explanation": "Copied from our catalogue.",
        "customer_url": LINK,
        "operator": "Veil",
    }
    return CaseFacts(**{**base, **changes})  # type: ignore[arg-type]


def test_dmca_default_statement_is_complete_and_cites_512c() -> None:
    """A DMCA block: illegal content under §512(c), counter-notice and review links, facts
    from the notice, worldwide; no Art. 17(3) field is missing."""
    fields = default_statement(
        facts(Category.DMCA), ActionType.LEGAL_BLOCK, ["https://shop.example/a"], []
    )
    statement = StatementOfReasons(**fields)
    assert missing_reasons(statement) == []
    assert statement.ground is Ground.ILLEGAL_CONTENT
    assert statement.ground_reference == "17 U.S.C. §512(c)"
    assert "worldwide" in statement.restriction and "RFC 7725" in statement.restriction
    assert "Gown photographs" in statement.facts and "2026-03-02" in statement.facts
    assert any("§512(g)(3)" in r and LINK in r for r in statement.redress)
    assert any("review" in r and LINK in r for r in statement.redress)


@pytest.mark.parametrize("category", [c for c in Category if c is not Category.DMCA])
def test_other_categories_rest_on_the_terms(category: Category) -> None:
    """Beyond copyright the default ground is the acceptable use policy; no counter-notice."""
    fields = default_statement(
        facts(category), ActionType.PHISHING_INTERSTITIAL, ["https://shop.example/a"], []
    )
    statement = StatementOfReasons(**fields)
    assert missing_reasons(statement) == []
    assert statement.ground is Ground.INCOMPATIBLE_WITH_TERMS
    assert statement.ground_reference == "Veil acceptable use policy"
    assert not any("counter-notice" in r for r in statement.redress)


def test_restriction_names_countries_and_long_lists_are_cut() -> None:
    """Geo scope in the restriction; more than three URLs are counted, facts stay short."""
    urls = [f"https://shop.example/{n}" for n in range(5)]
    fields = default_statement(
        facts(Category.DMCA, urls=tuple(urls), explanation="x" * 2000),
        ActionType.LEGAL_BLOCK,
        urls,
        ["FR", "DE"],
    )
    assert "for visitors in DE, FR" in fields["restriction"]
    assert "5 URLs" in fields["restriction"] and "and 2 more" in fields["restriction"]
    assert len(fields["facts"]) <= 500
    assert fields["territorial_scope"] == frozenset({"DE", "FR"})


def test_order_statement_takes_basis_and_scope_from_the_order() -> None:
    """An order's block: the order's legal basis, its countries, not an Art. 16 notice."""
    order = OrderFacts(
        case_id="c2",
        authority="Landgericht Köln",
        country="DE",
        legal_basis="§ 97 UrhG",
        reference="14 O 123/26",
        scope=("AT", "DE"),
        received_on=NOW,
        explanation="",
        customer_url=LINK,
    )
    statement = StatementOfReasons(**order_statement(order, ["https://shop.example/film"]))
    assert missing_reasons(statement) == []
    assert statement.ground_reference == "§ 97 UrhG" and not statement.followed_notice
    assert statement.territorial_scope == frozenset({"AT", "DE"})
    assert "14 O 123/26" in statement.facts and "Landgericht Köln" in statement.explanation
    assert any("courts of DE" in r for r in statement.redress)
