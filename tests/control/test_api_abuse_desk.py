"""The operator's abuse desk API (SQLite and PostgreSQL): the queue and its deadlines, filters,
case detail, actions and statements of reasons, case events, bulk, orders (DSA Art. 9),
trusted reporters and reporter reputation."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from tests.control.harness import Api
from veil.clock import FakeClock
from veil.control.state import ControlState
from veil.control.store.db import open_database
from veil.control.store.models import (
    AbuseAction,
    AbuseCase,
    AbuseDisclosure,
    AbuseLogEntry,
    AccountHost,
    AuditEntry,
    MailOutbox,
)
from veil.control.store.repo.version import current_version

ORIGIN = "93.184.215.14"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = 3600.0

NOTICE: dict[str, Any] = {
    "email": "counsel@rights.example",
    "name": "Ada Counsel",
    "signature": "Ada Counsel",
    "original_work": "Bridal gown collection 2026",
    "address1": "1 Main St",
    "tele": "+1 555 0100",
    "justification": "Counterfeit gowns sold with our photographs.",
    "comments": "See the listing.",
    "host_notification": "send",
    "owner_notification": "send",
    "agree": 1,
}


def state_of(api: Api) -> ControlState:
    state: ControlState = api.app.state.veil
    return state


def use_clock(api: Api, start: datetime = START) -> FakeClock:
    clock = FakeClock(start.timestamp())
    api.app.state.veil = dataclasses.replace(state_of(api), clock=clock)
    return clock


async def shop(api: Api, name: str = "shop.example") -> dict[str, Any]:
    """A proxied zone (apex and www on ORIGIN) whose account declares its host."""
    zone: dict[str, Any] = await api.zone(name)
    for host in (name, f"www.{name}"):
        await api.ok(
            "POST",
            f"/zones/{zone['id']}/dns_records",
            json={"type": "A", "name": host, "content": ORIGIN, "proxied": True},
        )
    with state_of(api).db.write() as session:
        if session.get(AccountHost, zone["account"]["id"]) is None:
            session.add(
                AccountHost(
                    account_id=zone["account"]["id"],
                    name="Example Hosting GmbH",
                    abuse_email="abuse@hosting.example",
                    modified_on=state_of(api).now(),
                )
            )
        session.commit()
    return zone


async def report(
    api: Api, zone: dict[str, Any], act: str, path: str, **fields: Any
) -> httpx.Response:
    body = {**NOTICE, "act": act, "urls": f"https://{zone['name']}{path}", **fields}
    return await api.client.post(
        f"/accounts/{zone['account']['id']}/abuse-reports/{act}", json=body
    )


async def file(api: Api, zone: dict[str, Any], act: str, path: str, **fields: Any) -> str:
    """File a notice as the operator; the new case's id."""
    response = await report(api, zone, act, path, **fields)
    assert response.status_code == 200, response.text
    case_id: str = response.json()["result"]
    return case_id


