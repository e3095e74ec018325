"""`veil abuse list|show|act`: the operator's queue, as a client of the running API.

    veil abuse list [--state S] [--category dmca] [--overdue] [--escalated] [--json]
    veil abuse show CASE [--json]
    veil abuse act CASE --type legal_block [--countries DE,FR] [--effective 2026-12-01T00:00Z]
                        [--url URL ...] [--reason TEXT]
    veil abuse act --action ID --event cancel

Options `--data-dir`, `--api`, `--token` as for every API client (`veil.cli.api_commands`).
Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click
from rich.table import Table

from veil.abuse.actions import ActionEvent, ActionType
from veil.abuse.cases import CaseState
from veil.abuse.notices import Category
from veil.cli.abuse_commands import abuse as abuse
from veil.cli.api_commands import Target, call, common_options, console, die, fetch_all

CATEGORIES = sorted(
    {c.value for c in Category} | {c.value.removeprefix("abuse_") for c in Category}
)
EVENTS = [e.value for e in ActionEvent if e is not ActionEvent.REQUEST_REVIEW]


def _category(value: str | None) -> str | None:
    if value is None:
        return None
    return value if value.startswith("abuse_") else f"abuse_{value}"


def _when(text: str | None, option: str) -> str | None:
    """ISO 8601 (Z or offset; no zone = UTC) -> RFC 3339 for the API."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        die(f"invalid {option} {text!r}: use ISO 8601, e.g. 2026-12-01T00:00Z")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def _short(stamp: str | None) -> str:
    """2026-12-01T10:00:00Z -> 2026-12-01 10:00 (UTC)."""
    if not stamp:
        return "-"
    return stamp.replace("T", " ")[:16]


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


@abuse.command("list")
@click.option(
    "--state",
    type=click.Choice([s.value for s in CaseState]),
    default=None,
    help="Only cases in this state (default: every open case).",
)
@click.option(
    "--category",
    type=click.Choice(CATEGORIES),
    default=None,
    help="Only this category (dmca, phishing, children, …).",
)
@click.option("--domain", default=None, help="Only cases about this zone.")
@click.option("--reporter", default=None, help="Only cases from this reporter (id or e-mail).")
@click.option("--overdue", is_flag=True, help="Only cases past their deadline.")
@click.option("--escalated", is_flag=True, help="Only escalated cases.")
@click.option("--json", "as_json", is_flag=True, help="Print the cases as JSON.")
@common_options
def abuse_list(
    target: Target,
    state: str | None,
    category: str | None,
    domain: str | None,
    reporter: str | None,
    overdue: bool,
    escalated: bool,
    as_json: bool,
) -> None:
    """The queue: open cases, the nearest deadline first."""
    params: dict[str, Any] = {
        k: v
        for k, v in {
            "state": state,
            "category": _category(category),
            "domain": domain,
            "reporter": reporter,
            "overdue": "true" if overdue else None,
            "escalated": "true" if escalated else None,
        }.items()
        if v is not None
    }
    cases = fetch_all(target, "/veil/abuse/cases", params)
    if as_json:
        _print_json(cases)
        return
    if not cases:
        console().print("no cases")
        return
    table = Table(
        "ID",
        "CATEGORY",
        "DOMAIN",
        "STATE",
        "DEADLINE",
        "OVERDUE",
        "FLAGS",
        box=None,
        pad_edge=False,
    )
    for c in cases:
        flags = [
            f
            for f, on in (
                ("escalated", c["escalated"]),
                ("suspension-review", c["suspension_review"]),
            )
            if on
        ]
        table.add_row(
            c["id"],
            c["category"].removeprefix("abuse_"),
            c["domain"] or "-",
            c["state"],
            _short(c["deadline_on"]),
            "yes" if c["overdue"] else "",
            ",".join(flags),
        )
    console().print(table)


def _line(label: str, value: Any) -> None:
    console().print(f"{label + ':':<16}{value}")


