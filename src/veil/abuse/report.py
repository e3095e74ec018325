"""The transparency report (DSA Art. 15), computed from the desk's hash-chained log alone.

Theory of operation. The log (`veil.abuse.ledger`) records each fact the report counts once, so
the report is a fold over its entries: no table is read, and anyone holding the log (and its
published head hash, `veil.abuse.chain`) can recompute every figure. `build_report(entries,
period, anchor)` walks the entries once and returns a `Report`: named sections of counts and
named medians, rendered as JSON (`to_json`), CSV (`to_csv`) or a self-contained HTML page
(`to_html`). The page prints the log's head hash, row count and date (the anchor) so a later
rewrite of the log no longer matches what was published.

What falls in the period. The period is half-open, [start, end), on each entry's `at`. A count
counts the events that happened in it: notices received, actions created, status changes,
counter-notices, orders, strikes, escalations. The medians follow the notices received in the
period to their first forward (received -> first `notice_forwarded`) and to their first
effective action (received -> first `action_created` with status active, or `action_status`
to active), whenever that came (up to the end of the log); cases still waiting are left out and
the median's `count` says how many were measured. Orders: `order_received` -> first effective
action on the same case.

The DSA Art. 15(1) headings and where they are answered:
- (a) orders by Member State and type, median time to give effect: `orders_by_country`,
  `orders_by_category`, median `order_to_effective_action` (orders are not notices: they
  are counted here, not under the notice headings);
- (b) notices by type of alleged illegal content, trusted flaggers apart, action taken, median
  time to act: `notices_by_category_and_source`, `actions_by_type`,
  `received_to_first_effective_action` (and, a CDN's own step, `received_to_first_forward`);
- (c) own-initiative moderation, automated means: `notices_by_source` (voluntary),
  `actions_automated`;
- (d) complaints and reversals: `counter_notices`, `reversals`.

Entries that are not JSON objects with a known `event` and a readable `at` are skipped and
counted (`log / unreadable_entries`), never fatal: a report over a damaged log still says so.
Pure: no I/O, no clock.
"""

from __future__ import annotations

import csv
import html
import io
import json
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from veil.abuse.cases import require_utc
from veil.abuse.ledger import Event, rfc3339


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end): timezone-aware UTC, start before end."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        require_utc(self.start, "start")
        require_utc(self.end, "end")
        if self.start >= self.end:
            raise ValueError("the period must start before it ends")

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True, slots=True)
class Anchor:
    """What the report prints about the log it was computed from (see `veil.abuse.chain`)."""

    head: str  # the last row's hash at generation time
    rows: int
    generated_at: datetime
    verified: bool  # the chain verified when the report was made


@dataclass(frozen=True, slots=True)
class Median:
    seconds: float | None  # None when nothing was measured
    count: int


# (name, title, legal heading) in the order the report shows them.
SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("notices", "Notices", "DSA Art. 15(1)(b)"),
    ("notices_by_category_and_source", "Notices by category and source", "DSA Art. 15(1)(b)"),
    ("notices_by_category", "Notices by category", "DSA Art. 15(1)(b)"),
    ("notices_by_source", "Notices by source", "DSA Art. 15(1)(b), (c)"),
    ("notices_by_channel", "Notices by channel", ""),
    ("notices_by_validation", "Notices by validation at receipt", "17 U.S.C. §512(c)(3)"),
    ("notices_by_network", "Notices on and off our network", ""),
    ("forwards_by_party", "Notices forwarded, by recipient", "DSA Art. 15(1)(b)"),
    ("actions_by_type", "Actions by type", "DSA Art. 15(1)(b)"),
    ("actions_automated", "Actions decided by automated means", "DSA Art. 15(1)(c), (e)"),
    ("action_status_changes", "Action status changes", ""),
    ("orders_by_country", "Authority orders by issuing country", "DSA Art. 15(1)(a), Art. 9"),
    ("orders_by_category", "Authority orders by category", "DSA Art. 15(1)(a)"),
    ("counter_notices", "Counter-notices", "17 U.S.C. §512(g); DSA Art. 15(1)(d)"),
    ("reversals", "Reversals", "DSA Art. 15(1)(d)"),
    ("strikes", "Repeat-infringer strikes", "17 U.S.C. §512(i)"),
    ("escalations", "Escalations", ""),
    ("disclosures", "Disclosures, by recipient and what", ""),
    ("log", "Log", ""),
)
SECTION_NAMES = tuple(name for name, _, _ in SECTIONS)