async def queue(api: Api, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await api.ok("GET", "/veil/abuse/cases", params=params)
    return rows


async def error(response: httpx.Response, status: int) -> str:
    body = response.json()
    assert response.status_code == status, body
    assert body["success"] is False
    message: str = body["errors"][0]["message"]
    return message


def log_entries(api: Api, event: str) -> list[dict[str, Any]]:
    with state_of(api).db.read() as session:
        return [e for e in session.scalars(select(AbuseLogEntry.entry)) if e["event"] == event]


def mails(api: Api, case_id: str) -> list[MailOutbox]:
    with state_of(api).db.read() as session:
        return list(
            session.scalars(
                select(MailOutbox).where(MailOutbox.case_id == case_id).order_by(MailOutbox.id)
            )
        )


def _hours(row: dict[str, Any]) -> float:
    received = datetime.fromisoformat(row["received_on"].replace("Z", "+00:00"))
    deadline = datetime.fromisoformat(row["deadline_on"].replace("Z", "+00:00"))
    return (deadline - received).total_seconds() / HOUR


async def trust(api: Api, email: str) -> dict[str, Any]:
    [reporter] = await api.ok("GET", "/veil/abuse/reporters", params={"email": email})
    trusted: dict[str, Any] = await api.ok(
        "POST",
        f"/veil/abuse/reporters/{reporter['id']}/trust",
        json={"agreement": "Trusted reporter agreement v1, signed by Rights LLP"},
    )
    return trusted


async def test_queue_orders_by_deadline_per_category(api: Api) -> None:
    """CSAM and threats 1 h, phishing 4 h, a trusted reporter's notice 24 h, others 72 h; the
    queue lists open cases nearest deadline first."""
    clock = use_clock(api)
    zone = await shop(api)
    await file(api, zone, "abuse_dmca", "/first", email="flagger@rights.example")
    await trust(api, "flagger@rights.example")
    clock.advance(60)
    filed = {
        "abuse_general": await file(api, zone, "abuse_general", "/g"),
        "abuse_dmca": await file(api, zone, "abuse_dmca", "/d"),
        "trusted": await file(api, zone, "abuse_dmca", "/t", email="flagger@rights.example"),
        "abuse_phishing": await file(api, zone, "abuse_phishing", "/p"),
        "abuse_threat": await file(api, zone, "abuse_threat", "/th"),
        "abuse_children": await file(api, zone, "abuse_children", "/c"),
    }
    rows = {r["id"]: r for r in await queue(api)}
    hours = {name: _hours(rows[case_id]) for name, case_id in filed.items()}
    assert hours == {
        "abuse_general": 72,
        "abuse_dmca": 72,
        "trusted": 24,
        "abuse_phishing": 4,
        "abuse_threat": 1,
        "abuse_children": 1,
    }
    ordered = [r["deadline_on"] for r in await queue(api)]
    assert ordered == sorted(ordered) and len(ordered) == 7
    assert rows[filed["trusted"]]["source"] == "trusted"
    assert not any(r["overdue"] for r in rows.values())


async def test_overdue_filters_and_paging(api: Api) -> None:
    """After 2 h the 1-hour cases are overdue; filters by category, domain, reporter, state,
    escalation; pagination counts; bad filter values are clear 400s."""
    clock = use_clock(api)
    zone = await shop(api)
    other = await shop(api, "other.example")
    csam = await file(api, zone, "abuse_children", "/c")
    threat = await file(api, zone, "abuse_threat", "/t", email="victim@mail.example")
    dmca = await file(api, other, "abuse_dmca", "/d")
    clock.advance(2 * HOUR)
    overdue = await queue(api, overdue="true")
    assert {r["id"] for r in overdue} == {csam, threat} and all(r["overdue"] for r in overdue)
    assert [r["id"] for r in await queue(api, overdue="false")] == [dmca]
    assert [r["id"] for r in await queue(api, category="abuse_threat")] == [threat]
    assert [r["id"] for r in await queue(api, domain="other.example")] == [dmca]
    assert [r["id"] for r in await queue(api, reporter="Victim@mail.example")] == [threat]
    assert {r["id"] for r in await queue(api, state="forwarded")} == {csam, threat, dmca}
    assert await queue(api, state="closed") == []
    await api.ok("POST", f"/veil/abuse/cases/{dmca}/events/escalate")
    [escalated] = await queue(api, escalated="true")
    assert escalated["id"] == dmca and escalated["state"] == "escalated"
    response = await api.client.get("/veil/abuse/cases", params={"per_page": 2, "page": 2})
    body = response.json()
    assert body["result_info"]["total_count"] == 3 and len(body["result"]) == 1
    bad = await api.client.get("/veil/abuse/cases", params={"category": "spam"})
    assert "category: one of" in await error(bad, 400)
    bad = await api.client.get("/veil/abuse/cases", params={"state": "open"})
    assert "state: one of" in await error(bad, 400)


async def test_case_detail_is_the_operators_whole_view(api: Api) -> None:
    """The case in full: origin address, notice, URLs, messages, disclosures, log entries of
    the case, next events; 404 for an unknown case; 403 without abuse:desk."""
    zone = await shop(api)
    case_id = await file(api, zone, "abuse_dmca", "/x")
    case = await api.ok("GET", f"/veil/abuse/cases/{case_id}")
    assert case["origin_ip"] == ORIGIN and case["host"]["name"] == "Example Hosting GmbH"
    assert case["notice"]["original_work"] == NOTICE["original_work"]
    assert case["url_list"] == ["https://shop.example/x"]
    assert {(m["party"], m["kind"]) for m in case["messages"]} >= {
        ("reporter", "receipt"),
        ("customer", "forward"),
        ("host", "forward"),
    }
    assert {(d["party"], d["what"]) for d in case["disclosures"]} == {
        ("host", "origin_ip"),
        ("customer", "reporter_identity"),
    }
    events = [e["event"] for e in case["log"]]
    assert events[0] == "notice_received" and "case_state" in events
    assert all(e["case"] == case_id for e in case["log"])
    assert case["allowed_events"] == ["reply_requested", "customer_replied", "escalate", "close"]
    assert case["actions"] == [] and case["strikes"] == []
    missing = await api.client.get("/veil/abuse/cases/nope")
    assert await error(missing, 404) == "abuse case not found"
    async with api.as_token(await api.token(["abuse:report", "zone:read"])) as client:
        assert (await client.get(f"/veil/abuse/cases/{case_id}")).status_code == 403
        assert (await client.get("/veil/abuse/cases")).status_code == 403


async def test_pending_legal_block_with_an_effective_date(api: Api) -> None:
    """A legal block dated two days ahead is pending with that date, carries a complete default
    statement of reasons (DMCA: §512(c), counter-notice and review links), is logged, audited
    and bumps the config version; cancel closes the case; an illegal move is a clear 409."""
    clock = use_clock(api)
    zone = await shop(api)
    case_id = await file(api, zone, "abuse_dmca", "/gown")
    with state_of(api).db.read() as session:
        before = current_version(session=session)
    when = START + timedelta(days=2)
    action = await api.ok(
        "POST",
        f"/veil/abuse/cases/{case_id}/actions",
        json={"type": "legal_block", "effective_on": when.isoformat()},
    )
    assert action["status"] == "pending" and action["effective_on"] == "2026-03-04T09:00:00Z"
    assert action["targets"] == ["https://shop.example/gown"] and action["countries"] == []
    statement = action["statement"]
    assert statement["ground"] == "illegal_content"
    assert statement["ground_reference"] == "17 U.S.C. §512(c)"
    assert "worldwide" in statement["restriction"] and "451" in statement["restriction"]
    assert statement["notice_reference"] == case_id and statement["followed_notice"] is True
    customer_link = f"/abuse/customer/cases/{case_id}"
    assert any("counter-notice" in r and customer_link in r for r in statement["redress"])
    assert any("review" in r and customer_link in r for r in statement["redress"])
    with state_of(api).db.read() as session:
        row = session.get(AbuseAction, action["id"])
        assert row is not None and row.status == "pending" and row.effective_on == when
        assert session.get(AbuseCase, case_id).state == "action_pending"  # type: ignore[union-attr]
        assert current_version(session=session) > before
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "abuse.action.create")
        ).all()
        assert [a.resource_id for a in audit] == [case_id]
    [created] = log_entries(api, "action_created")
    assert created["status"] == "pending" and created["action"] == action["id"]
    clock.advance(60)
    cancelled = await api.ok("POST", f"/veil/abuse/actions/{action['id']}/cancel")
    assert cancelled["status"] == "cancelled"
    assert (await api.ok("GET", f"/veil/abuse/cases/{case_id}"))["state"] == "closed"
    lift = await api.client.post(f"/veil/abuse/actions/{action['id']}/lift")
    assert "is cancelled: 'lift' is not possible" in await error(lift, 409)
    review = await api.client.post(f"/veil/abuse/actions/{action['id']}/request_review")
    assert "event: one of take_effect" in await error(review, 400)
    closed = await api.client.post(
        f"/veil/abuse/cases/{case_id}/actions", json={"type": "legal_block"}
    )
    assert "is closed" in await error(closed, 400)


