"""The SMTP intake: notices mailed to abuse@ become cases, and the sender gets one answer
(a real aiosmtpd intake and a real aiosmtpd relay on 127.0.0.1; SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import aiosmtplib
import pytest
from sqlalchemy import select

from tests.control.harness import Api, open_api
from tests.support.smtp_sink import Received, Sink, smtp_sink
from veil.control.app import control_state
from veil.control.desk.background import Desk, run_desk
from veil.control.desk.smtp_intake import MAX_MESSAGE, IntakeError, SmtpIntake
from veil.control.state import ControlState
from veil.control.store.models import AbuseCase, AbuseCaseUrl, AccountHost, MailOutbox
from veil.settings import AbuseSettings

ORIGIN = "93.184.215.14"
REPORTER = "jane@acme-films.example"
CUSTOMER = "owner@shop.example"
HOST = "abuse@hosting.example"
GOOD_FAITH = (
    "I have a good faith belief that use of the material in the manner complained of is not\n"
    "authorized by the copyright owner, its agent, or the law.\n"
)
PERJURY = (
    "I swear, under penalty of perjury, that the information in this notification is accurate\n"
    "and that I am authorized to act on behalf of the copyright owner.\n"
)


def notice(*, perjury: bool = True, headers: str = "", subject: str = "DMCA notice") -> bytes:
    return (
        f"From: Jane Rights <{REPORTER}>\r\nTo: abuse@veil.test\r\nSubject: {subject}\r\n"
        f"{headers}Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Copyright infringement on a site you serve.\r\n\r\n"
        'Original work: "The Long Night" (film, 2024)\r\n\r\n'
        "Infringing material: https://shop.example/films/long-night.mp4\r\n\r\n"
        + GOOD_FAITH.replace("\n", "\r\n")
        + (PERJURY.replace("\n", "\r\n") if perjury else "")
        + "\r\nPhone: +1 310 555 0100\r\n\r\n/s/ Jane Rights\r\n"
    ).encode()


@dataclass
class Env:
    api: Api
    state: ControlState
    sink: Sink
    desk: Desk

    @property
    def port(self) -> int:
        assert self.desk.intake is not None
        return self.desk.intake.address[1]

    async def send(self, raw: bytes, sender: str = REPORTER) -> str:
        """Send `raw` (sender "" is the null reverse-path of a bounce); the final reply."""
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=self.port, timeout=10) as client:
            _, reply = await client.sendmail(sender, ["abuse@veil.test"], raw)
        return reply

    def cases(self) -> list[AbuseCase]:
        with self.state.db.read() as session:
            return list(session.scalars(select(AbuseCase).order_by(AbuseCase.received_on)))

    async def outbox_drained(self) -> None:
        """Wait (bounded) until the mailer has sent everything queued."""
        async with asyncio.timeout(10):
            while True:
                with self.state.db.read() as session:
                    if not session.scalars(
                        select(MailOutbox.id).where(MailOutbox.sent_on.is_(None))
                    ).first():
                        return
                await asyncio.sleep(0.05)


async def _setup(api: Api) -> None:
    """A proxied zone shop.example on a customer's account that declares its host."""
    account = await api.ok("POST", "/accounts", json={"name": "Shop", "contact_email": CUSTOMER})
    zone = await api.ok("POST", "/zones", json={"name": "shop.example", "account": account})
    await api.ok(
        "POST",
        f"/zones/{zone['id']}/dns_records",
        json={"type": "A", "name": "shop.example", "content": ORIGIN, "proxied": True},
    )
    state = control_state(api.app)
    with state.db.write() as session:
        session.add(
            AccountHost(
                account_id=account["id"],
                name="Example Hosting GmbH",
                abuse_email=HOST,
                modified_on=state.now(),
            )
        )
        session.commit()


