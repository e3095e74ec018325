"""The customer's abuse reports API (Cloudflare's shape) on SQLite and PostgreSQL: who sees
what, the report with its disclosures and actions, request review (acceptance 3), the
counter-notice form, replies — and the official `cloudflare` SDK reading and appealing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from cloudflare import AsyncCloudflare
from cloudflare.types.abuse_reports import AbuseReportListResponse
from sqlalchemy import select

from tests.control.desk.due_support import (
    COUNTER,
    DMCA,
    ORIGIN,
    action_statuses,
    block,
    case_row,
    customer,
    file,
    proxied_zone,
    run_tick,
    state_of,
    use_clock,
)
from tests.control.harness import BASE, Api
from veil.abuse.actions import ActionEvent
from veil.control.desk.mitigations import change_status
from veil.control.desk.reporters import reporter_for
from veil.control.desk.trusted import vet
from veil.control.store.models import AbuseAction, AbuseMessage, AuditEntry


def _reports(zone: dict[str, Any]) -> str:
    return f"/accounts/{zone['account']['id']}/abuse-reports"


async def test_customer_lists_and_reads_the_reports_about_its_zone(api: Api) -> None:
    """A zone-scoped abuse:read token lists its zone's report in Cloudflare's shape (submitter,
    mitigation summary, urls); the detail adds state, disclosures, actions with statements,
    messages and the strike ledger — never the reporter's mails or the host's."""
    use_clock(api)
    zone = await proxied_zone(api)
    case_id = file(api)
    block(api, case_id)
    async with await customer(api, zone, ["abuse:read"]) as client:
        listed = (await client.get(_reports(zone))).json()
        detail = (await client.get(f"{_reports(zone)}/{case_id}")).json()["result"]
    [report] = listed["result"]["reports"]
    assert listed["result_info"]["total_count"] == 1
    assert report["id"] == case_id and report["type"] == "DMCA" and report["status"] == "accepted"
    assert report["domain"] == "shop.example"
    assert report["urls"] == ["https://shop.example/dresses/copy-1"]
    assert report["submitter"] == {
        "company": "Rights LLP",
        "email": "counsel@rights.example",
        "name": "Ada Counsel",
        "telephone": "+1 555 0100",
    }
    assert report["mitigation_summary"] == {
        "accepted_url_count": 1,
        "active_count": 0,
        "external_host_notified": True,
        "in_review_count": 0,
        "pending_count": 1,
    }
    assert detail["state"] == "action_pending"
    assert {(d["party"], d["what"]) for d in detail["disclosures"]} >= {
        ("host", "origin_ip"),
        ("customer", "reporter_identity"),
    }
    [action] = detail["mitigations"]
    assert action["status"] == "pending" and action["entity_type"] == "url_pattern"
    assert "Counter-notice under 17 U.S.C. §512(g)" in action["statement"]["redress"]
    assert {m["party"] for m in detail["messages"]} == {"customer"}
    assert detail["strikes"]["active_count"] == 0 and "§512(i)" in detail["strikes"]["policy"]
    assert ORIGIN not in str(listed)  # the customer's view holds no origin address


async def test_withheld_reporter_is_not_shown_to_the_customer(api: Api) -> None:
    """A threat report (always anonymous): submitter empty, identity fields gone from the
    notice, no reporter identity disclosed."""
    zone = await proxied_zone(api)
    case_id = file(
        api,
        act="abuse_threat",
        justification="A post threatens violence against a named person.",
        urls="https://shop.example/forum/1",
    )
    async with await customer(api, zone, ["abuse:read"]) as client:
        detail = (await client.get(f"{_reports(zone)}/{case_id}")).json()["result"]
    assert detail["submitter"] == {"company": None, "email": None, "name": None, "telephone": None}
    assert "email" not in detail["notice"] and "name" not in detail["notice"]
    assert "counsel@rights.example" not in str(detail)
    assert "reporter_identity" not in {d["what"] for d in detail["disclosures"]}


async def test_other_zones_tokens_see_nothing(api: Api) -> None:
    """A token scoped to another zone gets 404 for the account and the report; a token without
    abuse permissions gets 403; abuse:desk sees it."""
    zone = await proxied_zone(api)
    other = await proxied_zone(api, "other.example")
    case_id = file(api)
    outsider = await api.token(["abuse:edit"], zones=[other["id"]])
    async with api.as_token(outsider) as client:
        listed = (await client.get(_reports(zone))).json()
        got = await client.get(f"{_reports(zone)}/{case_id}")
        appeal = await client.post(f"{_reports(zone)}/{case_id}/replies", json={"text": "hi"})
    assert [r["id"] for r in listed["result"]["reports"]] == []  # same account, not its zone
    assert got.status_code == 404 and appeal.status_code == 404
    async with api.as_token(await api.token(["zone:read"])) as client:
        assert (await client.get(_reports(zone))).status_code == 403
    async with api.as_token(await api.token(["abuse:desk"])) as client:
        assert (await client.get(f"{_reports(zone)}/{case_id}")).status_code == 200
    missing = await api.client.get(f"{_reports(zone)}/nope")
    assert missing.status_code == 404 and missing.json()["success"] is False


async def test_list_filters_and_sort(api: Api) -> None:
    """Cloudflare's filters: type, mitigation_status, status, domain, created_after; sort; bad
    values answer 400."""
    clock = use_clock(api)
    zone = await proxied_zone(api)
    first = file(api, urls="https://shop.example/a")
    clock.advance(3600)
    second = file(api, urls="https://shop.example/b")
    block(api, second)
    base = _reports(zone)

    async def ids(**params: Any) -> list[str]:
        result = await api.ok("GET", base, params=params)
        return [r["id"] for r in result["reports"]]

    assert await ids() == [second, first]
    assert await ids(sort="cdate,asc") == [first, second]
    assert await ids(mitigation_status="pending") == [second]
    assert await ids(type="DMCA") == [second, first] and await ids(type="PHISH") == []
    assert await ids(domain="shop.example", per_page=1) == [second]
    assert await ids(created_after="2026-03-02T10:30:00Z") == [second]
    assert await ids(status="in_review") == []
    for params in ({"type": "NOPE"}, {"sort": "size"}, {"created_after": "yesterday"}):
        response = await api.client.get(base, params=params)
        assert response.status_code == 400, params


async def test_request_review_moves_a_pending_block_to_in_review(api: Api) -> None:
    """Acceptance 3: the customer appeals a pending block -> in_review (the case too), and the
    effective date passes without it taking effect; asking again changes nothing."""
    clock = use_clock(api)
    zone = await proxied_zone(api)
    case_id = file(api)
    action_id = block(api, case_id)
    path = f"{_reports(zone)}/{case_id}/mitigations/appeal"
    body = {"appeals": [{"id": action_id, "reason": "misclassified"}]}
    async with await customer(api, zone) as client:
        response = await client.post(path, json=body)
        again = await client.post(path, json=body)
    assert response.status_code == 200, response.json()
    assert [(m["id"], m["status"]) for m in response.json()["result"]] == [(action_id, "in_review")]
    assert again.json()["result"][0]["status"] == "in_review"
    assert case_row(api, case_id).state == "in_review"
    clock.advance(timedelta(days=3).total_seconds())
    assert run_tick(api).took_effect == []
    assert action_statuses(api, case_id) == ["in_review"]


async def test_an_active_block_is_answered_by_a_counter_notice_not_a_review(api: Api) -> None:
    """Appealing an active block: 400 telling the customer to send a counter-notice; a
    read-only token cannot appeal (403); an unknown mitigation id is 404."""
    clock = use_clock(api)
    zone = await proxied_zone(api)
    case_id = file(api)
    action_id = block(api, case_id)
    clock.advance(timedelta(days=2).total_seconds())
    run_tick(api)
    path = f"{_reports(zone)}/{case_id}/mitigations/appeal"
    async with await customer(api, zone) as client:
        active = await client.post(path, json={"appeals": [{"id": action_id, "reason": "removed"}]})
        unknown = await client.post(path, json={"appeals": [{"id": "x" * 32, "reason": "removed"}]})
        empty = await client.post(path, json={})
    assert active.status_code == 400
    assert "counter-notice" in active.json()["errors"][0]["message"]
    assert unknown.status_code == 404 and empty.status_code == 400
    async with await customer(api, zone, ["abuse:read"]) as client:
        body = {"appeals": [{"id": action_id, "reason": "removed"}]}
        assert (await client.post(path, json=body)).status_code == 403


async def test_invalid_counter_notice_names_each_missing_element(api: Api) -> None:
    """A counter-notice without signature, perjury statement and telephone: 400 with one error
    per §512(g)(3) element, naming the form field; nothing stored, the case unchanged. A URL
    not in the report is refused; a counter-notice on a pending block is refused."""
    clock = use_clock(api)
    zone = await proxied_zone(api)
    case_id = file(api)
    block(api, case_id)
    path = f"{_reports(zone)}/{case_id}/mitigations/appeal"
    async with await customer(api, zone) as client:
        early = await client.post(path, json={"type": "counter_notice", "data": COUNTER})
        clock.advance(timedelta(days=2).total_seconds())
        run_tick(api)
        data = {**COUNTER, "signature": "", "perjury_attestation": False, "phone_number": ""}
        invalid = await client.post(path, json={"type": "counter_notice", "data": data})
        stranger = {**COUNTER, "urls": ["https://shop.example/elsewhere"]}
        wrong_url = await client.post(path, json={"type": "counter_notice", "data": stranger})
    assert early.status_code == 400 and "request review" in early.text
    assert invalid.status_code == 400
    messages = [e["message"] for e in invalid.json()["errors"]]
    assert [m.split(" ")[0] for m in messages] == ["signature", "mistake_statement", "telephone"]
    assert "(perjury_attestation)" in messages[1] and "(phone_number)" in messages[2]
    assert wrong_url.status_code == 400 and "not a URL of this report" in wrong_url.text
    assert case_row(api, case_id).state == "action_active"


async def test_reply_is_stored_and_shown(api: Api) -> None:
    """A reply: stored as the customer's message, the case customer_replied; an empty one 400."""
    zone = await proxied_zone(api)
    case_id = file(api)
    path = f"{_reports(zone)}/{case_id}/replies"
    async with await customer(api, zone) as client:
        response = await client.post(path, json={"text": "We removed the page."})
        empty = await client.post(path, json={"text": "   "})
        detail = (await client.get(f"{_reports(zone)}/{case_id}")).json()["result"]
    assert response.status_code == 200 and response.json()["result"]["kind"] == "reply"
    assert empty.status_code == 400
    assert detail["state"] == "customer_replied"
    assert "We removed the page." in [m["body"] for m in detail["messages"]]