async def test_undated_actions_wait_for_the_customer_unless_urgent(api: Api) -> None:
    """Without a date a DMCA block is pending for 72 h (the customer may answer or ask for a
    review); a phishing interstitial is active at once; a cache purge is done at once."""
    use_clock(api)
    zone = await shop(api)
    dmca = await file(api, zone, "abuse_dmca", "/d")
    phishing = await file(api, zone, "abuse_phishing", "/p")
    block = await api.ok("POST", f"/veil/abuse/cases/{dmca}/actions", json={"type": "legal_block"})
    assert (block["status"], block["effective_on"]) == ("pending", "2026-03-05T09:00:00Z")
    warn = await api.ok(
        "POST", f"/veil/abuse/cases/{phishing}/actions", json={"type": "phishing_interstitial"}
    )
    assert (warn["status"], warn["effective_on"]) == ("active", "2026-03-02T09:00:00Z")
    purge = await api.ok("POST", f"/veil/abuse/cases/{dmca}/actions", json={"type": "cache_purge"})
    assert purge["status"] == "active"


async def test_action_commits_publish_the_bumped_version(api: Api) -> None:
    """An action and its status change each bump the config version inside their transaction,
    and the commit publishes exactly that version to the edges' long-polls."""
    published: list[int] = []
    state = state_of(api)
    db = open_database(state.settings.effective_database_url, on_commit=published.append)
    api.app.state.veil = dataclasses.replace(state, db=db)
    state.db.dispose()
    zone = await shop(api)
    case_id = await file(api, zone, "abuse_dmca", "/v")
    published.clear()
    action = await api.ok(
        "POST", f"/veil/abuse/cases/{case_id}/actions", json={"type": "legal_block"}
    )
    with db.read() as session:
        assert published == [current_version(session=session)]
    await api.ok("POST", f"/veil/abuse/actions/{action['id']}/take_effect")
    with db.read() as session:
        assert published[-1] == current_version(session=session) and len(published) == 2


