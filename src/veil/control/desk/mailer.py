"""The mailer: sends the outbox (`mail_outbox`) through the operator's SMTP relay.

Theory of operation. Letters are queued in the transaction that causes them
(`veil.control.desk.outbox.queue_mail`), so a crash or a relay outage loses nothing. This loop
sends what is due:

1. claim — one write transaction takes up to `BATCH` rows with `sent_on` NULL and
   `next_attempt_on <= now` (on PostgreSQL `FOR UPDATE SKIP LOCKED`; SQLite's write
   transaction is exclusive) and moves their `next_attempt_on` a lease ahead, so another
   control process on the same database does not send them too;
2. send — one SMTP session (aiosmtplib) for the batch; each row becomes an RFC 5322 message
   (Date, Message-ID, From, To, Subject, UTF-8 text/plain, `Auto-Submitted: auto-generated`
   per RFC 3834 §5);
3. record — `sent_on` on success; on failure `attempts + 1`, `last_error`, and the next attempt
   after 30 s doubling per attempt, at most an hour.

Delivery is at least once: a crash between the relay's 250 and step 3 sends that row again
(with the same Message-ID, which lets receivers drop the copy). The loop polls every
`poll` seconds and wakes at once when a commit in this process queued mail (a session event).
Without a relay (`--smtp` unset) nothing runs and mail waits in the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

import aiosmtplib
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from veil.clock import Clock
from veil.control.store.db import Database
from veil.control.store.models import MailOutbox
from veil.settings import AbuseSettings

log = logging.getLogger("veil.desk.mailer")

BATCH = 50
LEASE = timedelta(minutes=5)  # a claimed row is tried again after this if the sender died
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
SMTP_TIMEOUT = 30.0
_QUEUED_KEY = "veil.mail_queued"


_TLS_OPTIONS: dict[str, dict[str, Any]] = {
    "starttls": {"start_tls": None},  # when the relay offers it
    "require-starttls": {"start_tls": True},
    "tls": {"use_tls": True},
    "none": {"start_tls": False},
}


def relay_options(settings: AbuseSettings) -> dict[str, Any]:
    """aiosmtplib's TLS and login options for `--smtp-tls` / `--smtp-user` (RFC 3207
    STARTTLS, RFC 8314 implicit TLS, RFC 4954 AUTH after connecting)."""
    options: dict[str, Any] = dict(_TLS_OPTIONS[settings.smtp_tls])
    if settings.smtp_user:
        options.update(username=settings.smtp_user, password=settings.smtp_password)
    return options


def retry_delay(attempts: int) -> timedelta:
    """After the n-th failed attempt: 30 s, 60 s, 120 s, … at most an hour."""
    if attempts <= 0:
        return timedelta(0)
    return min(FIRST_RETRY * (1 << min(attempts - 1, 16)), MAX_RETRY)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A claimed outbox row, detached from its session."""

    id: int
    to_addr: str
    subject: str
    body: str
    case_id: str | None
    created_on: datetime
    attempts: int


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1] if "@" in address else "veil.localhost"


def compose(mail: Outgoing, *, mail_from: str, from_name: str, now: datetime) -> EmailMessage:
    """The RFC 5322 message for one outbox row (the Message-ID is stable across retries)."""
    message = EmailMessage()
    message["From"] = formataddr((from_name, mail_from)) if from_name else mail_from
    message["To"] = mail.to_addr
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(now)
    stamp = int(mail.created_on.timestamp() * 1_000_000)
    message["Message-ID"] = f"<outbox.{mail.id}.{stamp}@{_domain(mail_from)}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834 §5: do not answer automatically
    if mail.case_id:
        message["X-Veil-Case"] = mail.case_id
    message.set_content(mail.body, charset="utf-8")
    return message