def _sdk(api: Api, token: str) -> AsyncCloudflare:
    transport = httpx.ASGITransport(app=api.app)
    return AsyncCloudflare(
        api_token=token,
        base_url=BASE,
        max_retries=0,
        http_client=httpx.AsyncClient(transport=transport, base_url=BASE),
    )


async def test_cloudflare_sdk_lists_gets_and_appeals(api: Api) -> None:
    """The official SDK against Veil: abuse_reports.list/get, mitigations.list/review (request
    review, then a counter-notice once the block is active) all parse Veil's answers."""
    clock = use_clock(api)
    zone = await proxied_zone(api)
    account = zone["account"]["id"]
    case_id = file(api)
    action_id = block(api, case_id)
    token = await api.token(["abuse:edit"], zones=[zone["id"]])
    async with _sdk(api, token) as client:
        page = await client.abuse_reports.list(account_id=account, type="DMCA")
        assert page.result is not None
        parsed = AbuseReportListResponse.model_validate(page.result.to_dict())
        assert [r.id for r in parsed.reports] == [case_id]
        assert parsed.reports[0].mitigation_summary.pending_count == 1
        report = await client.abuse_reports.get(case_id, account_id=account)
        assert report.id == case_id and report.type == "DMCA" and report.submitter is not None
        mitigations = await client.abuse_reports.mitigations.list(case_id, account_id=account)
        assert mitigations.result is not None
        [listed] = mitigations.result.to_dict()["mitigations"]
        assert listed["id"] == action_id and listed["status"] == "pending"
        reviewed = await client.abuse_reports.mitigations.review(
            case_id, account_id=account, appeals=[{"id": action_id, "reason": "misclassified"}]
        )
        assert [(m.id, m.status) for m in reviewed.result] == [(action_id, "in_review")]
    # the desk upholds the block; the customer then sends a counter-notice through the SDK
    with state_of(api).db.write() as session:
        action = session.get(AbuseAction, action_id)
        assert action is not None
        change_status(
            session=session, action=action, event=ActionEvent.UPHOLD, now=state_of(api).now()
        )
        session.commit()
    clock.advance(60)
    async with _sdk(api, token) as client:
        counter = await client.abuse_reports.mitigations.review(
            case_id, account_id=account, type="counter_notice", data=COUNTER
        )
        assert [(m.id, m.status) for m in counter.result] == [(action_id, "active")]
    assert case_row(api, case_id).state == "counter_noticed"
    with state_of(api).db.read() as session:
        kinds = set(
            session.scalars(select(AbuseMessage.kind).where(AbuseMessage.case_id == case_id))
        )
    assert {"review_request", "counter_notice"} <= kinds


