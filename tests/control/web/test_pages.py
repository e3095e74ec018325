"""The desk's published pages: policy, designated agent, DSA contact, statements of reasons."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.control.harness import Api, open_api
from tests.control.web.support import DMCA, HOST_NAME, ORIGIN, browser, parse, proxied_zone
from veil.abuse.actions import ActionType, Ground, StatementOfReasons
from veil.abuse.strikes import describe
from veil.control.desk.mitigations import propose
from veil.control.store.models import AbuseCase
from veil.settings import AbuseSettings

FOOTER = {"/abuse", "/abuse/policy", "/abuse/agent", "/abuse/contact"}


def _footer_links(html: str) -> set[str]:
    return {a.attrs["href"] for a in parse(html).all("a")} & FOOTER


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_every_page_links_agent_and_contact_and_sets_safe_headers(api: Api) -> None:
    """Each public page links the form, policy, agent and contact pages, and carries a CSP
    without scripts, no-referrer and nosniff; the stylesheet is served."""
    async with browser(api) as client:
        for path in (
            "/abuse",
            "/abuse/new/abuse_phishing",
            "/abuse/policy",
            "/abuse/agent",
            "/abuse/contact",
            "/abuse/statements/nope",
            "/abuse/cases/nope?key=nope",
        ):
            response = await client.get(path)
            assert _footer_links(response.text) == FOOTER, path
            assert response.headers["referrer-policy"] == "no-referrer"
            assert response.headers["x-content-type-options"] == "nosniff"
            assert "script-src" not in response.headers["content-security-policy"]
            assert "default-src 'none'" in response.headers["content-security-policy"]
        css = await client.get("/abuse/static/desk.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_policy_page_publishes_the_repeat_infringer_policy(api: Api) -> None:
    """GET /abuse/policy: the §512(i) paragraph of the desk's policy, the deadlines per
    category, the escalation delay and the counter-notice rights (§512(g))."""
    async with browser(api) as client:
        response = await client.get("/abuse/policy")
    assert response.status_code == 200
    assert describe(api.app.state.veil.desk.policy) in response.text
    assert "§512(g)(3)" in response.text and "10 to 14 business days" in response.text
    rows = [tr for tr in parse(response.text).all("tr")]
    assert len(rows) == 1 + 8
    assert "1 hour" in response.text and "72 hours" in response.text
    assert "30 days" in response.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_agent_and_contact_say_when_not_configured(api: Api) -> None:
    """Without settings, the agent and contact pages say the operator has not configured them."""
    async with browser(api) as client:
        agent = await client.get("/abuse/agent")
        contact = await client.get("/abuse/contact")
    assert agent.status_code == 200 and "has not configured a designated agent" in agent.text
    assert contact.status_code == 200 and "has not configured a point of contact" in contact.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_agent_and_contact_show_what_the_operator_configured(
    db_url: str, tmp_path: Path
) -> None:
    """The designated agent (§512(c)(2)) and the DSA contact (Art. 11/12) as configured."""
    settings = AbuseSettings(
        operator_name="Example CDN",
        agent_name="Dana <Agent>",
        agent_address="1 Copyright Way\nSpringfield",
        agent_email="dmca@cdn.example",
        agent_phone="+1 555 0199",
        dsa_contact_email="dsa@cdn.example",
        dsa_languages=("en", "de"),
    )
    async with open_api(db_url, tmp_path, abuse=settings) as api, browser(api) as client:
        agent = await client.get("/abuse/agent")
        contact = await client.get("/abuse/contact")
    for text in ("Example CDN", "Dana &lt;Agent&gt;", "1 Copyright Way", "dmca@cdn.example"):
        assert text in agent.text
    assert "+1 555 0199" in agent.text and "not configured" not in agent.text
    assert "dsa@cdn.example" in contact.text and "en, de" in contact.text


async def test_statement_of_reasons_is_public_and_linked_from_the_case(api: Api) -> None:
    """A legal_block's statement page shows the DSA Art. 17(3) fields; the status page lists
    the action with its status and links to it; neither shows the reporter or the origin."""
    await proxied_zone(api)
    state = api.app.state.veil
    async with browser(api) as client:
        receipt = await client.post("/abuse/new/abuse_dmca", data=DMCA)
        assert receipt.status_code == 200
        with state.db.write() as session:
            case = session.scalars(select(AbuseCase)).one()
            action = propose(
                session=session,
                case=case,
                type=ActionType.LEGAL_BLOCK,
                statement=StatementOfReasons(
                    restriction="Access to the reported page is blocked",
                    duration="until a valid counter-notice",
                    facts="A copyright notice identified copies of a photograph collection.",
                    followed_notice=True,
                    automated_detection=False,
                    automated_decision=False,
                    ground=Ground.ILLEGAL_CONTENT,
                    ground_reference="17 U.S.C. §512(c)",
                    explanation="The page reproduces the work without permission.",
                    redress=("Counter-notice under 17 U.S.C. §512(g)", "Court"),
                    notice_reference=case.id,
                ),
                now=state.now(),
                effective_on=state.now() + timedelta(days=2),
                countries=["DE"],
            )
            session.commit()
            action_id, key = action.id, case.status_key
        statement = await client.get(f"/abuse/statements/{action_id}")
        status = await client.get(f"/abuse/cases/{case.id}", params={"key": key})
        missing = await client.get("/abuse/statements/" + "0" * 32)
    assert statement.status_code == 200
    for text in (
        "Access to the reported page is blocked",
        "until a valid counter-notice",
        "A copyright notice identified copies",
        "The content is illegal",
        "17 U.S.C. §512(c)",
        "Counter-notice under 17 U.S.C. §512(g)",
        "Only for visitors from: DE",
        "Pending: takes effect on its date",
        "https://shop.example/dresses/copy-1",
        "taken by a person",
    ):
        assert text in statement.text, text
    assert status.status_code == 200 and f"/abuse/statements/{action_id}" in status.text
    assert "Blocked (HTTP 451" in status.text and HOST_NAME in status.text
    for page in (statement.text, status.text):
        assert ORIGIN not in page and "counsel@rights.example" not in page
        assert "Ada Counsel" not in page
    assert missing.status_code == 404 and "Statement not found" in missing.text