async def test_accounts_due_a_suspension_review_are_flagged(api: Api) -> None:
    """Three active copyright strikes (the default policy) flag every queue row of the account
    for suspension review; another account's rows are not flagged."""
    zone = await shop(api)
    cases = [await file(api, zone, "abuse_dmca", f"/s{n}") for n in range(3)]
    other = await api.ok(
        "POST", "/accounts", json={"name": "Other", "contact_email": "ops@other.example"}
    )
    clean = await api.ok(
        "POST", "/zones", json={"name": "clean.example", "account": {"id": other["id"]}}
    )
    await api.ok(
        "POST",
        f"/zones/{clean['id']}/dns_records",
        json={"type": "A", "name": "clean.example", "content": ORIGIN, "proxied": True},
    )
    elsewhere = await file(api, clean, "abuse_dmca", "/x")
    for n, case_id in enumerate(cases):
        action = await api.ok(
            "POST", f"/veil/abuse/cases/{case_id}/actions", json={"type": "legal_block"}
        )
        await api.ok("POST", f"/veil/abuse/actions/{action['id']}/take_effect")
        flags = {r["id"]: r["suspension_review"] for r in await queue(api)}
        assert flags[cases[0]] is (n == 2) and flags[elsewhere] is False
    detail = await api.ok("GET", f"/veil/abuse/cases/{cases[0]}")
    assert detail["suspension_review"] is True and len(detail["strikes"]) == 3