async def test_content_removed_puts_pending_blocks_in_review_and_is_audited(api: Api) -> None:
    """Cloudflare's `content_removed` appeal: a reply on the case, every pending action in
    review, and an audit entry naming the customer's token."""
    use_clock(api)
    zone = await proxied_zone(api)
    case_id = file(api)
    action_id = block(api, case_id)
    async with await customer(api, zone) as client:
        response = await client.post(
            f"{_reports(zone)}/{case_id}/mitigations/appeal", json={"type": "content_removed"}
        )
    assert response.status_code == 200, response.json()
    assert [(m["id"], m["status"]) for m in response.json()["result"]] == [(action_id, "in_review")]
    with state_of(api).db.read() as session:
        audited = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "abuse.report.content_removed")
        ).one()
        assert audited.resource_id == case_id
        kinds = set(
            session.scalars(select(AbuseMessage.kind).where(AbuseMessage.case_id == case_id))
        )
    assert {"reply", "review_request"} <= kinds


async def test_customer_sees_that_a_trusted_reporter_received_the_origin(api: Api) -> None:
    """A vetted reporter's notice: the customer's view lists the disclosure of the origin
    address to that trusted reporter (who, what, why, when) — without the address itself."""
    zone = await proxied_zone(api)
    state = state_of(api)
    with state.db.write() as session:
        reporter = reporter_for(
            session=session, email=DMCA["email"], name=DMCA["name"], now=state.now()
        )
        assert reporter is not None
        session.flush()
        vet(reporter=reporter, agreement="TRA-7", since=state.now(), now=state.now())
        session.commit()
    case_id = file(api)
    async with await customer(api, zone, ["abuse:read"]) as client:
        response = await client.get(f"{_reports(zone)}/{case_id}")
    detail = response.json()["result"]
    trusted = [d for d in detail["disclosures"] if d["party"] == "trusted_reporter"]
    assert [(d["what"], d["recipient"]) for d in trusted] == [("origin_ip", DMCA["email"])]
    assert ORIGIN not in response.text