@pytest.fixture
async def env(db_url: str, tmp_path: Path) -> AsyncIterator[Env]:
    async with smtp_sink() as sink:
        abuse = AbuseSettings(
            smtp=("127.0.0.1", sink.port),
            smtp_listen=("127.0.0.1", 0),
            mail_from="abuse@veil.test",
            public_url="https://desk.veil.test",
        )
        async with open_api(db_url, tmp_path, abuse=abuse) as api:
            await _setup(api)
            state = control_state(api.app)
            async with run_desk(state) as desk:
                yield Env(api=api, state=state, sink=sink, desk=desk)


async def _plain_smtp(port: int, raw: bytes) -> str:
    """HELO, MAIL, RCPT, DATA by hand (no SMTP extensions); the reply to the final dot."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        async with asyncio.timeout(10):
            await reader.readline()
            for command in (b"HELO t", b"MAIL FROM:<j@a.example>", b"RCPT TO:<abuse@v.test>"):
                writer.write(command + b"\r\n")
                assert (await reader.readline()).startswith(b"250")
            writer.write(b"DATA\r\n")
            assert (await reader.readline()).startswith(b"354")
            writer.write(raw + b".\r\n")
            return (await reader.readline()).decode().strip()
    finally:
        writer.close()


def _case_id(reply: str) -> str:
    match = re.search(r"case ([0-9a-f]{32})", reply)
    assert match is not None, reply
    return match.group(1)


def _only(received: list[Received], to: str) -> Received:
    [one] = [r for r in received if to in r.rcpt_tos]
    return one


async def test_emailed_dmca_notice_becomes_a_forwarded_case(env: Env) -> None:
    """A complete notice by e-mail: 250 with the case id; a case on channel email with the
    URL and the elements read; one answer to the sender naming the case; customer and host
    told, the origin only to the host."""
    reply = await env.send(notice())
    case_id = _case_id(reply)
    [case] = env.cases()
    assert case.id == case_id and case.channel == "email" and case.state == "forwarded"
    assert case.notice["signature"] == "Jane Rights"
    assert case.notice["original_work"] == '"The Long Night" (film, 2024)'
    assert case.notice["statement_good_faith"] and case.notice["statement_accuracy_perjury"]
    assert case.notice["email"] == REPORTER and case.notice["tele"] == "+1 310 555 0100"
    with env.state.db.read() as session:
        urls = session.scalars(select(AbuseCaseUrl.url).where(AbuseCaseUrl.case_id == case_id))
        assert list(urls) == ["https://shop.example/films/long-night.mp4"]
    received = await env.sink.wait_for(lambda r: len(r) == 3)
    answer = _only(received, REPORTER)
    assert f"[case {case_id}]" in answer.message["Subject"]
    assert "Example Hosting GmbH" in answer.text and HOST in answer.text
    assert "What we read from your e-mail:" in answer.text and "incomplete" not in answer.text
    assert ORIGIN not in answer.text and ORIGIN not in str(answer.message)
    assert ORIGIN in _only(received, HOST).text
    assert "long-night.mp4" in _only(received, CUSTOMER).text


async def test_missing_statement_is_named_and_a_reply_completes_the_case(env: Env) -> None:
    """Without the perjury statement the case awaits the reporter and the answer names what
    is missing; the reporter's reply with the statement completes and forwards it."""
    case_id = _case_id(await env.send(notice(perjury=False)))
    [case] = env.cases()
    assert case.state == "incomplete_awaiting_reporter"
    [answer] = await env.sink.wait_for(lambda r: len(r) == 1)
    assert answer.rcpt_tos == [REPORTER] and case_id in answer.message["Subject"]
    assert "under penalty of perjury" in answer.text  # the repair line for (vi)
    assert "good faith" not in answer.text.split("What we read")[0]  # (v) was given
    assert f"keeping [case {case_id}] in the subject" in answer.text
    reply = (
        f"From: Jane Rights <{REPORTER}>\r\nSubject: Re: {answer.message['Subject']}\r\n\r\n"
        + PERJURY.replace("\n", "\r\n")
        + "\r\n> We received your report\r\n"
    ).encode()
    assert f"Case {case_id} updated" in await env.send(reply)
    [case] = env.cases()
    assert case.state == "forwarded"
    received = await env.sink.wait_for(lambda r: len(r) == 4)
    assert len(env.sink.to(REPORTER)) == 2 and len(env.sink.to(CUSTOMER)) == 1
    assert ORIGIN in _only(received, HOST).text


