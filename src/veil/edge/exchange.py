"""One request/response exchange between a visitor and an origin.

Theory of operation
-------------------
`ClientConnection` (server.py) parses the visitor's bytes and creates one `Exchange` per
request head. Exchanges run strictly one at a time per connection (pipelined requests queue,
their bodies buffered within a bound), so responses leave in request order.

An exchange walks the phases of `veil.edge.phases`: ROUTE (Host -> snapshot route), PROTECT,
PASS, FETCH (an upstream connection: pooled without awaiting, or opened by a task), DELIVER
(the origin's response streamed to the visitor), or SYNTH (the edge answers itself), then DONE.

The exchange is the callback target of a fresh `httptools.HttpResponseParser` for its
upstream connection, so origin bytes go parser -> exchange -> visitor transport. Output for the
visitor is collected in `out` and written once per upstream read. Backpressure is symmetric:
a full visitor buffer pauses reading the origin; a full origin buffer pauses reading the
visitor (server.py).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final

import httptools

from veil.cache.meta import StoredMeta
from veil.cache.policy import RequestDecision
from veil.cache.reasons import Forward
from veil.edge import caching, errors
from veil.edge.cache import READ_CHUNK, CachedObject, Fill, TeeWriter
from veil.edge.errors import ErrorKind, status_line
from veil.edge.phases import ALLOWED, Phase, check_transition
from veil.edge.rewrite import (
    MAX_CDN_LOOP,
    RequestScan,
    client_response_head,
    upstream_request_head,
)
from veil.edge.sendfile import FileSender
from veil.edge.upstream import PoolKey, UpstreamConnection
from veil.http.chunked import chunk, last_chunk
from veil.http.headers import FORBIDDEN_TRAILERS, Header, wants_json
from veil.netguard import OriginRefused
from veil.snapshot import Route

if TYPE_CHECKING:
    from veil.edge.server import ClientConnection

IDEMPOTENT: Final = frozenset({b"GET", b"HEAD", b"OPTIONS", b"PUT", b"DELETE", b"TRACE"})
CACHEABLE_METHODS: Final = frozenset({b"GET", b"HEAD"})
BYPASS_LINE: Final = b"Cache-Status: veil; fwd=bypass; detail=cache-level-bypass\r\n"
BODYLESS_STATUS: Final = frozenset({204, 304})
PENDING_BODY_LIMIT: Final = 256 * 1024  # buffered request body before the visitor is paused

_STATUS_LINES: Final[dict[tuple[int, bytes], bytes]] = {}
CONNECTION_LINE: Final = {True: b"Connection: keep-alive\r\n", False: b"Connection: close\r\n"}


def _status_line(status: int, reason: bytes) -> bytes:
    """The visitor's status line, keeping the origin's reason phrase; memoised (bounded)."""
    key = (status, reason)
    line = _STATUS_LINES.get(key)
    if line is None:
        line = b"HTTP/1.1 %d %b\r\n" % key if reason else status_line(status)
        if len(_STATUS_LINES) < 1024:
            _STATUS_LINES[key] = line
    return line


class Exchange:
    """A request's life at the edge. See the module docstring."""

    __slots__ = (
        "background",
        "body_pos",
        "body_received",
        "cache_key",
        "cache_line",
        "cache_log",
        "chunked_in",
        "chunked_out",
        "client",
        "close_after",
        "decision",
        "epoch",
        "fetch_started",
        "file_sender",
        "fill",
        "fwd",
        "head_sent",
        "hold",
        "host",
        "keep_alive",
        "method",
        "origin_ip",
        "out",
        "pending_body",
        "pending_size",
        "phase",
        "range_fields",
        "range_window",
        "ray",
        "refusal",
        "request_complete",
        "request_headers",
        "request_time",
        "request_trailers",
        "resp_close_delimited",
        "resp_complete",
        "resp_extra",
        "resp_headers",
        "resp_in_trailers",
        "resp_keep_alive",
        "resp_reason",
        "resp_status",
        "resp_trailers",
        "retried",
        "route",
        "scan",
        "send_index",
        "send_pieces",
        "send_pos",
        "sending",
        "sent",
        "serve_after",
        "stale",
        "started",
        "status",
        "store_meta",
        "swallow",
        "target",
        "upstream",
        "version",
        "waiting",
        "websocket",
        "writer",
    )

    def __init__(
        self,
        client: ClientConnection,
        *,
        method: bytes,
        target: bytes,
        host: str,
        headers: list[Header],
        scan: RequestScan,
        version: str,
        keep_alive: bool,
    ) -> None:
        self.client = client
        self.phase = Phase.RECV
        self.method = method
        self.target = target
        self.host = host
        self.request_headers = headers
        self.scan = scan
        self.version = version
        self.keep_alive = keep_alive
        self.websocket = scan.upgrade == b"websocket" and method == b"GET"
        self.ray = client.ctx.next_ray()
        self.started = time.monotonic()
        self.route: Route | None = None
        self.refusal: tuple[int, str, str] | None = None  # set for a refused head
        self.upstream: UpstreamConnection | None = None
        self.fetch_started = 0.0
        self.chunked_in = scan.transfer_encoding
        self.chunked_out = False
        self.request_complete = False
        self.request_trailers: list[Header] = []
        self.pending_body: list[bytes] = []
        self.pending_size = 0
        self.body_received = 0
        self.close_after = False
        self.head_sent = False
        self.out: list[bytes] = []
        self.sent = 0
        self.status = 0
        self.retried = False
        self.origin_ip = ""  # the address connected to, for hiding it in Location
        self.resp_status = 0
        self.resp_reason = b""
        self.resp_headers: list[Header] = []
        self.resp_trailers: list[Header] = []
        self.resp_in_trailers = False
        self.resp_complete = False
        self.resp_close_delimited = False
        self.resp_keep_alive = False  # the origin's framing allows reuse (read at message end)
        self.resp_extra = False
        # The cache's state (veil.edge.caching): None / empty when the cache is not involved.
        self.cache_key: bytes | None = None
        self.background = False  # a stale-while-revalidate refresh with no visitor
        self.cache_line = b""  # the Cache-Status field line of the response
        self.cache_log = "none"
        self.decision: RequestDecision | None = None
        self.epoch = 0  # snapshot version at lookup: what purges compare against
        self.request_time = 0.0
        self.fwd = Forward.URI_MISS
        self.stale: CachedObject | None = None  # a stored copy being revalidated
        self.fill: Fill | None = None  # this exchange fetches for the collapsed waiters
        self.waiting = False  # waits on another exchange's fill
        self.writer: TeeWriter | None = None
        self.store_meta: StoredMeta | None = None
        self.serve_after: tuple[CachedObject, int] | None = None
        self.swallow = False  # the origin's body is read and dropped (the edge answers)
        # Several ranges (or an unsatisfiable one) or a conditional that will not proceed,
        # asked on a miss: the origin's whole body fills the store and the visitor is
        # answered from it once stored (caching.serve_held).
        self.hold = False
        # A single range on a miss of known length: [first, stop) of the origin's body goes
        # to the visitor as a 206 while the whole body fills the store (caching).
        self.range_window: tuple[int, int] | None = None
        self.range_fields: tuple[Header, ...] = ()  # Content-Range for that 206
        self.body_pos = 0  # origin body bytes seen so far (for range_window)
        self.sending: CachedObject | None = None  # a stored body being written in pieces
        self.send_pieces: list[bytes | slice] = []
        self.send_index = 0
        self.send_pos = 0
        self.file_sender: FileSender | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def advance(self, target: Phase) -> None:
        """Move to `target`, failing loudly if the lifecycle does not allow it (phases.py)."""
        current: int = self.phase  # as plain ints the check is native arithmetic
        wanted: int = target
        if not (ALLOWED[current] >> wanted) & 1:
            check_transition(self.phase, target)  # raises IllegalTransition with the names
        self.phase = target

    def start(self) -> None:
        """Run ROUTE and PROTECT, then PASS to FETCH (or SYNTH)."""
        if self.refusal is not None:
            return self.synth_status(*self.refusal)
        self.advance(Phase.ROUTE)
        route = self.client.ctx.snapshot.route_for(self.host)
        if route is None:
            return self.synth(errors.UNKNOWN_HOST)
        self.route = route
        # Abuse-desk blocks (docs/abuse.md), before the cache so a blocked URL is never served
        # from it; a zone without any costs this one test of an empty tuple.
        if route.zone.abuse and self.client.ctx.abuse.check(self, route.zone.id):
            return None
        self.advance(Phase.PROTECT)
        if self.scan.cdn_loops > MAX_CDN_LOOP:
            return self.synth(errors.LOOP_DETECTED)
        if max(self.scan.content_length or 0, self.body_received) > route.zone.max_body_bytes:
            return self.synth(errors.BODY_TOO_LARGE)
        cache = self.client.ctx.cache
        if (
            cache is not None
            and route.zone.cache.level != "bypass"
            and self.method in CACHEABLE_METHODS
            and not self.websocket
        ):
            self.advance(Phase.LOOKUP)
            if caching.lookup(self, cache, route):
                return
        else:
            if cache is not None and self.method in CACHEABLE_METHODS:
                self.cache_line = BYPASS_LINE
                self.cache_log = "bypass"
            self.advance(Phase.PASS)
        self.fetch_now()

    def fetch_now(self) -> None:
        """FETCH: to the origin (a MISS, a PASS, or a waiter its fill could not serve)."""
        self.advance(Phase.FETCH)
        if self.scan.expect_continue and not self.request_complete and self.version == "1.1":
            self.client.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # RFC 9110 §10.1.1
        self.fetch_started = time.monotonic()
        self._fetch()

    def _fetch(self) -> None:
        route = self.route
        assert route is not None
        ctx = self.client.ctx
        origin = route.zone.origin
        try:
            targets = ctx.resolver.cached(route.addresses[0], origin.port)
        except OriginRefused:
            return self.synth(errors.ORIGIN_FORBIDDEN)
        if targets is not None and not self.websocket:
            conn = ctx.pool.acquire_idle(self._key(targets[0]))
            if conn is not None:
                return self._send(conn)
        task = ctx.loop.create_task(self._connect())
        self.client.tasks.add(task)
        task.add_done_callback(self.client.tasks.discard)

    def _key(self, target: tuple[str, int]) -> PoolKey:
        route = self.route
        assert route is not None
        origin = route.zone.origin
        server_name = origin.host_header or self.host
        return (target[0], target[1], origin.scheme == "https", server_name)

    async def _connect(self) -> None:
        """Resolve (checked), then connect to the first address that accepts."""
        route = self.route
        assert route is not None
        ctx = self.client.ctx
        origin = route.zone.origin
        failure: ErrorKind = errors.ORIGIN_UNREACHABLE
        for address in route.addresses:
            try:
                targets = await ctx.resolver.resolve(address, origin.port)
            except OriginRefused:
                failure = errors.ORIGIN_FORBIDDEN
                continue
            except OSError:
                continue  # unresolvable: 523 unless another address works
            for target in targets:
                key = self._key(target)
                try:
                    conn = ctx.pool.acquire_idle(key) if not self.websocket else None
                    if conn is None:
                        ctx.metrics.upstream_connects += 1
                        conn = await ctx.pool.connect(
                            key, connect_timeout=origin.connect_timeout, factory=UpstreamConnection
                        )
                except TimeoutError:
                    failure = errors.CONNECT_TIMEOUT
                    continue
                except ConnectionRefusedError:
                    failure = errors.ORIGIN_REFUSED
                    continue
                except OSError:
                    failure = errors.ORIGIN_UNREACHABLE
                    continue
                if self.phase is not Phase.FETCH or self.client.gone:
                    ctx.pool.release(conn)
                    return
                return self._send(conn)
        if self.phase is Phase.FETCH and not self.client.gone:
            self.synth(failure)

    def _send(self, conn: UpstreamConnection) -> None:
        route = self.route
        assert route is not None
        ctx = self.client.ctx
        conn.client = self
        conn.parser = httptools.HttpResponseParser(self)
        conn.requests += 1
        self.upstream = conn
        self.origin_ip = conn.key[0]
        origin = route.zone.origin
        host_out = origin.host_header.encode() if origin.host_header else self.scan.hosts[0]
        head = upstream_request_head(
            method=self.method,
            target=self.target,
            headers=caching.upstream_fields(self)
            if self.fill or self.stale
            else self.request_headers,
            scan=self.scan,
            host_out=host_out,
            client_ip=self.client.client_ip,
            proto="http",
            ray=self.ray,
            chunked_body=self.chunked_in,
            websocket=self.websocket,
        )
        transport = conn.transport
        assert transport is not None
        if self.pending_body:
            transport.write(head + b"".join(self.pending_body))
            self.pending_body = []
            self.pending_size = 0
            if not self.websocket:
                self.client.set_read_paused(self.client.PAUSE_CONNECTING, False)
        else:
            transport.write(head)
        if self.request_complete:
            self._finish_request_upstream()
            self.client.arm_upstream_deadline(origin.read_timeout)
        ctx.metrics.bytes_in += len(head)

    # -- request body (visitor -> origin) ------------------------------------------------

    def on_request_body(self, data: bytes) -> None:
        self.body_received += len(data)
        route = self.route
        if route is not None and self.body_received > route.zone.max_body_bytes:
            self.close_after = True
            if not self.head_sent and self.phase in (Phase.FETCH, Phase.PASS):
                self.drop_upstream()
                return self.synth(errors.BODY_TOO_LARGE)
            self.client.abort()
            return
        piece = chunk(data) if self.chunked_in else data
        conn = self.upstream
        if conn is not None and conn.transport is not None and not self.resp_complete:
            conn.transport.write(piece)
        elif self.phase in (Phase.RECV, Phase.FETCH, Phase.ROUTE, Phase.PROTECT, Phase.PASS):
            self.pending_body.append(piece)
            self.pending_size += len(piece)
            if self.pending_size > PENDING_BODY_LIMIT:
                self.client.set_read_paused(self.client.PAUSE_CONNECTING, True)

    def on_request_trailer(self, name: bytes, value: bytes) -> None:
        if name.lower() not in FORBIDDEN_TRAILERS:
            self.request_trailers.append((name, value))

    def on_request_complete(self) -> None:
        self.request_complete = True
        conn = self.upstream
        if conn is not None and conn.transport is not None and not self.resp_complete:
            self._finish_request_upstream()
            route = self.route
            assert route is not None
            self.client.arm_upstream_deadline(route.zone.origin.read_timeout)

    def _finish_request_upstream(self) -> None:
        if not self.chunked_in:
            return
        conn = self.upstream
        assert conn is not None and conn.transport is not None
        conn.transport.write(last_chunk(self.request_trailers))

    # -- response (origin -> visitor): httptools callbacks -------------------------------

    def on_upstream_data(self, conn: UpstreamConnection, data: bytes) -> None:
        parser = conn.parser
        assert parser is not None
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            self._on_upstream_upgrade(conn, data[upgrade.args[0] :])
            return
        except httptools.HttpParserError:
            if not self.resp_complete:
                self._upstream_failed(errors.BAD_GATEWAY)
                return
            # Bytes past the end of a complete response (more than its Content-Length): the
            # response stands, the connection is not reused.
            self.resp_extra = True
        if self.out:
            self._flush()
        if self.resp_complete:
            self._response_done()
        elif self.head_sent or self.hold:
            route = self.route
            assert route is not None
            self.client.arm_upstream_deadline(route.zone.origin.read_timeout)

    def on_message_begin(self) -> None:
        if self.resp_complete:
            self.resp_extra = True  # bytes past the response: the connection is unusable

    def on_status(self, reason: bytes) -> None:
        self.resp_reason = reason

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.resp_in_trailers:
            if name.lower() not in FORBIDDEN_TRAILERS:
                self.resp_trailers.append((name, value))
        else:
            self.resp_headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.resp_complete:
            return
        conn = self.upstream
        assert conn is not None and conn.parser is not None
        status = conn.parser.get_status_code()
        if status == 101:
            return  # the parser raises HttpParserUpgrade next: _on_upstream_upgrade takes over
        if 100 <= status < 200:
            self.resp_headers = []  # interim response (100, 103): not forwarded
            return
        self.resp_status = status
        self.resp_in_trailers = True
        if self.cache_key is not None and caching.on_origin_head(self, status):
            self.swallow = True  # the edge answers from its stored copy once this is read
            if self.method == b"HEAD" or status in BODYLESS_STATUS:
                self.resp_keep_alive = conn.parser.should_keep_alive()
                self.resp_complete = True
            return
        if self.hold:
            length = self._response_length()
            self.resp_close_delimited = length is None and not self._response_chunked()
            return
        self.advance(Phase.DELIVER)
        bodyless = self.method == b"HEAD" or status in BODYLESS_STATUS
        framing = b""
        length = self._response_length()
        if bodyless:
            if length is not None and (self.method == b"HEAD" or status == 304):
                framing = b"Content-Length: " + length + b"\r\n"  # describes the GET body
        else:
            if length is not None:
                framing = b"Content-Length: " + length + b"\r\n"
            elif self.version == "1.1":
                framing = b"Transfer-Encoding: chunked\r\n"
                self.chunked_out = True
            else:
                self.close_after = True  # HTTP/1.0 visitor: end of body = end of connection
            self.resp_close_delimited = length is None and not self._response_chunked()
        if self.range_window is not None:  # set only for a 200 GET of known length
            first, stop = self.range_window
            self.resp_headers.extend(self.range_fields)
            self.resp_reason = b"Partial Content"
            status = 206
            framing = b"Content-Length: %d\r\n" % (stop - first)
        self._write_head(status, framing)
        if bodyless:
            self.resp_keep_alive = conn.parser.should_keep_alive()
            self.resp_complete = True

    def on_body(self, data: bytes) -> None:
        if self.resp_complete or self.swallow:
            return
        if self.writer is not None:
            self.writer.write(data)
        if self.hold:
            return
        window = self.range_window
        if window is not None:
            pos = self.body_pos
            self.body_pos = end = pos + len(data)
            if pos < window[1] and end > window[0]:
                self.out.append(data[max(window[0] - pos, 0) : window[1] - pos])
            return
        if self.chunked_out:
            self.out.append(chunk(data))
        else:
            self.out.append(data)

    def on_message_complete(self) -> None:
        if self.resp_complete or not self.resp_in_trailers:
            return
        conn = self.upstream
        # llhttp resets its keep-alive verdict once feed_data returns: read it here.
        self.resp_keep_alive = (
            conn is not None and conn.parser is not None and (conn.parser.should_keep_alive())
        )
        if self.chunked_out:
            self.out.append(last_chunk(self.resp_trailers))
        self.resp_complete = True

    def response_length(self) -> bytes | None:
        return self._response_length()

    def _response_length(self) -> bytes | None:
        for name, value in self.resp_headers:
            if len(name) == 14 and name.lower() == b"content-length":  # len(): skip lower()
                return value
        return None

    def _head_announced_body(self) -> bool:
        """After HEAD we cannot tell whether a careless origin sends the body anyway, so a
        connection whose response announced one is not reused (RFC 9110 §9.3.2)."""
        length = self._response_length()
        return self._response_chunked() or (length is not None and length.strip() != b"0")

    def _response_chunked(self) -> bool:
        """Is the final transfer coding chunked (RFC 9112 §6.3 rule 4: otherwise the body
        ends when the origin closes)?"""
        last = b""
        for n, v in self.resp_headers:
            if len(n) == 17 and n.lower() == b"transfer-encoding":
                last = v
        return last.rsplit(b",", 1)[-1].strip().lower() == b"chunked"

    def _write_head(self, status: int, framing: bytes, upgrade: bytes | None = None) -> None:
        client = self.client
        keep = self.keep_alive and not self.close_after and not client.closing
        keep = keep and not client.ctx.draining
        self.keep_alive = keep
        line = _status_line(status, self.resp_reason)
        self.out.append(
            client_response_head(
                status_line=line,
                headers=self.resp_headers,
                ray=self.ray,
                keep_alive=keep,
                http10_client=self.version == "1.0",
                framing=framing,
                origin_authorities=self.origin_authorities,
                visitor_host=self.scan.hosts[0] if self.scan.hosts else b"",
                upgrade=upgrade,
                extra=self.cache_line,
            )
        )
        self.status = status
        self.head_sent = True

    def write_edge_head(self, head: bytes, framing: bytes, extra: bytes = b"") -> None:
        """Finish and queue a head the edge built itself (a cache hit): `extra` fields, then
        Server, Veil-Ray, framing and connection management, as `client_response_head` adds
        them. One join: a chain of `+` copied the growing head once per part."""
        client = self.client
        keep = self.keep_alive and not self.close_after and not client.closing
        keep = keep and not client.ctx.draining
        self.keep_alive = keep
        connection = b"" if keep and self.version != "1.0" else CONNECTION_LINE[keep]
        self.out.append(
            b"".join(
                (
                    head,
                    extra,
                    b"Server: veil\r\nVeil-Ray: ",
                    self.ray,
                    b"\r\n",
                    framing,
                    connection,
                    b"\r\n",
                )
            )
        )
        self.status = int(head[9:12])
        self.head_sent = True

    def send_whole(self, obj: CachedObject) -> None:
        """`send_cached` of the whole body: a body in memory is queued as it is."""
        body = obj.body
        if body is None:
            return self.send_cached(obj, [slice(0, obj.entry.length)])
        self.out.append(body)
        self.finish_cached()

    def send_cached(self, obj: CachedObject, pieces: list[bytes | slice]) -> None:
        """Write a stored body (or its ranges): at once from memory, in pieces from disk."""
        body = obj.body
        if body is not None:
            for piece in pieces:
                if isinstance(piece, slice):  # (mypyc: index with bounds, not the slice)
                    self.out.append(body[piece.start : piece.stop])
                else:
                    self.out.append(piece)
            return self.finish_cached()
        self.sending = obj
        self.send_pieces = pieces
        self.send_index = 0
        self.send_pos = -1
        self._flush()
        transport = self.client.transport
        fd = obj.file_fd()
        piece = pieces[0]
        if (
            len(pieces) == 1
            and isinstance(piece, slice)
            and fd >= 0
            and FileSender.usable(transport)
        ):
            assert transport is not None
            self.file_sender = FileSender(
                self.client.ctx.loop,
                transport,
                fd,
                obj.file_offset() + piece.start,
                piece.stop - piece.start,
                self._sendfile_done,
                self.client.arm_send_deadline,
            )
            self.client.arm_send_deadline()
            self.sent += piece.stop - piece.start
            return
        self.pump()

    def _sendfile_done(self, ok: bool) -> None:
        self.file_sender = None
        obj = self.sending
        self.sending = None
        if obj is not None:
            obj.release()
        if not ok:
            self.close_after = True
            self.client.abort()
            return
        self.finish_cached()

    def pump(self) -> None:
        """Write the next pieces of a stored body until the visitor's buffer is full."""
        obj = self.sending
        client = self.client
        while obj is not None and not client.write_blocked and not client.gone:
            if self.send_index >= len(self.send_pieces):
                self.sending = None
                obj.release()
                return self.finish_cached()
            piece = self.send_pieces[self.send_index]
            if not isinstance(piece, slice):
                self.out.append(piece)
                self.send_index += 1
                continue
            start = piece.start if self.send_pos < 0 else self.send_pos
            stop = min(piece.stop, start + READ_CHUNK)
            self.out.append(obj.read(start, stop))
            self.send_pos = stop
            if stop >= piece.stop:
                self.send_index += 1
                self.send_pos = -1
            self._flush()
            client.arm_send_deadline()

    def finish_cached(self) -> None:
        """The answer from the cache is complete."""
        if self.out:
            self._flush()
        self.resp_complete = True
        self.client.exchange_done(self)

    def origin_authorities(self) -> frozenset[bytes]:
        """Every way the origin may name itself in a URL (computed only when one is seen)."""
        route = self.route
        if route is None:
            return frozenset()
        origin = route.zone.origin
        names = {a.lower().encode() for a in route.addresses}
        if origin.host_header:
            names.add(origin.host_header.lower().encode())
        if self.origin_ip:
            ip = self.origin_ip
            names.add((f"[{ip}]" if ":" in ip else ip).encode())
        return frozenset(names | {n + b":%d" % origin.port for n in names})

    def _flush(self) -> None:
        out = self.out
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        self.sent += len(data)
        self.client.write(data)

    def _on_upstream_upgrade(self, conn: UpstreamConnection, rest: bytes) -> None:
        """The origin switched protocols (101): splice visitor and origin as a raw tunnel."""
        assert conn.parser is not None
        if not self.websocket or conn.parser.get_status_code() != 101:
            self._upstream_failed(errors.BAD_GATEWAY)
            return
        self.advance(Phase.DELIVER)
        self._write_head(101, b"", upgrade=self.scan.upgrade or b"websocket")
        self._flush()
        self.resp_complete = True
        self.upstream = None
        self.client.start_tunnel(self, conn, rest)

    # -- endings ---------------------------------------------------------------------------

    def _response_done(self) -> None:
        conn = self.upstream
        self.upstream = None
        if conn is not None:
            reusable = (
                not self.resp_extra
                and not (self.method == b"HEAD" and self._head_announced_body())
                and not self.resp_close_delimited
                and self.request_complete
                and self.resp_keep_alive
            )
            pool = self.client.ctx.pool
            if reusable:
                pool.release(conn)
            else:
                pool.discard(conn)
        if self.cache_key is not None or self.fill is not None:
            caching.finish(self, complete=not self.resp_extra)
        elif self.method not in CACHEABLE_METHODS and self.client.ctx.cache is not None:
            caching.finish(self, complete=True)  # §4.4 invalidation after unsafe methods
        if self.serve_after is not None:
            return caching.serve_after_origin(self)
        if self.hold:
            return caching.serve_held(self)
        self.client.exchange_done(self)

    def on_upstream_lost(self, conn: UpstreamConnection, exc: Exception | None) -> None:
        if self.upstream is not conn or self.resp_complete:
            return
        if not self.head_sent:
            if self._may_retry(conn):
                self.retried = True
                self.upstream = None
                self.client.ctx.pool.discard(conn)
                task = self.client.ctx.loop.create_task(self._connect())
                self.client.tasks.add(task)
                task.add_done_callback(self.client.tasks.discard)
                return
            return self._upstream_failed(errors.BAD_GATEWAY)
        if self.resp_close_delimited:
            if self.chunked_out:
                self.out.append(last_chunk(self.resp_trailers))
            self.resp_complete = True
            if self.out:
                self._flush()
            return self._response_done()
        self._upstream_failed(errors.BAD_GATEWAY)

    def _may_retry(self, conn: UpstreamConnection) -> bool:
        """One retry of an idempotent, bodiless request that met a closed reused connection."""
        return (
            conn.requests > 1
            and not self.retried
            and self.method in IDEMPOTENT
            and self.body_received == 0
            and self.request_complete
            and self.resp_status == 0
        )

    def on_upstream_timeout(self) -> None:
        self._upstream_failed(errors.ORIGIN_TIMEOUT)

    def _upstream_failed(self, kind: ErrorKind) -> None:
        """The origin let us down: a branded error if nothing was sent yet, else cut off."""
        self.client.ctx.metrics.origin_errors[str(kind.status)] = (
            self.client.ctx.metrics.origin_errors.get(str(kind.status), 0) + 1
        )
        self.drop_upstream()
        if self.head_sent:
            if self.writer is not None or self.fill is not None:
                caching.finish(self, complete=False)
            self.out.clear()
            self.close_after = True
            self.client.abort()
            return
        self.close_after = self.close_after or not self.request_complete
        if self.hold:  # the fill a range was waiting for broke off: nothing is stored
            self.hold = False
            caching.finish(self, complete=False)
        if self.serve_after is not None:  # the origin broke after a 304 / 5xx head: use ours
            return caching.serve_after_origin(self)
        self.synth(kind)

    def drop_upstream(self) -> None:
        conn = self.upstream
        self.upstream = None
        if conn is not None:
            self.client.ctx.pool.discard(conn)

    def on_upstream_pause_writing(self) -> None:
        self.client.set_read_paused(self.client.PAUSE_UPSTREAM_FULL, True)

    def on_upstream_resume_writing(self) -> None:
        self.client.set_read_paused(self.client.PAUSE_UPSTREAM_FULL, False)

    def synth(self, kind: ErrorKind) -> None:
        if (self.cache_key is not None or self.fill is not None) and caching.origin_failed(
            self, kind
        ):
            return
        self.synth_status(kind.status, kind.title, kind.detail)

    def synth_plain(self, kind: ErrorKind) -> None:
        """An edge answer without the cache's say (it already had it)."""
        self.synth_status(kind.status, kind.title, kind.detail)

    def synth_status(self, status: int, title: str, detail: str) -> None:
        """Answer from the edge itself: a branded page, never naming the origin."""
        ctype, body = errors.render_error(
            status,
            title,
            detail,
            ray=self.ray.decode(),
            now=time.time(),
            as_json=wants_json(self.scan.accept),
        )
        self.answer(status, [(b"Content-Type", ctype), (b"Cache-Control", b"no-store")], body)

    def answer(self, status: int, headers: list[Header], body: bytes) -> None:
        """SYNTH: a response the edge built (an error or abuse-desk page, a redirect)."""
        self.advance(Phase.SYNTH)
        if not self.request_complete and self.has_body:
            self.close_after = True  # the rest of the body is not read: framing is lost
        self.resp_headers = headers
        self.resp_reason = b""
        self._write_head(status, b"Content-Length: %d\r\n" % len(body))
        if self.method != b"HEAD":
            self.out.append(body)
        self._flush()
        self.resp_complete = True
        self.client.exchange_done(self)

    @property
    def has_body(self) -> bool:
        return self.chunked_in or bool(self.scan.content_length)

    def elapsed(self) -> tuple[float, float | None]:
        now = time.monotonic()
        origin = now - self.fetch_started if self.fetch_started else None
        return now - self.started, origin

    def abandon(self) -> None:
        """The visitor went away mid-exchange: let go of the origin connection."""
        self.drop_upstream()
        if self.writer is not None or self.fill is not None:
            caching.finish(self, complete=False)
        if self.file_sender is not None:
            self.file_sender.cancel()
            self.file_sender = None
        for held in (self.stale, self.sending):
            if held is not None:
                held.release()
        self.stale = self.sending = None
        self.phase = Phase.DONE  # from any phase: there is nobody left to answer
