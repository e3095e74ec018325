"""Connections to origins: a keep-alive pool per origin address, with limits and idle expiry.

Theory of operation
-------------------
An `UpstreamConnection` is an `asyncio.Protocol` that carries one exchange at a time (no
upstream pipelining). For each request the exchange installs a fresh `HttpResponseParser`
whose callbacks go straight to the exchange, so response bytes cross one Python call layer.

`OriginPool.acquire_idle(key)` is synchronous — the hot path never awaits when a pooled
connection is available. `OriginPool.connect(...)` opens a new one to exactly the address that
`veil.edge.resolve` validated (SSRF guard: no re-resolution). Released connections go back to
the idle list; `sweep()` closes those idle longer than the idle timeout, and a per-key limit
on idle connections bounds what a burst leaves behind. A per-key cap on open connections makes
later requests wait (FIFO) for a free one, bounded by the connect timeout.
"""

from __future__ import annotations

import asyncio
import collections
import socket
import ssl
from collections.abc import Callable
from typing import Protocol, cast

import httptools

PoolKey = tuple[str, int, bool, str]  # (ip, port, tls, server name)


class UpstreamClient(Protocol):
    """What a connection reports to the exchange it carries."""

    def on_upstream_lost(self, conn: UpstreamConnection, exc: Exception | None) -> None: ...
    def on_upstream_data(self, conn: UpstreamConnection, data: bytes) -> None: ...
    def on_upstream_pause_writing(self) -> None: ...
    def on_upstream_resume_writing(self) -> None: ...


class UpstreamConnection(asyncio.Protocol):
    __slots__ = (
        "client",
        "closed",
        "forgotten",
        "idle_since",
        "key",
        "parser",
        "requests",
        "transport",
    )

    def __init__(self, key: PoolKey) -> None:
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.parser: httptools.HttpResponseParser | None = None
        self.client: UpstreamClient | None = None
        self.closed = False
        self.forgotten = False  # the pool no longer counts it as open
        self.idle_since = 0.0
        self.requests = 0  # how many exchanges it has carried; > 0 means "reused"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        sock = self.transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        client = self.client
        if client is None:  # bytes while idle: the origin broke framing; never reuse
            self.close()
            return
        client.on_upstream_data(self, data)

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        client = self.client
        if client is not None:
            self.client = None
            client.on_upstream_lost(self, exc)

    def pause_writing(self) -> None:
        if self.client is not None:
            self.client.on_upstream_pause_writing()

    def resume_writing(self) -> None:
        if self.client is not None:
            self.client.on_upstream_resume_writing()

    def close(self) -> None:
        self.closed = True
        self.client = None
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.closed = True
        self.client = None
        if self.transport is not None:
            self.transport.abort()


class OriginPool:
    def __init__(
        self,
        *,
        loop: asyncio.AbstractEventLoop,
        idle_timeout: float,
        max_idle_per_key: int,
        max_open_per_key: int = 1024,
    ) -> None:
        self._loop = loop
        self._idle: dict[PoolKey, list[UpstreamConnection]] = {}
        self._open: collections.Counter[PoolKey] = collections.Counter()
        self._waiters: dict[PoolKey, collections.deque[asyncio.Future[None]]] = {}
        self.idle_timeout = idle_timeout
        self.max_idle_per_key = max_idle_per_key
        self.max_open_per_key = max_open_per_key
        self._tls: ssl.SSLContext | None = None

    def acquire_idle(self, key: PoolKey) -> UpstreamConnection | None:
        """A pooled live connection for `key`, or None. Never awaits."""
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if not conn.closed and conn.transport is not None and not conn.transport.is_closing():
                return conn
            self._forget(conn)
        return None

    async def connect(
        self,
        key: PoolKey,
        *,
        connect_timeout: float,
        factory: Callable[[PoolKey], UpstreamConnection],
    ) -> UpstreamConnection:
        """Open a new connection to exactly (ip, port) of `key`.

        Raises TimeoutError (522), ConnectionRefusedError (521) or OSError (523).
        """
        deadline = self._loop.time() + connect_timeout
        while self._open[key] >= self.max_open_per_key:
            waiter: asyncio.Future[None] = self._loop.create_future()
            self._waiters.setdefault(key, collections.deque()).append(waiter)
            try:
                await asyncio.wait_for(waiter, max(0.0, deadline - self._loop.time()))
            finally:
                if not waiter.done():
                    waiter.cancel()
            reused = self.acquire_idle(key)
            if reused is not None:
                return reused
        ip, port, tls, server_name = key
        self._open[key] += 1
        try:
            async with asyncio.timeout(max(0.001, deadline - self._loop.time())):
                _, proto = await self._loop.create_connection(
                    lambda: factory(key),
                    host=ip,
                    port=port,
                    ssl=self._tls_context() if tls else None,
                    server_hostname=server_name if tls else None,
                )
        except BaseException:
            self._open[key] -= 1
            self._wake(key)
            raise
        assert isinstance(proto, UpstreamConnection)
        return proto

    def release(self, conn: UpstreamConnection) -> None:
        """Return a connection whose exchange finished cleanly and may be reused."""
        conn.client = None
        conn.parser = None
        if conn.closed:
            self._forget(conn)
            return
        idle = self._idle.get(conn.key)
        if idle is None:
            idle = self._idle[conn.key] = []
        elif len(idle) >= self.max_idle_per_key:
            conn.close()
            self._forget(conn)
            return
        conn.idle_since = self._loop.time()
        idle.append(conn)
        if self._waiters:  # rarely: only while some key is at max_open_per_key
            self._wake(conn.key)

    def discard(self, conn: UpstreamConnection) -> None:
        """Close a connection that must not be reused (error, framing, close-delimited)."""
        conn.close()
        self._forget(conn)

    def sweep(self) -> None:
        """Close idle connections older than the idle timeout (called about once a second)."""
        cutoff = self._loop.time() - self.idle_timeout
        for key, idle in list(self._idle.items()):
            keep = [c for c in idle if not c.closed and c.idle_since > cutoff]
            for conn in idle:
                if conn not in keep:
                    conn.close()
                    self._forget(conn)
            if keep:
                self._idle[key] = keep
            else:
                del self._idle[key]

    def close_all(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()

    def _forget(self, conn: UpstreamConnection) -> None:
        if conn.forgotten:
            return
        conn.forgotten = True
        self._open[conn.key] -= 1
        self._wake(conn.key)

    def _wake(self, key: PoolKey) -> None:
        waiters = self._waiters.get(key)
        if waiters is None:
            return
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                break
        if not waiters:
            del self._waiters[key]  # so that `release` can skip waking while nobody waits

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls
