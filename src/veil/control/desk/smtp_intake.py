"""The SMTP intake: notices mailed to abuse@ become cases (`veil up --abuse-smtp-listen`).

Theory of operation. An aiosmtpd server on the control process's loop accepts mail for any
recipient (it relays nothing). At the end of DATA, the message is read by the pure
`veil.abuse.email_notice.parse_email` and taken in a worker thread (the store is synchronous),
in one write transaction:

- a reply whose subject carries "[case ID]" from that case's reporter completes a case that
  awaits the reporter (§512(c)(3)(B)(ii), `repair_notice`), or is added to the case; from the
  account's contact it is added to the case as the customer's message;
- anything else is a new notice, filed with `file_notice(channel="email")`.

The sender gets exactly one answer: the receipts `file_notice` queued for this message are
folded into one letter (the case ids, the status links, the hosting provider, what is still
missing) that also says what was read from the mail and how to complete it by reply. Mail that
must not be answered automatically — RFC 3834 §2 auto-submitted or bulk mail, bounces (null
reverse-path, RFC 5321 §4.5.5) — is filed without an answer; bounces and the desk's own mail
are not filed at all, so no mail loop can start.

SMTP answers (RFC 5321 §4.2, RFC 3463 enhanced codes): 250 with the case id; 552 above
`MAX_MESSAGE` (also announced by SIZE, RFC 1870); 550 for a message without readable text;
451 when the store fails (the sender's server tries again). Nothing a sender sends can crash
the server: every failure is a reply code.
"""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from collections.abc import Sequence
from typing import Any, AnyStr

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from veil.abuse.email_notice import EmailNotice, email_answer, parse_email
from veil.abuse.notices import Notice
from veil.control.desk.intake import file_notice, repair_notice
from veil.control.desk.receipts import Receipt
from veil.control.desk.reputation import Throttled
from veil.control.desk.workflow import case_account, note_message
from veil.control.state import ControlState
from veil.control.store.models import AbuseCase, MailOutbox

log = logging.getLogger("veil.desk.smtp")

MAX_MESSAGE = 1024 * 1024  # 1 MiB: a notice is text; attachments are not read
IDLE_TIMEOUT = 60.0
_CASE_TAG = re.compile(r"\[case ([0-9a-f]{32})\]")
_REPAIR_SKIP = frozenset({"act", "urls", "email", "justification", "comments"})
TOO_BIG = (
    f"552 5.3.4 Message too big: notices are taken up to {MAX_MESSAGE // 1024} KiB; "
    "send the notice as text without attachments"
)


class _IntakeSMTP(SMTP):
    """aiosmtpd's server with a politer refusal of oversized mail."""

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str) and status.startswith("552 "):
            await super().push(TOO_BIG)
        else:
            await super().push(status)


class IntakeHandler:
    """aiosmtpd's handler: DATA -> a case (or a reply on one), answered with an SMTP code."""

    def __init__(self, state: ControlState) -> None:
        self._state = state

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if (envelope.mail_from or "").strip() in {"", "<>"}:  # RFC 5321 §4.5.5: a bounce
            return "250 2.0.0 Delivery report received; not a notice"
        try:
            read = parse_email(raw, envelope_from=envelope.mail_from or "")
        except Exception:
            log.info("unparseable message from %s", session.peer, exc_info=True)
            return "550 5.6.0 This message could not be read as e-mail (RFC 5322)"
        if not read.text.strip() and not read.fields["urls"]:
            return (
                "550 5.6.0 No notice found: write the notice (the addresses of the material "
                "and your statements) in the message as text; attachments are not read"
            )
        try:
            outcome = await asyncio.to_thread(take_mail, self._state, read)
        except Throttled as exc:  # repeatedly invalid notices: refuse, do not ask for a retry
            return f"550 5.7.1 {str(exc)[:400]}"
        except Exception:
            log.exception("filing an e-mailed notice failed")
            return "451 4.3.0 The notice could not be stored now; please send it again later"
        return f"250 2.0.0 {outcome}"


def take_mail(state: ControlState, read: EmailNotice) -> str:
    """File or apply one read message (one write transaction); the SMTP reply text."""
    sender = read.sender.strip().lower()
    if not sender:
        return "No sender address; not filed"
    if sender == state.settings.abuse.mail_from.strip().lower():
        return "Our own message; not filed"
    with state.db.write() as session:
        first_mail = session.scalar(select(func.max(MailOutbox.id))) or 0
        case = _replied_case(session, read)
        if case is not None and case.reporter_email == sender:
            outcome, receipts = _reporter_reply(session, state, case, read)
        elif case is not None and _is_customer(session, case, sender):
            outcome, receipts = _customer_reply(session, state, case, read), []
        else:
            receipts = _file(session, state, read)
            outcome = "Filed as " + ", ".join(f"case {r.case_id}" for r in receipts)
        _one_answer(session, read, receipts, after=first_mail)
        session.commit()
    return outcome


def _replied_case(session: DbSession, read: EmailNotice) -> AbuseCase | None:
    match = _CASE_TAG.search(read.subject)
    return None if match is None else session.get(AbuseCase, match.group(1))


def _is_customer(session: DbSession, case: AbuseCase, sender: str) -> bool:
    account = case_account(session, case)
    return account is not None and account.contact_email.strip().lower() == sender


def _file(session: DbSession, state: ControlState, read: EmailNotice) -> list[Receipt]:
    notice = Notice.from_fields(read.fields)
    return file_notice(
        session=session, desk=state.desk, notice=notice, channel="email", now=state.now()
    )


def _reporter_reply(
    session: DbSession, state: ControlState, case: AbuseCase, read: EmailNotice
) -> tuple[str, list[Receipt]]:
    """The reporter answers: complete the case when it awaits them, else note the message."""
    now = state.now()
    note_message(
        session=session,
        case_id=case.id,
        party="reporter",
        direction="in",
        kind="email",
        body=read.text,
        at=now,
    )
    if case.state != "incomplete_awaiting_reporter":
        return f"Added to case {case.id}", []
    given = {k: v for k, v in read.fields.items() if k not in _REPAIR_SKIP and v not in ("", False)}
    receipt = repair_notice(session=session, desk=state.desk, case=case, fields=given, now=now)
    return f"Case {case.id} updated", [receipt]


def _customer_reply(
    session: DbSession, state: ControlState, case: AbuseCase, read: EmailNotice
) -> str:
    note_message(
        session=session,
        case_id=case.id,
        party="customer",
        direction="in",
        kind="email",
        body=read.text,
        at=state.now(),
    )
    return f"Added to case {case.id}"


def _one_answer(
    session: DbSession, read: EmailNotice, receipts: Sequence[Receipt], *, after: int
) -> None:
    """Fold the receipts queued for this message into one letter (or none, RFC 3834 §2)."""
    ids = [r.case_id for r in receipts]
    if not ids:
        return
    rows = session.scalars(
        select(MailOutbox)
        .where(
            MailOutbox.id > after,
            MailOutbox.case_id.in_(ids),
            MailOutbox.kind == "receipt",
            MailOutbox.party == "reporter",
        )
        .order_by(MailOutbox.id)
    ).all()
    if not rows:
        return
    keep, extra = (None, rows) if read.automatic else (rows[0], rows[1:])
    for row in extra:
        session.delete(row)
    if keep is not None:
        repair = next(
            (r.case_id for r in receipts if r.state == "incomplete_awaiting_reporter"), None
        )
        letter = email_answer(letters=[r.letter for r in receipts], read=read, repair_case=repair)
        keep.subject, keep.body = letter.subject, letter.body


class IntakeError(RuntimeError):
    """The intake cannot start (e.g. its address is in use); the message is one line."""


class SmtpIntake:
    """The listening server; `start()` binds (errors surface at once), `stop()` closes."""

    def __init__(self, state: ControlState, *, max_size: int = MAX_MESSAGE) -> None:
        if state.settings.abuse.smtp_listen is None:
            raise ValueError("the SMTP intake needs --abuse-smtp-listen HOST:PORT")
        self._state = state
        self._listen = state.settings.abuse.smtp_listen
        self._max_size = max_size
        self._handler = IntakeHandler(state)
        self._hostname = state.settings.abuse.mail_from.rsplit("@", 1)[-1] or "veil.localhost"
        self._server: asyncio.Server | None = None
        self._connections: weakref.WeakSet[SMTP] = weakref.WeakSet()

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens (the real port when 0 was asked for)."""
        if self._server is None:
            raise RuntimeError("the SMTP intake is not started")
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    def _protocol(self) -> SMTP:
        smtp = _IntakeSMTP(
            self._handler,
            data_size_limit=self._max_size,
            hostname=self._hostname,
            ident="Veil abuse desk",
            timeout=IDLE_TIMEOUT,
            loop=asyncio.get_running_loop(),
        )
        self._connections.add(smtp)
        return smtp

    async def start(self) -> None:
        host, port = self._listen
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(self._protocol, host, port)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise IntakeError(f"cannot listen on {host}:{port} for abuse mail: {reason}") from None

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for smtp in list(self._connections):
            transport: Any = smtp.transport
            if transport is not None:
                transport.close()
        await self._server.wait_closed()
        self._server = None