async def test_statement_and_scope_validation(api: Api) -> None:
    """Bad actions are refused with the reason: an emptied Art. 17(3) field, countries on an
    interstitial, a non-ISO country, a URL not in the case, a dated purge, an unknown type. A
    geo-scoped block names its countries in the restriction and the territorial scope."""
    zone = await shop(api)
    case_id = await file(api, zone, "abuse_dmca", "/a\nhttps://www.shop.example/b")
    path = f"/veil/abuse/cases/{case_id}/actions"
    cases = [
        ({"type": "legal_block", "statement": {"restriction": " "}}, "lacks: restriction"),
        ({"type": "legal_block", "statement": {"redress": []}}, "lacks: redress"),
        ({"type": "phishing_interstitial", "countries": ["DE"]}, "cannot be scoped"),
        ({"type": "legal_block", "countries": ["D1"]}, "alpha-2"),
        ({"type": "legal_block", "targets": ["https://shop.example/zzz"]}, "not a URL of this"),
        ({"type": "cache_purge", "effective_on": "2099-01-01T00:00:00Z"}, "at once"),
        ({"type": "network_block"}, "type: Input should be"),
        ({"type": "legal_block", "effective_on": "2026-01-01T00:00:00"}, "effective_on"),
    ]
    for body, expected in cases:
        assert expected in await error(await api.client.post(path, json=body), 400), body
    with state_of(api).db.read() as session:
        assert session.scalars(select(AbuseAction)).all() == []
    action = await api.ok(
        "POST",
        path,
        json={
            "type": "legal_block",
            "countries": ["fr", "de"],
            "targets": ["https://WWW.shop.example/b"],
            "reason": "Counterfeit sale unlawful in Germany and France.",
        },
    )
    assert action["countries"] == ["DE", "FR"]
    assert action["targets"] == ["https://www.shop.example/b"]
    assert "for visitors in DE, FR" in action["statement"]["restriction"]
    assert action["statement"]["territorial_scope"] == ["DE", "FR"]
    assert action["statement"]["explanation"] == "Counterfeit sale unlawful in Germany and France."


async def test_case_events_the_operator_fires(api: Api) -> None:
    """reply_requested asks the customer by mail; customer_replied records it; escalate stamps
    and logs; close ends it; events not the operator's are 400, illegal ones 409."""
    zone = await shop(api)
    case_id = await file(api, zone, "abuse_dmca", "/e")
    asked = await api.ok(
        "POST",
        f"/veil/abuse/cases/{case_id}/events/reply_requested",
        json={"message": "Please remove the listing or explain."},
    )
    assert asked["state"] == "awaiting_customer"
    [reminder] = [m for m in mails(api, case_id) if m.kind == "reply_requested"]
    assert reminder.party == "customer" and "Please remove the listing" in reminder.body
    assert ORIGIN not in reminder.body
    replied = await api.ok("POST", f"/veil/abuse/cases/{case_id}/events/customer_replied")
    assert replied["state"] == "customer_replied" and replied["customer_replied_on"]
    escalated = await api.ok("POST", f"/veil/abuse/cases/{case_id}/events/escalate")
    assert escalated["state"] == "escalated" and escalated["escalated"] is True
    assert [e["case"] for e in log_entries(api, "escalated")] == [case_id]
    closed = await api.ok("POST", f"/veil/abuse/cases/{case_id}/events/close")
    assert closed["state"] == "closed" and closed["allowed_events"] == []
    again = await api.client.post(f"/veil/abuse/cases/{case_id}/events/close")
    assert "is closed: 'close' is not possible" in await error(again, 409)
    foreign = await api.client.post(f"/veil/abuse/cases/{case_id}/events/validated")
    assert "event: one of close, customer_replied, escalate" in await error(foreign, 400)


async def test_bulk_operations_report_per_case(api: Api) -> None:
    """Bulk act and close: one transaction, a result per case; a case that fails (closed,
    unknown) leaves no rows behind and does not stop the others."""
    zone = await shop(api)
    first = await file(api, zone, "abuse_dmca", "/1")
    second = await file(api, zone, "abuse_dmca", "/2")
    third = await file(api, zone, "abuse_dmca", "/3")
    await api.ok("POST", f"/veil/abuse/cases/{third}/events/close")
    result = await api.ok(
        "POST",
        "/veil/abuse/cases/bulk",
        json={
            "ids": [first, third, "missing", second],
            "operation": "act",
            "action": {"type": "legal_block", "countries": ["DE"]},
        },
    )
    by_id = {r["id"]: r for r in result}
    assert [r["id"] for r in result] == [first, third, "missing", second]
    assert by_id[first]["success"] and by_id[first]["state"] == "action_pending"
    assert by_id[second]["success"] and by_id[second]["action_id"]
    assert not by_id[third]["success"] and "is closed" in by_id[third]["error"]
    assert by_id["missing"] == {
        "id": "missing",
        "success": False,
        "state": None,
        "action_id": None,
        "error": "case not found",
    }
    with state_of(api).db.read() as session:
        acted = {a.case_id for a in session.scalars(select(AbuseAction))}
    assert acted == {first, second}
    closed = await api.ok(
        "POST", "/veil/abuse/cases/bulk", json={"ids": [first, third], "operation": "close"}
    )
    assert [(r["success"], r["state"]) for r in closed] == [(True, "closed"), (False, "closed")]
    forward = await api.ok(
        "POST", "/veil/abuse/cases/bulk", json={"ids": [second], "operation": "forward"}
    )
    assert "only a valid case can be forwarded" in forward[0]["error"]
    no_action = await api.client.post(
        "/veil/abuse/cases/bulk", json={"ids": [second], "operation": "act"}
    )
    assert "action: required" in await error(no_action, 400)
    empty = await api.client.post("/veil/abuse/cases/bulk", json={"ids": [], "operation": "close"})
    assert "ids" in await error(empty, 400)


async def test_order_creates_a_geo_scoped_block(api: Api) -> None:
    """A court order (DSA Art. 9) opens an authority case with the order recorded, logs
    order_received with country and scope, informs the customer (no origin address), and
    blocks only in the order's countries from its date; off-network URLs are named."""
    use_clock(api)
    await shop(api)
    effective = START + timedelta(days=1)
    order = {
        "authority": "Landgericht Köln",
        "country": "de",
        "legal_basis": "§ 97 UrhG",
        "reference": "14 O 123/26",
        "scope": ["DE", "AT"],
        "urls": ["https://shop.example/film", "https://elsewhere.example/film"],
        "effective_on": effective.isoformat(),
    }
    result = await api.ok("POST", "/veil/abuse/orders", json=order)
    assert result["not_on_our_network"] == ["https://elsewhere.example/film"]
    [case_id] = result["cases"]
    case = await api.ok("GET", f"/veil/abuse/cases/{case_id}")
    assert (case["source"], case["channel"], case["state"]) == (
        "authority",
        "order",
        "action_pending",
    )
    assert case["order"]["country"] == "DE" and case["order"]["scope"] == ["AT", "DE"]
    assert case["order"]["legal_basis"] == "§ 97 UrhG"
    [action] = case["actions"]
    assert action["type"] == "legal_block" and action["status"] == "pending"
    assert action["countries"] == ["AT", "DE"] and action["effective_on"] == "2026-03-03T09:00:00Z"
    assert action["statement"]["ground_reference"] == "§ 97 UrhG"
    assert action["statement"]["followed_notice"] is False
    [received] = log_entries(api, "order_received")
    assert received["case"] == case_id and received["country"] == "DE"
    assert received["scope"] == ["AT", "DE"]
    [letter] = [m for m in mails(api, case_id) if m.kind == "order"]
    assert "Landgericht Köln" in letter.body and "AT, DE" in letter.body
    assert ORIGIN not in letter.body
    now = await api.ok(
        "POST",
        "/veil/abuse/orders",
        json={**order, "effective_on": None, "urls": ["https://www.shop.example/now"]},
    )
    with state_of(api).db.read() as session:
        row = session.get(AbuseAction, now["actions"][0])
        assert row is not None and row.status == "active" and row.countries == ["AT", "DE"]
    off = await api.client.post(
        "/veil/abuse/orders", json={**order, "urls": ["https://elsewhere.example/x"]}
    )
    assert "none of the URLs is on our network" in await error(off, 400)
    bad = await api.client.post("/veil/abuse/orders", json={**order, "scope": ["D1"]})
    assert "alpha-2" in await error(bad, 400)