def _show_case(case: dict[str, Any]) -> None:
    out = console()
    overdue = " (overdue)" if case["overdue"] else ""
    _line("case", case["id"])
    _line("category", case["category"].removeprefix("abuse_"))
    _line("state", f"{case['state']} (validation {case['validation']})")
    _line("source", f"{case['source']} via {case['channel']}")
    _line("domain", case["domain"] or "-")
    _line("account", case["account_id"] or "-")
    _line("received", _short(case["received_on"]))
    _line("deadline", _short(case["deadline_on"]) + overdue)
    _line("reporter", case["reporter_email"] or "(anonymous)")
    _line("origin", case["origin_ip"] or "-")
    host = case["host"] or {}
    if host:
        _line("host", f"{host.get('name')} ({host.get('abuse_email') or 'no abuse contact'})")
    if case["order"]:
        order = case["order"]
        _line(
            "order",
            f"{order['authority']} ({order['country']}), scope "
            f"{', '.join(order['scope'])}: {order['legal_basis']}",
        )
    if case["escalated"]:
        _line("escalated", _short(case["escalated_on"]))
    if case["suspension_review"]:
        _line("strikes", f"{len(case['strikes'])}: the account is due a suspension review")
    out.print("urls:")
    for url in case["url_list"]:
        out.print(f"  {url}")
    for problem in case["problems"]:
        out.print(f"missing {problem['element']}: {problem['repair']}")
    _show_rows(
        "actions",
        case["actions"],
        lambda a: (
            f"{a['id']}  {a['type']} {a['status']} from {_short(a['effective_on'])}"
            + (f" in {','.join(a['countries'])}" if a["countries"] else "")
        ),
    )
    _show_rows(
        "disclosures",
        case["disclosures"],
        lambda d: f"{_short(d['at'])}  {d['what']} to {d['party']} ({d['recipient']})",
    )
    _show_rows(
        "messages",
        case["messages"],
        lambda m: f"{_short(m['at'])}  {m['direction']} {m['party']}: {m['kind']}",
    )
    _show_rows(
        "counter-notices",
        case["counter_notices"],
        lambda c: (
            f"{_short(c['received_on'])}  {'valid' if c['valid'] else 'invalid'}, restore due "
            f"{_short(c['restore_due_on'])}"
        ),
    )
    _show_rows("log", case["log"], lambda e: f"{_short(e['at'])}  {_event_text(e)}")
    if case["allowed_events"]:
        out.print(f"next: {', '.join(case['allowed_events'])}")


def _event_text(entry: dict[str, Any]) -> str:
    if entry["event"] == "case_state":
        return f"case_state {entry.get('from')} -> {entry.get('to')}"
    if entry["event"] == "action_status":
        return f"action_status {entry.get('type')} {entry.get('from')} -> {entry.get('to')}"
    return str(entry["event"])


def _show_rows(title: str, rows: list[dict[str, Any]], text: Any) -> None:
    if not rows:
        return
    console().print(f"{title}:")
    for row in rows:
        console().print(f"  {text(row)}")


@abuse.command("show")
@click.argument("case_id")
@click.option("--json", "as_json", is_flag=True, help="Print the case as JSON.")
@common_options
def abuse_show(target: Target, case_id: str, as_json: bool) -> None:
    """One case in full: notice, URLs, origin, actions, disclosures, messages, log."""
    case = call(target, "GET", f"/veil/abuse/cases/{case_id.strip()}")
    if as_json:
        _print_json(case)
    else:
        _show_case(case)


def _countries(text: str) -> list[str]:
    codes = [c.strip().upper() for c in text.split(",") if c.strip()]
    bad = [c for c in codes if len(c) != 2 or not c.isalpha()]
    if bad:
        die(f"invalid --countries {text!r}: use ISO 3166-1 alpha-2 codes, e.g. DE,FR")
    return codes


@abuse.command("act")
@click.argument("case_id", required=False)
@click.option(
    "--type",
    "action_type",
    type=click.Choice([t.value for t in ActionType]),
    default=None,
    help="The action to take on CASE.",
)
@click.option("--countries", default="", help="Only in these countries (legal_block), e.g. DE,FR.")
@click.option(
    "--effective",
    default=None,
    help="Effective from (ISO 8601; default: now or as the category says).",
)
@click.option("--url", "urls", multiple=True, help="Only this URL of the case (repeatable).")
@click.option("--reason", default=None, help="The explanation in the statement of reasons.")
@click.option("--action", "action_id", default=None, help="An existing action to move.")
@click.option("--event", type=click.Choice(EVENTS), default=None, help="What to do to --action.")
@common_options
def abuse_act(
    target: Target,
    case_id: str | None,
    action_type: str | None,
    countries: str,
    effective: str | None,
    urls: tuple[str, ...],
    reason: str | None,
    action_id: str | None,
    event: str | None,
) -> None:
    """Act on CASE (--type …), or move an action (--action ID --event cancel)."""
    if action_id is not None or event is not None:
        if case_id is not None or action_type is not None:
            die("give either CASE with --type, or --action with --event, not both")
        if action_id is None or event is None:
            die("--action and --event go together, e.g. --action ID --event cancel")
        action = call(target, "POST", f"/veil/abuse/actions/{action_id.strip()}/{event}")
        console().print(f"action {action['id']}: {action['type']} is now {action['status']}")
        return
    if case_id is None or action_type is None:
        die("name the case and the action: veil abuse act CASE --type legal_block")
    body: dict[str, Any] = {"type": action_type, "countries": _countries(countries)}
    when = _when(effective, "--effective")
    if when is not None:
        body["effective_on"] = when
    if urls:
        body["targets"] = list(urls)
    if reason is not None:
        body["reason"] = reason
    action = call(target, "POST", f"/veil/abuse/cases/{case_id.strip()}/actions", json=body)
    where = f" in {','.join(action['countries'])}" if action["countries"] else ""
    console().print(
        f"action {action['id']}: {action['type']} {action['status']}{where}, "
        f"effective {_short(action['effective_on'])} UTC, {len(action['targets'])} URL(s)"
    )
