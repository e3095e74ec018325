"""The transparency report: counts by DSA Art. 15 heading, medians, the period, CSV and HTML."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from veil.abuse.chain import GENESIS
from veil.abuse.ledger import Event, entry
from veil.abuse.report import (
    SECTION_NAMES,
    Anchor,
    Period,
    build_report,
    to_csv,
    to_html,
    to_json_text,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PERIOD = Period(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
ANCHOR = Anchor(
    head="ab" * 32, rows=42, generated_at=datetime(2026, 4, 2, tzinfo=UTC), verified=True
)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def received(case: str, hours: float = 0, **fields: Any) -> dict[str, object]:
    base: dict[str, Any] = {
        "category": "abuse_dmca",
        "channel": "form",
        "source": "ordinary",
        "validation": "complete",
        "urls": 1,
        "on_network": True,
    }
    return entry(Event.NOTICE_RECEIVED, at(hours), case=case, **{**base, **fields})


def forwarded(case: str, hours: float, party: str = "customer") -> dict[str, object]:
    return entry(Event.NOTICE_FORWARDED, at(hours), case=case, party=party)


def created(case: str, hours: float, status: str = "pending", **kw: Any) -> dict[str, object]:
    fields: dict[str, Any] = {"type": "legal_block", "countries": [], "automated": False, **kw}
    return entry(
        Event.ACTION_CREATED, at(hours), case=case, action=f"a-{case}", status=status, **fields
    )


def status(case: str, hours: float, before: str, after: str) -> dict[str, object]:
    return entry(
        Event.ACTION_STATUS,
        at(hours),
        case=case,
        action=f"a-{case}",
        type="legal_block",
        **{"from": before, "to": after},
    )


def report(entries: list[dict[str, object]], period: Period = PERIOD) -> Any:
    return build_report(entries, period, ANCHOR)


def test_notices_are_counted_by_category_source_channel_validation_and_network() -> None:
    """Each notice_received in the period counts once under every notice heading."""
    log = [
        received("c1"),
        received("c2", 1, source="trusted", channel="api"),
        received("c3", 2, category="abuse_phishing", source="trusted"),
        received("c4", 3, validation="incomplete_awaiting_reporter", channel="email"),
        received("c5", 4, validation="invalid", on_network=False, urls=2),
        received("c6", 5, category="abuse_general", source="voluntary"),
    ]
    r = report(log)
    assert r.count("notices", "received") == 6
    assert r.sections["notices_by_category_and_source"] == {
        "abuse_dmca / ordinary": 3,
        "abuse_dmca / trusted": 1,
        "abuse_general / voluntary": 1,
        "abuse_phishing / trusted": 1,
    }
    assert r.sections["notices_by_source"] == {"ordinary": 3, "trusted": 2, "voluntary": 1}
    assert r.sections["notices_by_channel"] == {"api": 1, "email": 1, "form": 4}
    assert r.sections["notices_by_validation"] == {
        "complete": 4,
        "incomplete_awaiting_reporter": 1,
        "invalid": 1,
    }
    assert r.sections["notices_by_network"] == {"off_network": 1, "on_network": 5}


@pytest.mark.parametrize(
    ("moment", "counted"),
    [
        pytest.param(datetime(2026, 3, 1, tzinfo=UTC), True, id="start-included"),
        pytest.param(datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC), True, id="last-second"),
        pytest.param(datetime(2026, 4, 1, tzinfo=UTC), False, id="end-excluded"),
        pytest.param(datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC), False, id="before"),
    ],
)
def test_the_period_is_half_open(moment: datetime, counted: bool) -> None:
    """[start, end): an event at the start counts, one at the end belongs to the next period."""
    log = [entry(Event.NOTICE_RECEIVED, moment, case="c", category="abuse_dmca", on_network=True)]
    assert report(log).count("notices", "received") == (1 if counted else 0)


def test_medians_pair_each_case_with_its_first_forward_and_first_effect() -> None:
    """Median receipt->first forward and receipt->first effective action, by case."""
    log = [
        received("c1", 0),
        received("c2", 0),
        received("c3", 0),
        forwarded("c1", 1),
        forwarded("c1", 5, party="host"),  # not the first: ignored
        forwarded("c2", 3),
        forwarded("c3", 2),
        created("c1", 10, status="active"),
        created("c2", 4),  # pending: not effective yet
        status("c2", 28, "pending", "active"),
    ]
    r = report(log)
    fwd = r.medians["received_to_first_forward"]
    assert (fwd.seconds, fwd.count) == (2 * 3600, 3)
    act = r.medians["received_to_first_effective_action"]
    assert (act.seconds, act.count) == (19 * 3600, 2)  # median of 10 h and 28 h


def test_medians_follow_the_notices_received_in_the_period_even_if_acted_on_later() -> None:
    """The cohort is the period's notices; a forward after the end still measures them, while a
    notice received before the period is not measured."""
    period = Period(T0, at(2))
    log = [received("old", -5), received("new", 1), forwarded("old", 1.5), forwarded("new", 7)]
    fwd = report(log, period).medians["received_to_first_forward"]
    assert (fwd.seconds, fwd.count) == (6 * 3600, 1)


def test_empty_medians_are_none_with_count_zero() -> None:
    """Nothing measured is None, not zero."""
    r = report([received("c1")])
    assert r.medians["received_to_first_effective_action"].seconds is None
    assert r.medians["received_to_first_effective_action"].count == 0


def test_actions_by_type_automation_and_status_changes_and_reversals() -> None:
    """Actions by type; automated apart; status changes; overturned/cancelled/lifted are
    reversals, as are restorations and reversed strikes."""
    log = [
        created("c1", 1, status="active", type="phishing_interstitial", automated=True),
        created("c2", 1),
        created("c3", 1, type="cache_purge", status="active"),
        status("c2", 2, "pending", "in_review"),
        status("c2", 3, "in_review", "cancelled"),
        status("c1", 4, "active", "removed"),
        entry(Event.COUNTER_NOTICE, at(5), case="c3", valid=True),
        entry(Event.COUNTER_NOTICE, at(5), case="c3", valid=False),
        entry(Event.RESTORED, at(6), case="c3"),
        entry(Event.STRIKE, at(6), case="c3", account="acc"),
        entry(Event.STRIKE_REVERSED, at(7), case="c3", account="acc"),
        entry(Event.ESCALATED, at(8), case="c9"),
    ]
    r = report(log)
    assert r.sections["actions_by_type"] == {
        "cache_purge": 1,
        "legal_block": 1,
        "phishing_interstitial": 1,
    }
    assert r.sections["actions_automated"] == {"automated": 1, "human": 2}
    assert r.sections["action_status_changes"] == {
        "active -> removed": 1,
        "in_review -> cancelled": 1,
        "pending -> in_review": 1,
    }
    assert r.sections["counter_notices"] == {"invalid": 1, "valid": 1}
    assert r.sections["reversals"] == {
        "actions_lifted": 1,
        "actions_overturned_on_review": 1,
        "restored_after_counter_notice": 1,
        "strikes_reversed": 1,
    }
    assert r.sections["strikes"] == {"issued": 1, "reversed": 1}
    assert r.sections["escalations"] == {"escalated": 1}


def test_orders_by_country_and_median_time_to_give_effect() -> None:
    """Orders count by issuing country (upper-cased) and category, apart from notices;
    order -> first effective action."""
    log = [
        entry(Event.ORDER_RECEIVED, at(0), case="o1", country="de", category="abuse_dmca"),
        entry(Event.ORDER_RECEIVED, at(0), case="o2", country="DE", category="abuse_general"),
        entry(Event.ORDER_RECEIVED, at(0), case="o3", country="FR", category="abuse_dmca"),
        created("o1", 2, status="active"),
        created("o3", 6, status="active"),
    ]
    r = report(log)
    assert r.sections["orders_by_country"] == {"DE": 2, "FR": 1}
    assert r.sections["orders_by_category"] == {"abuse_dmca": 2, "abuse_general": 1}
    assert r.count("notices", "received") == 0  # orders are not notices
    median = r.medians["order_to_effective_action"]
    assert (median.seconds, median.count) == (4 * 3600, 2)


def test_duplicates_repairs_forwards_and_disclosures_are_counted() -> None:
    """Joined duplicates, repairs, forwards by party and disclosures by recipient and kind."""
    log = [
        entry(Event.NOTICE_JOINED, at(1), case="c1"),
        entry(Event.NOTICE_REPAIRED, at(1), case="c1", validation="complete"),
        forwarded("c1", 2, "customer"),
        forwarded("c1", 2, "host"),
        entry(Event.DISCLOSURE, at(2), case="c1", party="host", what="origin_ip"),
    ]
    r = report(log)
    assert r.count("notices", "duplicates_joined") == 1
    assert r.count("notices", "repaired") == 1
    assert r.sections["forwards_by_party"] == {"customer": 1, "host": 1}
    assert r.sections["disclosures"] == {"host / origin_ip": 1}


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"event": "notice_received"}, id="no-at"),
        pytest.param({"event": "nonsense", "at": "2026-03-02T00:00:00Z"}, id="unknown-event"),
        pytest.param({"event": "escalated", "at": "yesterday"}, id="bad-at"),
        pytest.param({"event": "escalated", "at": "2026-03-02T00:00:00"}, id="naive-at"),
        pytest.param(["not", "an", "object"], id="not-an-object"),
    ],
)
def test_unreadable_entries_are_counted_not_fatal(bad: Any) -> None:
    """A damaged entry is skipped and counted under log / unreadable_entries."""
    r = report([bad, received("c1")])
    assert r.count("log", "unreadable_entries") == 1
    assert r.count("notices", "received") == 1


def test_period_must_be_utc_and_nonempty() -> None:
    """A naive or reversed period is refused."""
    with pytest.raises(ValueError):
        Period(datetime(2026, 3, 1), datetime(2026, 4, 1))
    with pytest.raises(ValueError):
        Period(PERIOD.end, PERIOD.start)


def test_csv_has_anchor_every_count_and_medians() -> None:
    """CSV: section,item,value rows — the period, the log anchor, each count, each median."""
    r = report([received("c1"), forwarded("c1", 1.5)])
    rows = list(csv.reader(io.StringIO(to_csv(r))))
    assert rows[0] == ["section", "item", "value"]
    assert ["anchor", "head", "ab" * 32] in rows
    assert ["anchor", "rows", "42"] in rows
    assert ["anchor", "verified", "true"] in rows
    assert ["period", "start", "2026-03-01T00:00:00Z"] in rows
    assert ["notices_by_category_and_source", "abuse_dmca / ordinary", "1"] in rows
    assert ["median_seconds", "received_to_first_forward", "5400.0"] in rows
    assert ["median_seconds", "received_to_first_effective_action", ""] in rows
    assert ["median_count", "received_to_first_forward", "1"] in rows


def test_html_is_self_contained_escaped_and_prints_the_head() -> None:
    """The page has no scripts or external resources, escapes log text, shows head/rows/date."""
    hostile = "<script>alert(1)</script>"
    r = report([received("c1", category=hostile), forwarded("c1", 2)])
    page = to_html(r, operator="Veil & Co")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "src=" not in page and "href=" not in page
    assert "ab" * 32 in page and "42 rows" in page and "2026-04-02T00:00:00Z" in page
    assert "Veil &amp; Co" in page
    assert "2 h 00 min" in page
    for name in ("Notices by category and source", "Counter-notices", "Reversals"):
        assert name in page


def test_html_flags_a_log_that_failed_verification() -> None:
    """A report made from a chain that did not verify says so on its face."""
    bad = Anchor(head=GENESIS, rows=0, generated_at=ANCHOR.generated_at, verified=False)
    assert "FAILED verification" in to_html(build_report([], PERIOD, bad))


def test_json_lists_every_section_even_when_empty() -> None:
    """Every heading is present in the JSON (an empty heading is a reported zero)."""
    text = to_json_text(report([]))
    document = report([]).to_json()
    assert list(document["sections"]) == list(SECTION_NAMES)
    assert '"verified": true' in text
