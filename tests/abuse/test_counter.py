"""Counter-notices: the §512(g)(3) elements and the §512(g)(2)(C) restore window."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from veil.abuse.counter import (
    CounterNotice,
    business_days_after,
    restore_due,
    restore_window,
    validate_counter,
)
from veil.abuse.notices import Status

COUNTER = CounterNotice(
    signature="Grace Hopper",
    material="Photo of gown 42 on the product page",
    location="https://shop.example/dress-1",
    statement_mistake_perjury=True,
    name="Grace Hopper",
    address="2 Harbour Rd, Arlington, VA",
    country="US",
    tele="+1 555 0100",
    consent_jurisdiction=True,
    accepts_service=True,
)

FRI = date(2025, 6, 6)  # a Friday


def test_complete_counter_notice_passes() -> None:
    """A counter-notice with every §512(g)(3) element is complete with nothing missing."""
    result = validate_counter(COUNTER)
    assert result.status is Status.COMPLETE
    assert result.missing == []


@pytest.mark.parametrize(
    ("change", "element"),
    [
        pytest.param({"signature": " "}, "signature", id="A-signature"),
        pytest.param({"material": ""}, "material", id="B-material"),
        pytest.param({"location": ""}, "location", id="B-location"),
        pytest.param({"statement_mistake_perjury": False}, "mistake_statement", id="C-perjury"),
        pytest.param({"name": ""}, "name", id="D-name"),
        pytest.param({"address": "\n"}, "address", id="D-address"),
        pytest.param({"tele": ""}, "telephone", id="D-telephone"),
        pytest.param({"consent_jurisdiction": False}, "jurisdiction_consent", id="D-jurisdiction"),
        pytest.param({"accepts_service": False}, "accepts_service", id="D-service"),
    ],
)
def test_each_missing_element_is_named(change: dict[str, object], element: str) -> None:
    """Each missing §512(g)(3) element is named alone, and the counter-notice is invalid."""
    result = validate_counter(replace(COUNTER, **change))  # type: ignore[arg-type]
    assert result.status is Status.INVALID
    assert result.missing == [element]
    assert result.problems[0].repair


def test_empty_counter_notice_lists_all_in_statutory_order() -> None:
    """An empty form names every element, in the order §512(g)(3) lists them."""
    assert validate_counter(CounterNotice()).missing == [
        "signature",
        "material",
        "location",
        "mistake_statement",
        "name",
        "address",
        "telephone",
        "jurisdiction_consent",
        "accepts_service",
    ]


@pytest.mark.parametrize(
    ("country", "phrase"),
    [
        pytest.param("US", "judicial district where your address is", id="us"),
        pytest.param("us", "judicial district where your address is", id="us-lowercase"),
        pytest.param("DE", "any US federal district court where we may be found", id="abroad"),
        pytest.param("", "any US federal district court where we may be found", id="unknown"),
    ],
)
def test_jurisdiction_repair_depends_on_address(country: str, phrase: str) -> None:
    """The forum in the repair message follows §512(g)(3)(D): home district, or any abroad."""
    counter = replace(COUNTER, country=country, consent_jurisdiction=False)
    assert phrase in validate_counter(counter).problems[0].repair


@pytest.mark.parametrize(
    ("start", "n", "holidays", "expected"),
    [
        pytest.param(FRI, 0, frozenset(), FRI, id="zero-is-start"),
        pytest.param(FRI, 1, frozenset(), date(2025, 6, 9), id="friday-plus-1-is-monday"),
        pytest.param(FRI, 5, frozenset(), date(2025, 6, 13), id="friday-plus-5"),
        pytest.param(FRI, 10, frozenset(), date(2025, 6, 20), id="friday-plus-10"),
        pytest.param(date(2025, 6, 7), 1, frozenset(), date(2025, 6, 9), id="saturday-start"),
        pytest.param(FRI, 1, frozenset({date(2025, 6, 9)}), date(2025, 6, 10), id="holiday-monday"),
        pytest.param(
            date(2025, 7, 3), 1, frozenset({date(2025, 7, 4)}), date(2025, 7, 7), id="july-4th"
        ),
        pytest.param(
            FRI, 1, frozenset({date(2025, 6, 7)}), date(2025, 6, 9), id="weekend-holiday-no-op"
        ),
        pytest.param(
            datetime(2025, 6, 6, 23, 59, tzinfo=UTC), 1, frozenset(), date(2025, 6, 9), id="dt"
        ),
    ],
)
def test_business_days_after(
    start: date, n: int, holidays: frozenset[date], expected: date
) -> None:
    """Business days skip Saturdays, Sundays and the given holidays; the start day is not counted."""
    assert business_days_after(start, n, holidays=holidays) == expected


def test_business_days_after_rejects_negative() -> None:
    """A negative count of business days is a caller's error."""
    with pytest.raises(ValueError, match="zero or more"):
        business_days_after(FRI, -1)


@pytest.mark.parametrize(
    ("received", "holidays", "window"),
    [
        pytest.param(FRI, frozenset(), (date(2025, 6, 20), date(2025, 6, 26)), id="friday"),
        pytest.param(
            date(2025, 6, 9), frozenset(), (date(2025, 6, 23), date(2025, 6, 27)), id="monday"
        ),
        pytest.param(
            FRI,
            frozenset({date(2025, 6, 19)}),
            (date(2025, 6, 23), date(2025, 6, 27)),
            id="juneteenth",
        ),
    ],
)
def test_restore_window(
    received: date, holidays: frozenset[date], window: tuple[date, date]
) -> None:
    """The window runs from the 10th to the 14th business day after receipt."""
    assert restore_window(received, holidays=holidays) == window


@pytest.mark.parametrize(
    ("now", "lawsuit", "due"),
    [
        pytest.param(datetime(2025, 6, 19, 23, 59, tzinfo=UTC), False, False, id="day-before"),
        pytest.param(datetime(2025, 6, 20, 0, 0, tzinfo=UTC), False, True, id="first-moment"),
        pytest.param(datetime(2025, 6, 26, 12, 0, tzinfo=UTC), False, True, id="last-day"),
        pytest.param(datetime(2025, 7, 1, 12, 0, tzinfo=UTC), False, True, id="late-still-due"),
        pytest.param(datetime(2025, 6, 20, 0, 0, tzinfo=UTC), True, False, id="lawsuit-filed"),
    ],
)
def test_restore_due_boundary(now: datetime, lawsuit: bool, due: bool) -> None:
    """Restore from the 10th business day on, unless the complainant has filed an action."""
    received = datetime(2025, 6, 6, 15, 30, tzinfo=UTC)
    assert restore_due(received, now, lawsuit_filed=lawsuit) is due
