"""The mailer: the outbox reaches a real SMTP relay (aiosmtpd on 127.0.0.1), with retries."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from tests.support.procs import free_port
from tests.support.smtp_sink import smtp_sink
from veil.abuse.letters import Letter
from veil.clock import SYSTEM_CLOCK, Clock, FakeClock
from veil.control.desk.mailer import Mailer, retry_delay
from veil.control.desk.outbox import queue_mail
from veil.control.store.db import Database, open_database
from veil.control.store.models import MailOutbox
from veil.settings import AbuseSettings

FROM = "abuse@veil.test"


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.dispose()


def _now(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock.now(), UTC)


def queue(
    db: Database, clock: Clock, to: str, subject: str, body: str, case: str | None = None
) -> int:
    with db.write() as session:
        row = queue_mail(
            session=session,
            to=to,
            letter=Letter(subject=subject, body=body),
            party="reporter",
            kind="receipt",
            now=_now(clock),
            case_id=case,
        )
        session.commit()
        return row.id


def row(db: Database, mail_id: int) -> MailOutbox:
    with db.read() as session:
        found = session.get(MailOutbox, mail_id)
        assert found is not None
        return found


async def until_sent(db: Database, mail_id: int, within: float = 5.0) -> MailOutbox:
    """The row once marked sent (the relay's 250 comes just before the mark)."""
    async with asyncio.timeout(within):
        while (found := row(db, mail_id)).sent_on is None:  # noqa: ASYNC110 (a database)
            await asyncio.sleep(0.02)
    return found


def mailer(db: Database, port: int, clock: Clock, poll: float = 0.5) -> Mailer:
    settings = AbuseSettings(smtp=("127.0.0.1", port), mail_from=FROM, operator_name="Veil")
    return Mailer(db=db, settings=settings, clock=clock, poll=poll, timeout=5.0)


@asynccontextmanager
async def running(sender: Mailer) -> AsyncIterator[None]:
    """The mailer's loop for the block, cancelled and awaited at its end."""
    task = asyncio.create_task(sender.run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_queued_mail_arrives_with_proper_headers(db: Database) -> None:
    """A queued letter reaches the relay within about a second: From, To, Subject, Date,
    Message-ID, Auto-Submitted, UTF-8 text/plain; the row is marked sent."""
    async with smtp_sink() as sink, running(mailer(db, sink.port, SYSTEM_CLOCK)):
        started = time.monotonic()
        mail_id = queue(
            db,
            SYSTEM_CLOCK,
            "jane@rights.example",
            "[case c1] Your report",
            "Grüße — case c1\n",
            "c1",
        )
        [got] = await sink.wait_for(lambda r: len(r) == 1, within=5)
        assert time.monotonic() - started < 2.0
        stored = await until_sent(db, mail_id)
    message = got.message
    assert got.rcpt_tos == ["jane@rights.example"] and got.mail_from == FROM
    assert message["From"] == "Veil abuse desk <abuse@veil.test>"
    assert message["To"] == "jane@rights.example"
    assert message["Subject"] == "[case c1] Your report"
    assert abs(parsedate_to_datetime(message["Date"]) - datetime.now(UTC)) < timedelta(minutes=1)
    assert message["Message-ID"].startswith(f"<outbox.{mail_id}.") and message[
        "Message-ID"
    ].endswith("@veil.test>")
    assert message["Auto-Submitted"] == "auto-generated" and message["X-Veil-Case"] == "c1"
    assert message.get_content_type() == "text/plain" and message.get_content_charset() == "utf-8"
    assert got.text == "Grüße — case c1\n"
    assert stored.attempts == 0 and stored.last_error is None


async def test_commit_wakes_the_mailer_before_the_poll(db: Database) -> None:
    """Mail committed in this process is sent at once, not at the next (here 60 s) poll."""
    async with smtp_sink() as sink, running(mailer(db, sink.port, SYSTEM_CLOCK, poll=60)):
        await asyncio.sleep(0.3)  # the first round found nothing; the loop now waits
        await asyncio.to_thread(queue, db, SYSTEM_CLOCK, "a@b.example", "s", "b")
        await sink.wait_for(lambda r: len(r) == 1, within=3)


async def test_relay_down_is_retried_with_backoff_and_not_lost(db: Database) -> None:
    """While the relay is down each attempt is counted with its error and the next waits
    30 s, then 60 s; once the relay is back the mail goes out."""
    clock = FakeClock()
    port = free_port()
    sender = mailer(db, port, clock)
    mail_id = queue(db, clock, "a@b.example", "subject", "body")
    assert await sender.send_due() == 0
    first = row(db, mail_id)
    assert first.attempts == 1 and first.sent_on is None
    assert first.last_error is not None and "unreachable" in first.last_error
    assert first.next_attempt_on == _now(clock) + timedelta(seconds=30)
    clock.advance(29)
    assert await sender.send_due() == 0 and row(db, mail_id).attempts == 1  # not due yet
    clock.advance(1)
    assert await sender.send_due() == 0
    assert row(db, mail_id).next_attempt_on == _now(clock) + timedelta(seconds=60)
    async with smtp_sink(port) as sink:
        clock.advance(60)
        assert await sender.send_due() == 1
        assert [r.message["Subject"] for r in sink.received] == ["subject"]
    done = row(db, mail_id)
    assert done.sent_on == _now(clock) and done.attempts == 2 and done.last_error is None


async def test_refused_recipient_keeps_its_error_and_the_rest_go_out(db: Database) -> None:
    """A recipient the relay refuses (550) stays in the outbox with the relay's answer; the
    other mail of the same round is delivered."""
    clock = FakeClock()
    async with smtp_sink(refuse={"gone@b.example"}) as sink:
        sender = mailer(db, sink.port, clock)
        bad = queue(db, clock, "gone@b.example", "one", "body")
        good = queue(db, clock, "here@b.example", "two", "body")
        assert await sender.send_due() == 1
        assert [r.rcpt_tos for r in sink.received] == [["here@b.example"]]
    refused = row(db, bad)
    assert refused.sent_on is None and refused.attempts == 1
    assert refused.last_error is not None and "550" in refused.last_error
    assert row(db, good).sent_on is not None


async def test_claimed_mail_is_not_sent_twice(db: Database) -> None:
    """Two mailers on one database (two control processes) send each letter once."""
    clock = FakeClock()
    async with smtp_sink() as sink:
        first, second = mailer(db, sink.port, clock), mailer(db, sink.port, clock)
        for n in range(5):
            queue(db, clock, f"r{n}@b.example", f"s{n}", "body")
        counts = await asyncio.gather(first.send_due(), second.send_due())
        assert sum(counts) == 5
        assert sorted(r.message["Subject"] for r in sink.received) == [f"s{n}" for n in range(5)]


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(0, 0), (1, 30), (2, 60), (3, 120), (7, 1920), (8, 3600), (50, 3600)],
)
def test_retry_delay_doubles_to_an_hour(attempts: int, seconds: int) -> None:
    """30 s after the first failure, doubling, never more than an hour."""
    assert retry_delay(attempts) == timedelta(seconds=seconds)