async def test_one_answer_for_urls_on_two_zones(env: Env) -> None:
    """A notice naming sites of two zones makes two cases but the sender gets one answer."""
    await env.api.zone("other.example")
    raw = notice().replace(
        b"long-night.mp4\r\n", b"long-night.mp4\r\nhttps://other.example/copy.mp4\r\n"
    )
    reply = await env.send(raw)
    assert len(re.findall(r"case [0-9a-f]{32}", reply)) == 2
    await env.outbox_drained()
    [answer] = env.sink.to(REPORTER)
    assert all(case.id in answer.text for case in env.cases())


async def test_automatic_mail_is_filed_but_not_answered(env: Env) -> None:
    """RFC 3834 §2: an auto-submitted notice is filed; no answer goes back."""
    reply = await env.send(notice(headers="Auto-Submitted: auto-generated\r\n"))
    assert _case_id(reply) == env.cases()[0].id
    await env.outbox_drained()
    assert env.sink.to(REPORTER) == [] and len(env.sink.to(CUSTOMER)) == 1


async def test_bounces_and_our_own_mail_are_not_filed(env: Env) -> None:
    """A delivery report (null reverse-path) and the desk's own mail make no case."""
    assert "not a notice" in await env.send(notice(), sender="")
    own = notice().replace(REPORTER.encode(), b"abuse@veil.test")
    assert "not filed" in await env.send(own, sender="abuse@veil.test")
    assert env.cases() == []


async def test_oversized_mail_is_refused_with_552(env: Env) -> None:
    """Above 1 MiB the intake answers 552 and says what to send instead — at MAIL FROM when
    the client announces the size (RFC 1870), else after DATA; nothing is filed."""
    raw = notice() + (b"y" * 998 + b"\r\n") * (MAX_MESSAGE // 1000 + 10)
    with pytest.raises(aiosmtplib.SMTPSenderRefused) as announced:
        await env.send(raw)
    assert announced.value.code == 552 and "without attachments" in announced.value.message
    reply = await _plain_smtp(env.port, raw)  # no SIZE parameter: found during DATA
    assert reply.startswith("552 5.3.4 ") and "1024 KiB" in reply
    assert env.cases() == []


async def test_message_without_text_is_refused_with_550(env: Env) -> None:
    """A message with nothing to read (only an attachment) gets a 550 that says why."""
    raw = (
        b"From: a@b.example\r\nSubject: notice\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n"
    )
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await env.send(raw)
    assert refused.value.code == 550 and "attachments are not read" in refused.value.message
    assert env.cases() == []


async def test_stop_closes_open_connections(env: Env) -> None:
    """Shutdown does not wait for an idle SMTP client: the intake stops at once."""
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=env.port, timeout=5)
    await client.connect()
    await client.ehlo()
    port = env.port
    async with asyncio.timeout(3):
        await env.desk.stop()
    with pytest.raises((aiosmtplib.SMTPException, OSError)):
        await client.noop()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)
    client.close()


async def test_address_in_use_is_one_clear_error(env: Env) -> None:
    """A second intake on a taken address fails to start with a one-line reason."""
    taken = replace(env.state.settings.abuse, smtp_listen=("127.0.0.1", env.port))
    state = replace(env.state, settings=replace(env.state.settings, abuse=taken))
    with pytest.raises(IntakeError, match=rf"cannot listen on 127.0.0.1:{env.port} for abuse mail"):
        await SmtpIntake(state).start()
