"""Tier (c), acceptance 1: a complete DMCA notice about a URL on a proxied zone, filed through
each channel — e-mail to the SMTP intake, the public form, the official `cloudflare` SDK —
against a real `veil control` with a real SMTP relay: the receipt names the hosting provider
and its abuse contact; the reporter's, customer's and host's mail arrive within 60 s; only the
host's holds the origin IP. Receipt times are printed (speed is measured, not asserted)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiosmtplib
import httpx
from cloudflare import Cloudflare
from sqlalchemy import select

from tests.integration.desk_support import CUSTOMER, HOST, HOST_NAME, ORIGIN, Desk, running_desk
from veil.control.store.db import open_database
from veil.control.store.models import AbuseCase

REPORTER = "counsel@rights.example"
URL = "https://www.gowns.example/dresses/copy-1"

NOTICE = (
    f"From: Ada Counsel <{REPORTER}>\r\n"
    "To: abuse@veil.test\r\n"
    "Subject: DMCA notice: counterfeit gown photographs\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    "We represent Bridal Gowns Inc., the owner of the copyright in the photographs below.\r\n\r\n"
    "Original work: Bridal gown collection 2026 (photographs), https://rights.example/gowns\r\n\r\n"
    "The infringing copies are at:\r\n"
    "https://www.gowns.example/dresses/copy-1\r\n\r\n"
    "I have a good faith belief that use of the material in the manner complained of is not\r\n"
    "authorized by the copyright owner, its agent, or the law.\r\n\r\n"
    "I swear, under penalty of perjury, that the information in this notification is\r\n"
    "accurate and that I am authorized to act on behalf of the copyright owner.\r\n\r\n"
    "Address: 1 Main St, Springfield, IL\r\n"
    "Phone: +1 555 0100\r\n\r\n"
    "Sincerely,\r\n"
    "Ada Counsel\r\n"
).encode()


async def _mail_arrives(desk: Desk, reporter: str, started: float) -> None:
    """Reporter, customer and host mail at the relay within 60 s of filing."""
    sink = desk.sink
    await sink.wait_for(
        lambda r: bool(sink.to(reporter)) and bool(sink.to(CUSTOMER)) and bool(sink.to(HOST)),
        within=60,
    )
    print(f"mail to reporter, customer and host within {time.monotonic() - started:.2f} s")
    assert all(ORIGIN not in str(r.message) for r in sink.to(reporter))
    [host_mail] = sink.to(HOST)
    assert ORIGIN in host_mail.text
    [customer_mail] = sink.to(CUSTOMER)
    assert URL in customer_mail.text
    assert any(HOST_NAME in r.text and HOST in r.text for r in sink.to(reporter))


def _case(desk: Desk, case_id: str) -> AbuseCase:
    db = open_database(f"sqlite:///{desk.data_dir / 'veil.db'}")
    try:
        with db.read() as session:
            return session.scalars(select(AbuseCase).where(AbuseCase.id == case_id)).one()
    finally:
        db.dispose()


async def test_emailed_notice_reaches_reporter_customer_and_host(tmp_path: Path) -> None:
    """E-mail: the intake answers 250 with the case id; the reporter's answer names the case,
    the host and its abuse contact; customer and host are told; only the host gets the IP."""
    async with running_desk(tmp_path) as desk:
        started = time.monotonic()
        _, reply = await aiosmtplib.send(
            NOTICE,
            sender=REPORTER,
            recipients=["abuse@veil.test"],
            hostname="127.0.0.1",
            port=desk.intake_port,
            timeout=30,
        )
        print(f"e-mail: SMTP answer with the case id in {time.monotonic() - started:.3f} s")
        assert reply.startswith("2.0.0 Filed as case "), reply
        case_id = reply.rsplit(" ", 1)[-1]
        await _mail_arrives(desk, REPORTER, started)
        [answer] = desk.sink.to(REPORTER)
        assert f"[case {case_id}]" in answer.message["Subject"]
    case = _case(desk, case_id)
    assert case.channel == "email" and case.state == "forwarded"


FORM = {
    "urls": URL,
    "original_work": "Bridal gown collection 2026 (photographs), https://rights.example/gowns",
    "agent_name": "Bridal Gowns Inc.",
    "name": "Ada Counsel",
    "email": REPORTER,
    "email2": REPORTER,
    "address1": "1 Main St",
    "city": "Springfield",
    "state": "IL",
    "country": "US",
    "tele": "+1 555 0100",
    "signature": "Ada Counsel",
    "statement_good_faith": "1",
    "statement_accuracy_perjury": "1",
    "host_notification": "send",
    "owner_notification": "send",
}


async def test_form_notice_gets_its_receipt_page_and_mail(tmp_path: Path) -> None:
    """The public form (no account): the receipt page names the case, the host and its abuse
    contact and never the origin; the three mails follow."""
    async with running_desk(tmp_path) as desk:
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=desk.api, timeout=10) as browser:
            page = await browser.post("/abuse/new/abuse_dmca", data=FORM)
        print(f"form: receipt page in {time.monotonic() - started:.3f} s")
        assert page.status_code == 200, page.text[:500]
        assert HOST_NAME in page.text and HOST in page.text and ORIGIN not in page.text
        await _mail_arrives(desk, REPORTER, started)


async def test_sdk_notice_gets_a_receipt_and_mail(tmp_path: Path) -> None:
    """The official SDK's `abuse_reports.create` (the operator's token, filing for an account
    it lists): the case id comes back; the envelope's receipt names the host; mails follow."""
    async with running_desk(tmp_path) as desk:
        client = Cloudflare(api_token=desk.token, base_url=f"{desk.api}/client/v4", max_retries=0)
        fields = {k: v for k, v in FORM.items() if not k.startswith("statement_")}
        started = time.monotonic()
        raw = await asyncio.to_thread(
            client.abuse_reports.with_raw_response.create,
            "abuse_dmca",
            account_id=desk.account_id,
            act="abuse_dmca",
            agree=1,
            **fields,
        )
        print(f"SDK: receipt in {time.monotonic() - started:.3f} s")
        case_id = raw.parse()
        envelope = raw.http_response.json()
        [receipt] = envelope["receipt"]
        assert receipt["case_id"] == case_id and receipt["state"] == "forwarded"
        assert receipt["hosting_provider"] == {"name": HOST_NAME, "abuse_email": HOST}
        assert ORIGIN not in raw.http_response.text
        await _mail_arrives(desk, REPORTER, started)
    assert _case(desk, case_id).channel == "api"