def test_a_mailer_needs_a_relay(db: Database) -> None:
    """Without --smtp there is no mailer (mail waits in the outbox)."""
    with pytest.raises(ValueError, match="--smtp"):
        Mailer(db=db, settings=AbuseSettings(), clock=SYSTEM_CLOCK)


async def test_pending_mail_is_left_alone_after_send(db: Database) -> None:
    """Sent rows are not sent again on the next round."""
    clock = FakeClock()
    async with smtp_sink() as sink:
        sender = mailer(db, sink.port, clock)
        queue(db, clock, "a@b.example", "once", "body")
        assert await sender.send_due() == 1
        clock.advance(3600)
        assert await sender.send_due() == 0
        assert len(sink.received) == 1
    with db.read() as session:
        assert session.scalars(select(MailOutbox.sent_on)).all() != [None]


async def test_relay_login_with_user_and_password(db: Database) -> None:
    """--smtp-user with $VEIL_SMTP_PASSWORD logs in (AUTH, RFC 4954) before sending; a wrong
    password leaves the mail queued with the failure as its error."""
    from aiosmtpd.smtp import AuthResult, LoginPassword

    logins: list[tuple[str, str]] = []

    def authenticator(
        server: object, session: object, envelope: object, mechanism: str, data: object
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        user, password = data.login.decode(), data.password.decode()
        logins.append((user, password))
        return AuthResult(success=(user, password) == ("desk", "s3cret"))

    options = {"authenticator": authenticator, "auth_require_tls": False}
    async with smtp_sink(smtp_options=options) as sink:
        good = AbuseSettings(
            smtp=("127.0.0.1", sink.port),
            mail_from=FROM,
            smtp_tls="none",
            smtp_user="desk",
            smtp_password="s3cret",
        )
        async with running(Mailer(db=db, settings=good, clock=SYSTEM_CLOCK, timeout=5.0)):
            mail_id = queue(db, SYSTEM_CLOCK, "jane@rights.example", "s", "b")
            await sink.wait_for(lambda r: len(r) == 1, within=5)
            await until_sent(db, mail_id)
        bad = dataclasses.replace(good, smtp_password="wrong")
        async with running(Mailer(db=db, settings=bad, clock=SYSTEM_CLOCK, timeout=1.0)):
            other = queue(db, SYSTEM_CLOCK, "jane@rights.example", "s2", "b2")
            async with asyncio.timeout(5):
                while row(db, other).attempts == 0:  # noqa: ASYNC110 (a database)
                    await asyncio.sleep(0.02)
    assert ("desk", "s3cret") in logins and ("desk", "wrong") in logins
    failed = row(db, other)
    assert failed.sent_on is None and failed.last_error  # refused (535) or cut off: kept
    assert "s3cret" not in repr(good) and "wrong" not in repr(bad)