async def test_trusted_reporter_receives_the_origin_address(api: Api) -> None:
    """Once vetted, a reporter's valid notice brings a separate mail with the origin address
    (never in the receipt), recorded as a disclosure the customer sees; withdrawn or lapsed
    trust stops it; an ordinary reporter never gets it."""
    clock = use_clock(api)
    zone = await shop(api)
    flagger = "flagger@rights.example"
    plain = await file(api, zone, "abuse_dmca", "/before", email=flagger)
    assert [m.kind for m in mails(api, plain) if m.party == "reporter"] == ["receipt"]
    vetted = await trust(api, flagger)
    assert vetted["trusted"] and vetted["trusted_since"] == "2026-03-02T09:00:00Z"
    case_id = await file(api, zone, "abuse_dmca", "/after", email=flagger)
    to_reporter = {m.kind: m for m in mails(api, case_id) if m.to_addr == flagger}
    assert set(to_reporter) == {"receipt", "origin"}
    assert ORIGIN not in to_reporter["receipt"].body
    assert ORIGIN in to_reporter["origin"].body
    with state_of(api).db.read() as session:
        [disclosure] = session.scalars(
            select(AbuseDisclosure).where(AbuseDisclosure.party == "trusted_reporter")
        ).all()
    assert (disclosure.case_id, disclosure.recipient, disclosure.what) == (
        case_id,
        flagger,
        "origin_ip",
    )
    assert [
        e["case"] for e in log_entries(api, "disclosure") if e["party"] == "trusted_reporter"
    ] == [case_id]
    other = await file(api, zone, "abuse_dmca", "/other")
    assert not [m for m in mails(api, other) if m.kind == "origin"]
    reporter_id = vetted["id"]
    clock.advance(366 * 24 * HOUR)
    [lapsed] = await api.ok("GET", "/veil/abuse/reporters", params={"trusted": "true"})
    assert lapsed["trust_lapsed"] is True
    late = await file(api, zone, "abuse_dmca", "/late", email=flagger)
    assert not [m for m in mails(api, late) if m.kind == "origin"]
    withdrawn = await api.ok("DELETE", f"/veil/abuse/reporters/{reporter_id}/trust")
    assert withdrawn["trusted"] is False and withdrawn["trusted_agreement"]
    empty = await api.client.post(
        f"/veil/abuse/reporters/{reporter_id}/trust", json={"agreement": ""}
    )
    assert "agreement" in await error(empty, 400)
    missing = await api.client.post("/veil/abuse/reporters/nope/trust", json={"agreement": "x"})
    assert await error(missing, 404) == "reporter not found"


async def test_repeatedly_invalid_reporter_is_throttled(api: Api) -> None:
    """Five invalid notices in 30 days: the reporter is throttled — the next notice within the
    hour is a 429 "too many invalid reports" with Retry-After; an hour later one is taken."""
    clock = use_clock(api)
    zone = await shop(api)
    spammer = "spam@noise.example"
    for n in range(5):
        response = await report(api, zone, "abuse_dmca", f"/{n}", email=spammer, original_work="")
        assert response.status_code == 400, response.text
        clock.advance(60)
    [reporter] = await api.ok("GET", "/veil/abuse/reporters", params={"email": spammer})
    assert (reporter["invalid_count"], reporter["recent_invalid"]) == (5, 5)
    assert reporter["throttled"] is True
    throttled = await report(api, zone, "abuse_dmca", "/valid", email=spammer)
    assert "too many invalid reports" in await error(throttled, 429)
    assert throttled.headers["Retry-After"] == "3540"  # an hour after the last, a minute ago
    with state_of(api).db.read() as session:
        assert (
            len(session.scalars(select(AbuseCase).where(AbuseCase.reporter_email == spammer)).all())
            == 5
        )
    clock.advance(HOUR)
    assert (await report(api, zone, "abuse_dmca", "/valid", email=spammer)).status_code == 200
    other = await report(api, zone, "abuse_dmca", "/fine", email="someone@else.example")
    assert other.status_code == 200
