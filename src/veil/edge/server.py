"""The visitor-facing connection: the edge's only socket code for HTTP/1.1 clients.

Theory of operation
-------------------
`ClientConnection` is an `asyncio.Protocol` fed by uvloop. Bytes go to a strict
`httptools.HttpRequestParser` (no lenient flags, ever). Its callbacks collect the head under
size limits (target > 8 KiB -> 414, fields > 32 KiB -> 431), then `veil.http.framing` decides
what llhttp lets through but an edge must refuse (HTTP/0.9, HTTP/2.0 request lines, Host
missing/duplicated/with userinfo, Transfer-Encoding on HTTP/1.0, absolute-form host mismatch).
A refused head is answered 4xx in order and the connection closes.

Each accepted head becomes an `Exchange` (exchange.py). One exchange is active at a time;
pipelined ones wait in `queue`. Reading pauses for three independent reasons (bit flags):
the origin's send buffer is full, a body is waiting for an origin connection, or too much is
queued. Deadlines (head, idle keep-alive, body, origin read) are one float per connection,
enforced by the worker's sweeper, so the hot path sets no timers.
"""

from __future__ import annotations

import asyncio
import collections
import socket
from typing import TYPE_CHECKING, Final, cast

import httptools

from veil.edge.exchange import Exchange
from veil.edge.phases import Phase
from veil.edge.rewrite import scan_request
from veil.edge.upstream import UpstreamConnection
from veil.http.framing import Rejection, check_request_head
from veil.http.headers import Header

if TYPE_CHECKING:
    from veil.edge.context import EdgeContext

QUEUE_LIMIT: Final = 16  # pipelined requests buffered before reading pauses

# Deadline kinds
IDLE: Final = 0
HEAD: Final = 1
BODY: Final = 2
UPSTREAM: Final = 3
WRITE: Final = 4


class _Refused(Exception):
    """Raised inside a parser callback to stop parsing a refused request."""


class ClientConnection(asyncio.Protocol):
    PAUSE_UPSTREAM_FULL: Final = 1
    PAUSE_CONNECTING: Final = 2
    PAUSE_QUEUE: Final = 4
    PAUSE_DONE: Final = 8

    __slots__ = (
        "active",
        "client_ip",
        "closing",
        "ctx",
        "deadline",
        "deadline_kind",
        "eof",
        "gone",
        "head_bytes",
        "header_bytes",
        "headers",
        "heads_done",
        "in_head",
        "parser",
        "parsing",
        "paused",
        "queue",
        "refusal",
        "tasks",
        "transport",
        "tunnel_peer",
        "url",
        "write_blocked",
    )

    def __init__(self, ctx: EdgeContext) -> None:
        self.ctx = ctx
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.client_ip = ""
        self.url = b""
        self.headers: list[Header] = []
        self.header_bytes = 0
        self.head_bytes = 0
        self.heads_done = 0  # heads completed on this connection
        self.in_head = False
        self.parsing: Exchange | None = None
        self.active: Exchange | None = None
        self.queue: collections.deque[Exchange] = collections.deque()
        self.paused = 0
        self.closing = False
        self.gone = False
        self.eof = False  # the visitor half-closed: close once its requests are answered
        self.refusal: Rejection | None = None
        self.deadline = 0.0
        self.deadline_kind = IDLE
        self.tasks: set[asyncio.Task[None]] = set()
        self.tunnel_peer: UpstreamConnection | None = None
        self.write_blocked = False  # the transport asked us to stop writing (pause_writing)

    # -- transport events --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        peer = self.transport.get_extra_info("peername")
        self.client_ip = peer[0] if isinstance(peer, tuple) else "unix"
        sock = self.transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        ctx = self.ctx
        ctx.connections.add(self)
        ctx.metrics.connections_total += 1
        ctx.metrics.connections_open += 1
        self._set_deadline(HEAD, ctx.settings.header_timeout)

    def data_received(self, data: bytes) -> None:
        peer = self.tunnel_peer
        if peer is not None:
            if peer.transport is not None:
                peer.transport.write(data)
            return
        if self.paused & self.PAUSE_DONE:
            return  # after a refusal or `Connection: close`, further bytes are dropped
        if self.parsing is None and not self.in_head and self.deadline_kind == IDLE:
            self._set_deadline(HEAD, self.ctx.settings.header_timeout)
        heads_before = self.heads_done
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            self._on_client_upgrade(data[upgrade.args[0] :])
        except httptools.HttpParserError as exc:
            if self.refusal is not None:
                return self.refuse(self.refusal)
            last = self.parsing or (self.queue[-1] if self.queue else self.active)
            if last is not None and not last.keep_alive and self.parsing is None:
                self._stop_reading()  # data after `Connection: close` is dropped (RFC 9112 §9.6)
                return
            self.refuse(Rejection(400, f"malformed request: {exc}"))
            return
        if self.in_head:
            self._guard_partial_head(len(data), heads_before)

    def _guard_partial_head(self, size: int, heads_before: int) -> None:
        """Bound a head that never ends: llhttp buffers a partial field internally, so count
        the reads that completed no head (exact limits are checked per field in on_header)."""
        self.head_bytes = self.head_bytes + size if self.heads_done == heads_before else 0
        settings = self.ctx.settings
        if self.head_bytes > settings.max_header_bytes + settings.max_target_bytes + 4096:
            too_long_target = len(self.url) > settings.max_target_bytes
            self.refuse(
                Rejection(414, "the request target is too long")
                if too_long_target
                else Rejection(431, "the request header fields are too large")
            )

    def eof_received(self) -> bool | None:
        """The visitor sent FIN. Requests already read are still answered (it may be
        half-closed, reading), then the connection closes; with nothing to answer it closes
        now."""
        self.eof = True
        return self.active is not None and self.parsing is None

    def connection_lost(self, exc: Exception | None) -> None:
        self.gone = True
        ctx = self.ctx
        ctx.connections.discard(self)
        ctx.metrics.connections_open -= 1
        if ctx.draining and not ctx.connections:
            ctx.drained.set()
        if self.active is not None:
            self.active.abandon()
            self.active = None
        for ex in self.queue:
            ex.abandon()
        self.queue.clear()
        peer = self.tunnel_peer
        if peer is not None:
            self.tunnel_peer = None
            peer.close()
        for task in list(self.tasks):
            task.cancel()

    def pause_writing(self) -> None:
        self.write_blocked = True
        peer = self.tunnel_peer or (self.active.upstream if self.active else None)
        if peer is not None and peer.transport is not None:
            peer.transport.pause_reading()

    def resume_writing(self) -> None:
        self.write_blocked = False
        if self.active is not None and self.active.sending is not None:
            self.active.pump()
            return
        peer = self.tunnel_peer or (self.active.upstream if self.active else None)
        if peer is not None and peer.transport is not None:
            peer.transport.resume_reading()

    # -- parser callbacks ----------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = []
        self.header_bytes = 0
        self.in_head = True

    def on_url(self, url: bytes) -> None:
        self.url += url
        if len(self.url) > self.ctx.settings.max_target_bytes:
            self.refusal = Rejection(414, "the request target is too long")
            raise _Refused

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.in_head:
            if self.parsing is not None:
                self.parsing.on_request_trailer(name, value)
            return
        self.headers.append((name, value))
        self.header_bytes += len(name) + len(value) + 4
        if self.header_bytes > self.ctx.settings.max_header_bytes:
            self.refusal = Rejection(431, "the request header fields are too large")
            raise _Refused

    def on_headers_complete(self) -> None:
        self.in_head = False
        self.head_bytes = 0
        self.heads_done += 1
        parser = self.parser
        version = parser.get_http_version()
        scan = scan_request(self.headers)
        checked = check_request_head(
            version=version,
            hosts=scan.hosts,
            target=self.url,
            has_transfer_encoding=scan.transfer_encoding,
        )
        if isinstance(checked, Rejection):
            self.refusal = checked
            raise _Refused
        host, _port, target = checked
        exchange = Exchange(
            self,
            method=parser.get_method(),
            target=target,
            host=host,
            headers=self.headers,
            scan=scan,
            version=version,
            keep_alive=parser.should_keep_alive(),
        )
        self.parsing = exchange
        if self.active is None:
            self.active = exchange
            self._set_deadline(BODY, self.ctx.settings.body_idle_timeout)
            exchange.start()
        else:
            self.queue.append(exchange)
            if len(self.queue) >= QUEUE_LIMIT:
                self.set_read_paused(self.PAUSE_QUEUE, True)

    def on_body(self, data: bytes) -> None:
        exchange = self.parsing
        if exchange is not None:
            if exchange is self.active and self.deadline_kind == BODY:
                self.deadline = self.ctx.loop.time() + self.ctx.settings.body_idle_timeout
            exchange.on_request_body(data)

    def on_message_complete(self) -> None:
        exchange = self.parsing
        self.parsing = None
        if exchange is not None:
            if exchange is self.active and self.deadline_kind == BODY:
                self.deadline_kind = WRITE
                self.deadline = 0.0
            exchange.on_request_complete()
            if not exchange.keep_alive:
                self._stop_reading()

    # -- called by exchanges -------------------------------------------------------------

    def write(self, data: bytes) -> None:
        transport = self.transport
        if transport is not None and not self.gone:
            transport.write(data)

    def abort(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.abort()

    def set_read_paused(self, reason: int, on: bool) -> None:
        before = self.paused
        self.paused = before | reason if on else before & ~reason
        transport = self.transport
        if transport is None or self.gone or (before == 0) == (self.paused == 0):
            return
        if self.paused:
            transport.pause_reading()
        else:
            transport.resume_reading()

    def arm_upstream_deadline(self, seconds: float) -> None:
        self._set_deadline(UPSTREAM, seconds)

    def arm_send_deadline(self) -> None:
        """A stored body is being sent: the visitor must keep taking it (slow-read guard)."""
        self._set_deadline(WRITE, self.ctx.settings.send_timeout)

    def exchange_done(self, exchange: Exchange) -> None:
        """The exchange's response is fully written: log it, then start the next one."""
        exchange.advance(Phase.DONE)
        ctx = self.ctx
        ctx.metrics.count_response(exchange.status, exchange.sent)
        if ctx.access_log is not None:
            duration, origin_time = exchange.elapsed()
            route = exchange.route
            ctx.access_log.record(
                ray=exchange.ray,
                zone=route.zone.name if route else None,
                client_ip=self.client_ip,
                method=exchange.method,
                host=exchange.host,
                path=exchange.target,
                status=exchange.status,
                sent=exchange.sent,
                duration=duration,
                origin_time=origin_time,
                cache=exchange.cache_log,
            )
        if self.active is not exchange:
            return
        self.active = None
        unread_body = self.parsing is exchange and exchange.has_body
        if not exchange.keep_alive or exchange.close_after or self.closing or unread_body:
            self._close()
            return
        if self.queue:
            nxt = self.queue.popleft()
            self.active = nxt
            self.set_read_paused(self.PAUSE_QUEUE, False)
            nxt.start()
            return
        if ctx.draining or self.eof:
            self._close()
            return
        if self.in_head:  # the next request's head is partly here: it gets the head timeout
            self._set_deadline(HEAD, ctx.settings.header_timeout)
        else:
            self._set_deadline(IDLE, ctx.settings.keepalive_timeout)

    def start_tunnel(self, exchange: Exchange, conn: UpstreamConnection, rest: bytes) -> None:
        """Splice the visitor and the origin after a 101 (WebSocket)."""
        self.ctx.metrics.count_response(101, exchange.sent)
        self.active = None
        self.deadline = 0.0
        self.tunnel_peer = conn
        conn.client = _TunnelEnd(self)
        if rest:
            self.write(rest)
        self.set_read_paused(self.PAUSE_CONNECTING, False)

    # -- refusals, timeouts, draining ------------------------------------------------------

    def refuse(self, rejection: Rejection) -> None:
        """Answer a refused request (in order after any in-flight one) and close."""
        metrics = self.ctx.metrics
        metrics.rejected[rejection.status] = metrics.rejected.get(rejection.status, 0) + 1
        self._stop_reading()
        self.refusal = None
        title = "Bad request" if rejection.status == 400 else "Request refused"
        broken = self.parsing
        self.parsing = None
        if broken is not None and broken is self.active:
            # The request being answered broke mid-body: answer it with the refusal.
            if broken.head_sent or broken.phase in (Phase.SYNTH, Phase.DONE):
                return self.abort()
            broken.drop_upstream()
            broken.close_after = True
            return broken.synth_status(rejection.status, title, rejection.reason)
        if broken is not None and broken in self.queue:
            self.queue.remove(broken)
        exchange = Exchange(
            self,
            method=b"GET",
            target=self.url[:256] or b"/",
            host="",
            headers=[],
            scan=scan_request(self.headers),
            version="1.1",
            keep_alive=False,
        )
        exchange.request_complete = True
        exchange.close_after = True
        exchange.refusal = (rejection.status, title, rejection.reason)
        if self.active is None:
            self.active = exchange
            exchange.start()
        else:
            self.queue.append(exchange)

    def on_deadline(self) -> None:
        kind = self.deadline_kind
        self.deadline = 0.0
        active = self.active
        if kind == UPSTREAM and active is not None and active.upstream is not None:
            active.on_upstream_timeout()
        elif kind == HEAD and (self.in_head or self.head_bytes):
            self.refuse(Rejection(408, "the request head did not arrive in time"))
        elif kind == BODY and active is not None and active is self.parsing:
            self.refuse(Rejection(408, "the request body did not arrive in time"))
        elif active is None and self.parsing is None:
            self._close()  # idle keep-alive, or a connection that never sent a byte
        elif kind != UPSTREAM:
            self.abort()

    def drain(self) -> None:
        """SIGTERM: idle connections close now; busy ones close after their response."""
        self.closing = True
        if self.active is None and self.parsing is None and self.tunnel_peer is None:
            self._close()

    # -- helpers ------------------------------------------------------------------------

    def _set_deadline(self, kind: int, seconds: float) -> None:
        self.deadline_kind = kind
        self.deadline = self.ctx.loop.time() + seconds

    def _stop_reading(self) -> None:
        self.set_read_paused(self.PAUSE_DONE, True)

    def _close(self) -> None:
        self.closing = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def _on_client_upgrade(self, rest: bytes) -> None:
        exchange = self.active
        if exchange is not None and exchange.websocket and exchange is not self.parsing:
            # Until the origin answers 101, later visitor bytes wait in the kernel; after a
            # refusal the connection closes, as the parser can no longer frame requests.
            if rest:
                exchange.pending_body.append(rest)
            exchange.close_after = True
            self.set_read_paused(self.PAUSE_CONNECTING, True)
            return
        # Not a WebSocket handshake (h2c and friends): the Upgrade is ignored (RFC 9110 §7.8)
        # — unless it carried a body, which llhttp has not framed.
        last = self.queue[-1] if self.queue else exchange  # the request just parsed
        if last is not None and (last.scan.content_length or last.scan.transfer_encoding):
            return self.refuse(Rejection(400, "an Upgrade request must not carry a body"))
        if last is not None:
            last.scan.upgrade = None
        self.parser = httptools.HttpRequestParser(self)
        if rest:
            self.data_received(rest)


class BackgroundClient(ClientConnection):
    """A connection without a visitor: it carries one background refresh of a stored
    response (stale-while-revalidate, RFC 5861 §3). Writes go nowhere; the worker's sweeper
    enforces its origin deadline like any connection's."""

    def __init__(self, ctx: EdgeContext, client_ip: str) -> None:
        super().__init__(ctx)
        self.client_ip = client_ip
        ctx.connections.add(self)

    def exchange_done(self, exchange: Exchange) -> None:
        super().exchange_done(exchange)
        self.gone = True
        self.ctx.connections.discard(self)

    def drain(self) -> None:
        return None  # the refresh finishes or times out on its own


def start_refresh(visitor: Exchange) -> None:
    """Refresh `visitor`'s stored response in the background (it was just served stale)."""
    client = BackgroundClient(visitor.client.ctx, visitor.client.client_ip)
    refresh = Exchange(
        client,
        method=b"GET",
        target=visitor.target,
        host=visitor.host,
        headers=visitor.request_headers,
        scan=visitor.scan,
        version="1.1",
        keep_alive=False,
    )
    refresh.background = True
    refresh.request_complete = True
    client.active = refresh
    refresh.start()


class _TunnelEnd:
    """Receives an origin's bytes after a 101 and relays them to the visitor."""

    __slots__ = ("client",)

    def __init__(self, client: ClientConnection) -> None:
        self.client = client

    def on_upstream_data(self, conn: UpstreamConnection, data: bytes) -> None:
        self.client.write(data)

    def on_upstream_lost(self, conn: UpstreamConnection, exc: Exception | None) -> None:
        self.client.tunnel_peer = None
        self.client._close()

    def on_upstream_pause_writing(self) -> None:
        self.client.set_read_paused(ClientConnection.PAUSE_UPSTREAM_FULL, True)

    def on_upstream_resume_writing(self) -> None:
        self.client.set_read_paused(ClientConnection.PAUSE_UPSTREAM_FULL, False)
