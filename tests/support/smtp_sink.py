"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what arrives: the test relay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        """The decoded text/plain body, with the wire's CRLF as \\n."""
        body = self.message.get_body(("plain",))
        assert body is not None
        content: str = body.get_content()  # type: ignore[attr-defined]
        return content.replace("\r\n", "\n")


@dataclass
class Sink:
    """What arrived, in order; `refuse` names recipients answered 550 at RCPT."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from or "", list(envelope.rcpt_tos), message))
        self._changed.set()
        return "250 OK"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]

    async def wait_for(
        self, done: Callable[[list[Received]], bool], *, within: float = 10.0
    ) -> list[Received]:
        """Wait (bounded) until `done(received)` holds; returns what arrived."""
        async with asyncio.timeout(within):
            while not done(self.received):
                self._changed.clear()
                await self._changed.wait()
        return self.received


@asynccontextmanager
async def smtp_sink(
    port: int = 0, smtp_options: dict[str, Any] | None = None, **kwargs: Any
) -> AsyncIterator[Sink]:
    """Serve a `Sink` on 127.0.0.1:`port` (0: any free port) for the block; `smtp_options`
    go to aiosmtpd's SMTP (e.g. an authenticator)."""
    sink = Sink(**kwargs)
    loop = asyncio.get_running_loop()
    connections: list[SMTP] = []

    def serve() -> SMTP:
        connections.append(SMTP(sink, hostname="sink.test", loop=loop, **(smtp_options or {})))
        return connections[-1]

    server = await loop.create_server(serve, "127.0.0.1", port)
    sink.port = int(server.sockets[0].getsockname()[1])
    try:
        yield sink
    finally:
        server.close()
        for smtp in connections:
            if smtp.transport is not None:
                smtp.transport.abort()  # type: ignore[attr-defined]
        await server.wait_closed()
