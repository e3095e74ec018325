"""Filing abuse reports through the Cloudflare-shaped API (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.control.harness import Api
from veil.control.store.models import AbuseCase, AbuseLogEntry, AccountHost, MailOutbox

ORIGIN = "93.184.215.14"

DMCA: dict[str, Any] = {
    "act": "abuse_dmca",
    "urls": "https://shop.example/dresses/copy-1\nhttp://www.shop.example/dresses/copy-2",
    "email": "counsel@rights.example",
    "email2": "counsel@rights.example",
    "name": "Ada Counsel",
    "signature": "Ada Counsel",
    "original_work": "Bridal gown collection 2026, photographs at https://rights.example/gowns",
    "agent_name": "Gowns Inc.",
    "company": "Rights LLP",
    "address1": "1 Main St",
    "city": "Springfield",
    "state": "IL",
    "country": "US",
    "tele": "+1 555 0100",
    "host_notification": "send",
    "owner_notification": "send",
    "agree": 1,
}


async def _setup(api: Api) -> dict[str, Any]:
    """A proxied zone shop.example (apex and www) on the operator's account, host declared."""
    zone = await api.zone("shop.example")
    for name in ("shop.example", "www.shop.example"):
        await api.ok(
            "POST",
            f"/zones/{zone['id']}/dns_records",
            json={"type": "A", "name": name, "content": ORIGIN, "proxied": True},
        )
    with api.app.state.veil.db.write() as session:
        session.add(
            AccountHost(
                account_id=zone["account"]["id"],
                name="Example Hosting GmbH",
                abuse_email="abuse@hosting.example",
                modified_on=api.app.state.veil.now(),
            )
        )
        session.commit()
    return zone


async def _reporter(api: Api) -> Any:
    return api.as_token(await api.token(["abuse:report"]))


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
async def test_complete_dmca_notice_is_forwarded_and_receipt_names_the_host(api: Api) -> None:
    """A complete notice: case id as result, receipt with the host's name and abuse contact,
    mails queued for reporter, customer and host; only the host's holds the origin IP."""
    zone = await _setup(api)
    async with await _reporter(api) as client:
        response = await client.post(
            f"/accounts/{zone['account']['id']}/abuse-reports/abuse_dmca", json=DMCA
        )
    body = response.json()
    assert response.status_code == 200, body
    case_id = body["result"]
    [receipt] = body["receipt"]
    assert receipt["case_id"] == case_id and receipt["state"] == "forwarded"
    assert receipt["hosting_provider"] == {
        "name": "Example Hosting GmbH",
        "abuse_email": "abuse@hosting.example",
    }
    assert receipt["missing"] == [] and receipt["not_on_our_network"] == []
    assert ORIGIN not in response.text
    with api.app.state.veil.db.read() as session:
        mails = {m.party: m for m in session.scalars(select(MailOutbox))}
        case = session.get(AbuseCase, case_id)
        assert case is not None and case.origin_ip == ORIGIN
    assert set(mails) == {"reporter", "customer", "host"}
    assert ORIGIN in mails["host"].body and mails["host"].to_addr == "abuse@hosting.example"
    assert ORIGIN not in mails["reporter"].body and ORIGIN not in mails["reporter"].subject
    assert "Example Hosting GmbH" in mails["reporter"].body
    assert "Ada Counsel" in mails["customer"].body  # DMCA notices are never anonymous


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
async def test_missing_elements_get_a_repair_list_naming_exactly_them(api: Api) -> None:
    """No signature and no perjury statement: kept open as incomplete, and the repair list
    names exactly the signature (i) and the statements (v)/(vi)."""
    zone = await _setup(api)
    notice = {**DMCA, "signature": "", "agree": 0}
    async with await _reporter(api) as client:
        response = await client.post(
            f"/accounts/{zone['account']['id']}/abuse-reports/abuse_dmca", json=notice
        )
    body = response.json()
    assert response.status_code == 200, body
    [receipt] = body["receipt"]
    assert receipt["state"] == "incomplete_awaiting_reporter"
    elements = [m["element"] for m in receipt["missing"]]
    assert "signature" in elements and len(elements) == len(set(elements))
    assert not any(e in {"work", "material", "contact"} for e in elements)
    with api.app.state.veil.db.read() as session:
        parties = {m.party for m in session.scalars(select(MailOutbox))}
    assert parties == {"reporter"}  # nothing forwarded before it is complete


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
async def test_url_not_on_the_network_is_answered_as_such_and_discloses_nothing(api: Api) -> None:
    """A URL on no zone: "not on our network", case closed, no host named, nothing forwarded."""
    zone = await _setup(api)
    notice = {**DMCA, "urls": "https://elsewhere.example/x"}
    async with await _reporter(api) as client:
        response = await client.post(
            f"/accounts/{zone['account']['id']}/abuse-reports/abuse_dmca", json=notice
        )
    body = response.json()
    assert response.status_code == 200, body
    [receipt] = body["receipt"]
    assert receipt["not_on_our_network"] == ["https://elsewhere.example/x"]
    assert receipt["hosting_provider"] is None and receipt["state"] == "closed"
    assert any("not on our network" in m["message"] for m in body["messages"])


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
async def test_duplicate_from_the_same_reporter_joins_the_open_case(api: Api) -> None:
    """The same URL from the same reporter while the case is open joins it (one case)."""
    zone = await _setup(api)
    path = f"/accounts/{zone['account']['id']}/abuse-reports/abuse_dmca"
    async with await _reporter(api) as client:
        first = (await client.post(path, json=DMCA)).json()
        second = (await client.post(path, json=DMCA)).json()
    assert second["result"] == first["result"]
    assert second["receipt"][0]["joined_existing_case"] is True
    with api.app.state.veil.db.read() as session:
        assert len(session.scalars(select(AbuseCase)).all()) == 1


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
async def test_bad_requests_get_clear_errors(api: Api) -> None:
    """Unknown type, act/type mismatch, invalid notice, no token: envelopes, never a 500."""
    zone = await _setup(api)
    base = f"/accounts/{zone['account']['id']}/abuse-reports"
    async with await _reporter(api) as client:
        unknown = await client.post(f"{base}/abuse_nonsense", json={"email": "a@b.example"})
        mismatch = await client.post(f"{base}/abuse_phishing", json=DMCA)
        invalid = await client.post(f"{base}/abuse_dmca", json={**DMCA, "original_work": ""})
        missing_account = await client.post("/accounts/nope/abuse-reports/abuse_dmca", json=DMCA)
    assert unknown.status_code == 400 and "unknown report type" in unknown.text
    assert mismatch.status_code == 400 and "does not match" in mismatch.text
    assert invalid.status_code == 400 and invalid.json()["errors"]
    assert invalid.json()["receipt"][0]["state"] == "closed"
    assert missing_account.status_code == 404
    anonymous = await api.client.post(
        f"{base}/abuse_dmca", json=DMCA, headers={"Authorization": ""}
    )
    assert anonymous.status_code == 401
    zone_token = api.as_token(await api.token(["zone:read"]))
    async with zone_token as client:
        assert (await client.post(f"{base}/abuse_dmca", json=DMCA)).status_code == 403


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
async def test_xarf_copyright_report_is_taken_and_asks_for_the_statutory_elements(api: Api) -> None:
    """A XARF v4 copyright report opens a case (channel xarf); what XARF cannot carry (the
    signature and statements) is asked for, not assumed."""
    zone = await _setup(api)
    xarf = {
        "xarf_version": "4.0.0",
        "report_id": "550e8400-e29b-41d4-a716-446655440000",
        "timestamp": "2026-11-29T10:00:00Z",
        "reporter": {"org": "Rights LLP", "contact": "xarf@rights.example", "type": "manual"},
        "source_identifier": ORIGIN,
        "class": "copyright",
        "type": "copyright",
        "infringing_url": "https://shop.example/dresses/copy-3",
        "work_title": "Bridal gown collection 2026",
        "rights_holder": "Gowns Inc.",
    }
    async with await _reporter(api) as client:
        response = await client.post(
            f"/accounts/{zone['account']['id']}/abuse-reports/abuse_dmca", json=xarf
        )
    body = response.json()
    [receipt] = body["receipt"]
    with api.app.state.veil.db.read() as session:
        case = session.get(AbuseCase, receipt["case_id"])
        assert case is not None and case.channel == "xarf"
    assert "signature" in [m["element"] for m in receipt["missing"]]


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
async def test_submitted_view_and_log_chain(api: Api) -> None:
    """The reporter lists what its token filed (others' reports stay hidden); every intake
    step is on the hash-chained log."""
    zone = await _setup(api)
    account = zone["account"]["id"]
    async with await _reporter(api) as mine, await _reporter(api) as other:
        case_id = (
            await mine.post(f"/accounts/{account}/abuse-reports/abuse_dmca", json=DMCA)
        ).json()["result"]
        listed = (await mine.get(f"/accounts/{account}/abuse-reports/submitted")).json()
        got = (await mine.get(f"/accounts/{account}/abuse-reports/submitted/{case_id}")).json()
        hidden = await other.get(f"/accounts/{account}/abuse-reports/submitted/{case_id}")
    assert [r["id"] for r in listed["result"]] == [case_id]
    assert got["result"]["type"] == "DMCA" and got["result"]["status"] == "accepted"
    assert ORIGIN not in str(got)
    assert hidden.status_code == 404
    with api.app.state.veil.db.read() as session:
        events = [row.entry["event"] for row in session.scalars(select(AbuseLogEntry))]
    assert events[0] == "notice_received" and "notice_forwarded" in events