def claim(*, session: Session, now: datetime, limit: int = BATCH) -> list[Outgoing]:
    """Take the due rows and lease them (see the module doc, step 1); the caller commits."""
    statement = (
        select(MailOutbox)
        .where(MailOutbox.sent_on.is_(None), MailOutbox.next_attempt_on <= now)
        .order_by(MailOutbox.next_attempt_on, MailOutbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.scalars(statement).all()
    for row in rows:
        row.next_attempt_on = now + LEASE
    return [
        Outgoing(
            id=r.id,
            to_addr=r.to_addr,
            subject=r.subject,
            body=r.body,
            case_id=r.case_id,
            created_on=r.created_on,
            attempts=r.attempts,
        )
        for r in rows
    ]


def record(*, session: Session, mail_id: int, now: datetime, error: str | None) -> None:
    """Step 3: sent, or failed with the backoff; the caller commits."""
    row = session.get(MailOutbox, mail_id)
    if row is None:
        return
    if error is None:
        row.sent_on = now
        row.last_error = None
        return
    row.attempts += 1
    row.last_error = error[:2000]
    row.next_attempt_on = now + retry_delay(row.attempts)


class Mailer:
    """Sends the outbox through `settings.smtp`; `run()` until cancelled."""

    def __init__(
        self,
        *,
        db: Database,
        settings: AbuseSettings,
        clock: Clock,
        poll: float = 0.5,
        timeout: float = SMTP_TIMEOUT,
    ) -> None:
        if settings.smtp is None:
            raise ValueError("the mailer needs an SMTP relay (--smtp HOST:PORT)")
        self._db = db
        self._relay = settings.smtp
        self._settings = settings
        self._from = settings.mail_from
        self._from_name = f"{settings.operator_name} abuse desk" if settings.operator_name else ""
        self._clock = clock
        self._poll = poll
        self._timeout = timeout
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.now(), UTC)

    def wake(self) -> None:
        """Send now rather than at the next poll (safe from any thread)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        """Send what is due, then wait for the poll interval or a wake; until cancelled."""
        self._loop = asyncio.get_running_loop()
        with _wake_on_queue(self._db, self.wake):
            while True:
                self._wake.clear()
                try:
                    await self.send_due()
                except Exception:  # the loop outlives any one bad round
                    log.exception("mailer round failed")
                _raise_if_cancelled()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll):
                        await self._wake.wait()

    async def send_due(self) -> int:
        """One round: claim, send, record. Returns how many were sent."""
        sent = 0
        while True:
            batch = await asyncio.to_thread(self._claim)
            if not batch:
                return sent
            results = await self._send_batch(batch)
            await asyncio.to_thread(self._record, results)
            sent += sum(1 for _, error in results if error is None)
            if len(batch) < BATCH:
                return sent

    def _claim(self) -> list[Outgoing]:
        with self._db.write() as session:
            batch = claim(session=session, now=self._now())
            session.commit()
        return batch

    def _record(self, results: Sequence[tuple[int, str | None]]) -> None:
        with self._db.write() as session:
            now = self._now()
            for mail_id, error in results:
                record(session=session, mail_id=mail_id, now=now, error=error)
            session.commit()

    async def _send_batch(self, batch: Sequence[Outgoing]) -> list[tuple[int, str | None]]:
        host, port = self._relay
        client = aiosmtplib.SMTP(
            hostname=host,
            port=port,
            timeout=self._timeout,
            local_hostname=_domain(self._from),
            **relay_options(self._settings),
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            reason = f"relay {host}:{port} unreachable: {exc}"
            log.warning("%s", reason)
            return [(mail.id, reason) for mail in batch]
        results: list[tuple[int, str | None]] = []
        try:
            for mail in batch:
                if not client.is_connected:
                    break  # the rest: "connection lost", tried again later
                results.append((mail.id, await self._send_one(client, mail)))
            await _quit(client)
        except BaseException:  # cancelled (shutdown): drop the connection, do not QUIT
            client.close()
            raise
        done = {mail_id for mail_id, _ in results}
        results += [(m.id, "the relay connection was lost") for m in batch if m.id not in done]
        return results

    async def _send_one(self, client: aiosmtplib.SMTP, mail: Outgoing) -> str | None:
        message = compose(mail, mail_from=self._from, from_name=self._from_name, now=self._now())
        try:
            refused, _ = await client.send_message(message)
        except Exception as exc:  # refused, disconnected, unencodable: this letter's error
            return f"{type(exc).__name__}: {exc}"
        if refused:
            return "; ".join(f"{to}: {code} {text}" for to, (code, text) in refused.items())
        return None


def _raise_if_cancelled() -> None:
    """Re-raise a cancellation a library swallowed (3.11's `wait_for`, which aiosmtplib uses,
    can return a result instead of raising when the cancel and the result coincide)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def _quit(client: aiosmtplib.SMTP) -> None:
    if not client.is_connected:
        return
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()


class _WakeOnQueue:
    """A session event: after a commit that inserted outbox rows, call `wake`."""

    def __init__(self, db: Database, wake: Any) -> None:
        self._db = db
        self._wake = wake

    def after_flush(self, session: Session, context: Any) -> None:
        if any(isinstance(obj, MailOutbox) for obj in session.new):
            session.info[_QUEUED_KEY] = True

    def after_commit(self, session: Session) -> None:
        if session.info.pop(_QUEUED_KEY, False):
            self._wake()

    def after_rollback(self, session: Session) -> None:
        session.info.pop(_QUEUED_KEY, None)

    def __enter__(self) -> _WakeOnQueue:
        for name in ("after_flush", "after_commit", "after_rollback"):
            event.listen(self._db.write, name, getattr(self, name))
        return self

    def __exit__(self, *exc: object) -> None:
        for name in ("after_flush", "after_commit", "after_rollback"):
            event.remove(self._db.write, name, getattr(self, name))


def _wake_on_queue(db: Database, wake: Any) -> _WakeOnQueue:
    return _WakeOnQueue(db, wake)
