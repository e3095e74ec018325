"""Tier (c), acceptance 1 by e-mail: `veil control` with an SMTP relay and an SMTP intake;
a DMCA notice mailed to abuse@ reaches reporter, customer and host through a real relay."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import aiosmtplib
import httpx
from sqlalchemy import select

from tests.support.procs import VEIL, free_port, wait_port
from tests.support.smtp_sink import smtp_sink
from veil.control.store.db import open_database
from veil.control.store.models import AbuseCase, AccountHost

ORIGIN = "93.184.215.14"
REPORTER = "counsel@rights.example"
CUSTOMER = "owner@gowns.example"
HOST = "abuse@hosting.example"

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


async def _customer_zone(api_port: int, token: str) -> str:
    """An account with a contact, its zone gowns.example, proxied www to the origin."""
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{api_port}/client/v4",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ) as api:
        account = (
            await api.post("/accounts", json={"name": "Gowns", "contact_email": CUSTOMER})
        ).json()["result"]
        zone = (
            await api.post("/zones", json={"name": "gowns.example", "account": account})
        ).json()["result"]
        record = await api.post(
            f"/zones/{zone['id']}/dns_records",
            json={"type": "A", "name": "www", "content": ORIGIN, "proxied": True},
        )
        assert record.status_code == 200, record.text
        return str(account["id"])


def _declare_host(data_dir: Path, account_id: str) -> None:
    db = open_database(f"sqlite:///{data_dir / 'veil.db'}")
    try:
        with db.write() as session:
            session.add(
                AccountHost(
                    account_id=account_id,
                    name="Example Hosting GmbH",
                    abuse_email=HOST,
                    modified_on=datetime.now(UTC),
                )
            )
            session.commit()
    finally:
        db.dispose()


async def test_emailed_notice_reaches_reporter_customer_and_host(tmp_path: Path) -> None:
    """Within 60 s (in practice about a second) of the notice's mail: the reporter's answer
    (case id, host's name and abuse contact), the customer's and the host's mail arrive; the
    host's has the origin IP and nothing the reporter receives has it. SIGTERM stops the
    intake and the mailer cleanly."""
    data_dir = tmp_path / "data"
    api_port, intake_port = free_port(), free_port()
    async with smtp_sink() as sink:
        log = (tmp_path / "control.log").open("w")
        proc = await asyncio.create_subprocess_exec(
            *VEIL,
            "control",
            "--data-dir",
            str(data_dir),
            "--api-listen",
            f"127.0.0.1:{api_port}",
            "--smtp",
            f"127.0.0.1:{sink.port}",
            "--abuse-smtp-listen",
            f"127.0.0.1:{intake_port}",
            "--mail-from",
            "abuse@veil.test",
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            await asyncio.to_thread(wait_port, api_port, 30.0)
            await asyncio.to_thread(wait_port, intake_port, 30.0)
            token = (data_dir / "admin.token").read_text().strip()
            account_id = await _customer_zone(api_port, token)
            _declare_host(data_dir, account_id)

            started = time.monotonic()
            _, reply = await aiosmtplib.send(
                NOTICE,
                sender=REPORTER,
                recipients=["abuse@veil.test"],
                hostname="127.0.0.1",
                port=intake_port,
                timeout=30,
            )
            assert reply.startswith("2.0.0 Filed as case "), reply
            case_id = reply.rsplit(" ", 1)[-1]

            await sink.wait_for(lambda r: bool(sink.to(REPORTER)), within=60)
            answered = time.monotonic() - started
            await sink.wait_for(
                lambda r: bool(sink.to(CUSTOMER)) and bool(sink.to(HOST)), within=60
            )
            assert time.monotonic() - started < 60 and answered < 10
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(20):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
            log.close()
    assert proc.returncode == 0, (tmp_path / "control.log").read_text()

    [answer] = sink.to(REPORTER)
    assert f"[case {case_id}]" in answer.message["Subject"]
    assert "Example Hosting GmbH" in answer.text and HOST in answer.text
    assert all(ORIGIN not in str(r.message) for r in sink.to(REPORTER))
    [host_mail] = sink.to(HOST)
    assert ORIGIN in host_mail.text and case_id in host_mail.message["Subject"]
    [customer_mail] = sink.to(CUSTOMER)
    assert "https://www.gowns.example/dresses/copy-1" in customer_mail.text

    db = open_database(f"sqlite:///{data_dir / 'veil.db'}")
    try:
        with db.read() as session:
            case = session.scalars(select(AbuseCase).where(AbuseCase.id == case_id)).one()
            assert case.channel == "email" and case.state == "forwarded"
    finally:
        db.dispose()