MEDIANS: tuple[tuple[str, str], ...] = (
    ("received_to_first_forward", "Median time from receipt to first forward"),
    ("received_to_first_effective_action", "Median time from receipt to an effective action"),
    ("order_to_effective_action", "Median time from an order to giving it effect"),
)


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    anchor: Anchor
    sections: Mapping[str, Mapping[str, int]]
    medians: Mapping[str, Median]

    def count(self, section: str, item: str) -> int:
        return self.sections.get(section, {}).get(item, 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "period": {"start": rfc3339(self.period.start), "end": rfc3339(self.period.end)},
            "log": {
                "head": self.anchor.head,
                "rows": self.anchor.rows,
                "generated_at": rfc3339(self.anchor.generated_at),
                "verified": self.anchor.verified,
            },
            "sections": {name: dict(items) for name, items in self.sections.items()},
            "medians": {
                name: {"seconds": m.seconds, "count": m.count} for name, m in self.medians.items()
            },
        }


def _when(entry: Mapping[str, Any]) -> datetime | None:
    raw = entry.get("at")
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.utcoffset() == timedelta(0) else None


def _event(entry: Mapping[str, Any]) -> Event | None:
    raw = entry.get("event")
    try:
        return Event(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "unknown" if value is None or value == "" else str(value)


@dataclass(slots=True)
class _Fold:
    period: Period
    counts: dict[str, Counter[str]] = field(
        default_factory=lambda: {name: Counter() for name in SECTION_NAMES}
    )
    received: dict[str, datetime] = field(default_factory=dict)  # case -> first receipt
    in_period: set[str] = field(default_factory=set)  # cases received in the period
    ordered: dict[str, datetime] = field(default_factory=dict)  # case -> order (in period)
    forwarded: dict[str, datetime] = field(default_factory=dict)  # case -> first forward
    effective: dict[str, datetime] = field(default_factory=dict)  # case -> first effect

    def add(self, section: str, item: str) -> None:
        self.counts[section][item] += 1

    def first(self, table: dict[str, datetime], case: str, at: datetime) -> None:
        if case not in table or at < table[case]:
            table[case] = at


def _notice(fold: _Fold, entry: Mapping[str, Any], at: datetime, case: str) -> None:
    fold.first(fold.received, case, at)
    if not fold.period.holds(at):
        return
    fold.in_period.add(case)
    category, source = _text(entry, "category"), _text(entry, "source")
    fold.add("notices", "received")
    fold.add("notices_by_category_and_source", f"{category} / {source}")
    fold.add("notices_by_category", category)
    fold.add("notices_by_source", source)
    fold.add("notices_by_channel", _text(entry, "channel"))
    fold.add("notices_by_validation", _text(entry, "validation"))
    on_network = entry.get("on_network")
    fold.add("notices_by_network", "on_network" if on_network is True else "off_network")


def _action_created(fold: _Fold, entry: Mapping[str, Any], at: datetime, case: str) -> None:
    if entry.get("status") == "active":
        fold.first(fold.effective, case, at)
    if fold.period.holds(at):
        fold.add("actions_by_type", _text(entry, "type"))
        automated = entry.get("automated") is True
        fold.add("actions_automated", "automated" if automated else "human")


# Status changes that undo an action (DSA Art. 15(1)(d) "decisions reversed").
_REVERSALS = {
    ("in_review", "cancelled"): "overturned_on_review",
    ("pending", "cancelled"): "cancelled_before_effect",
    ("active", "removed"): "lifted",
}


def _action_status(fold: _Fold, entry: Mapping[str, Any], at: datetime, case: str) -> None:
    before, after = _text(entry, "from"), _text(entry, "to")
    if after == "active":
        fold.first(fold.effective, case, at)
    if fold.period.holds(at):
        fold.add("action_status_changes", f"{before} -> {after}")
        reversal = _REVERSALS.get((before, after))
        if reversal is not None:
            fold.add("reversals", f"actions_{reversal}")


def _in_period(
    fold: _Fold, event: Event, entry: Mapping[str, Any], at: datetime, case: str
) -> None:
    """The events that are plain counts of what happened in the period."""
    if event == Event.NOTICE_JOINED:
        fold.add("notices", "duplicates_joined")
    elif event == Event.NOTICE_REPAIRED:
        fold.add("notices", "repaired")
    elif event == Event.NOTICE_FORWARDED:
        fold.add("forwards_by_party", _text(entry, "party"))
    elif event == Event.COUNTER_NOTICE:
        fold.add("counter_notices", "valid" if entry.get("valid") is True else "invalid")
    elif event == Event.RESTORED:
        fold.add("reversals", "restored_after_counter_notice")
    elif event == Event.STRIKE:
        fold.add("strikes", "issued")
    elif event == Event.STRIKE_REVERSED:
        fold.add("strikes", "reversed")
        fold.add("reversals", "strikes_reversed")
    elif event == Event.ESCALATED:
        fold.add("escalations", "escalated")
    elif event == Event.DISCLOSURE:
        fold.add("disclosures", f"{_text(entry, 'party')} / {_text(entry, 'what')}")
    elif event == Event.ORDER_RECEIVED:
        fold.add("orders_by_country", _text(entry, "country").upper())
        fold.add("orders_by_category", _text(entry, "category"))
        fold.first(fold.ordered, case, at)


def _step(fold: _Fold, entry: Mapping[str, Any]) -> None:
    at = _when(entry)
    event = _event(entry)
    if at is None or event is None:
        fold.add("log", "unreadable_entries")
        return
    case = _text(entry, "case")
    if event == Event.NOTICE_RECEIVED:
        _notice(fold, entry, at, case)
    elif event == Event.ACTION_CREATED:
        _action_created(fold, entry, at, case)
    elif event == Event.ACTION_STATUS:
        _action_status(fold, entry, at, case)
    else:
        if event == Event.NOTICE_FORWARDED:
            fold.first(fold.forwarded, case, at)
        if fold.period.holds(at):
            _in_period(fold, event, entry, at, case)


def _median(starts: Mapping[str, datetime], ends: Mapping[str, datetime]) -> Median:
    spans = [
        (ends[case] - start).total_seconds()
        for case, start in starts.items()
        if case in ends and ends[case] >= start
    ]
    return Median(statistics.median(spans) if spans else None, len(spans))


def build_report(entries: Iterable[Mapping[str, Any]], period: Period, anchor: Anchor) -> Report:
    """Fold the log's entries (oldest first) into the report for `period` (module doc)."""
    fold = _Fold(period)
    for entry in entries:
        if isinstance(entry, Mapping):
            _step(fold, entry)
        else:
            fold.add("log", "unreadable_entries")
    cohort = {case: fold.received[case] for case in fold.in_period}
    medians = {
        "received_to_first_forward": _median(cohort, fold.forwarded),
        "received_to_first_effective_action": _median(cohort, fold.effective),
        "order_to_effective_action": _median(fold.ordered, fold.effective),
    }
    sections = {name: dict(sorted(fold.counts[name].items())) for name in SECTION_NAMES}
    return Report(period=period, anchor=anchor, sections=sections, medians=medians)


# --- rendering ---------------------------------------------------------------------------------


def _seconds_text(seconds: float | None) -> str:
    """A duration for people: 45 s, 12 min, 3 h 05 min, 2 d 4 h."""
    if seconds is None:
        return "n/a"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, _ = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def to_csv(report: Report) -> str:
    """One row per figure: section, item, value (medians in seconds, empty when none)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180 line ends
    writer.writerow(["section", "item", "value"])
    document = report.to_json()
    for key in ("start", "end"):
        writer.writerow(["period", key, document["period"][key]])
    for key in ("head", "rows", "generated_at", "verified"):
        value = document["log"][key]
        writer.writerow(["anchor", key, str(value).lower() if isinstance(value, bool) else value])
    for name in SECTION_NAMES:
        for item, count in report.sections[name].items():
            writer.writerow([name, item, count])
    for name, _ in MEDIANS:
        median = report.medians[name]
        writer.writerow(["median_seconds", name, "" if median.seconds is None else median.seconds])
        writer.writerow(["median_count", name, median.count])
    return out.getvalue()


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;"
    "color:#222}table{border-collapse:collapse;margin:.5rem 0 1.5rem;min-width:24rem}"
    "th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "code{word-break:break-all}small{color:#555}"
)


def _table(rows: Iterable[tuple[str, str]], heads: tuple[str, str]) -> list[str]:
    lines = [f"<table><tr><th scope=col>{heads[0]}</th><th scope=col>{heads[1]}</th></tr>"]
    lines += [
        f"<tr><td>{html.escape(a)}</td><td class=n>{html.escape(b)}</td></tr>" for a, b in rows
    ]
    lines.append("</table>")
    return lines


def to_html(report: Report, *, operator: str = "Veil") -> str:
    """A self-contained page (no scripts, no external resources)."""
    doc = report.to_json()
    who = html.escape(operator)
    lines = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Transparency report — {who}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Transparency report — {who}</h1>",
        f"<p>Period: {doc['period']['start']} to {doc['period']['end']} (end excluded).</p>",
        "<p>Computed from the abuse desk's hash-chained audit log alone. "
        f"Log head <code>{html.escape(report.anchor.head)}</code>, {report.anchor.rows} rows, "
        f"at {doc['log']['generated_at']}; chain "
        f"{'verified' if report.anchor.verified else '<strong>FAILED verification</strong>'}."
        "</p>",
        "<h2>Median times</h2>",
    ]
    medians = [
        (title, f"{_seconds_text(report.medians[n].seconds)} (n={report.medians[n].count})")
        for n, title in MEDIANS
    ]
    lines += _table(medians, ("Measure", "Median"))
    for name, title, heading in SECTIONS:
        items = report.sections[name]
        if name == "log" and not items:
            continue
        cite = f" <small>{html.escape(heading)}</small>" if heading else ""
        lines.append(f"<h2>{html.escape(title)}{cite}</h2>")
        if not items:
            lines.append("<p>None in this period.</p>")
            continue
        lines += _table(((item, str(n)) for item, n in items.items()), ("Item", "Count"))
    lines.append("</body></html>")
    return "\n".join(lines) + "\n"


def to_json_text(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, sort_keys=False) + "\n"
