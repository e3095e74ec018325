"""The bench's "bare" reference: the least a Python reverse proxy can do, on uvloop + httptools.

One process, `asyncio.Protocol` on both sides, a keep-alive pool of origin connections (the
idle ones in a list; a new one is opened when it is empty). The request head is rebuilt from
what was received (method, target, version, headers; nothing added or removed), the origin's
response bytes go back verbatim (no header rewriting), and origin reads pause while the
client's write buffer is full. One request at a time per client connection (later ones wait).

    python bench/bare_proxy.py --listen 127.0.0.1:0 --origin 127.0.0.1:8000 [--addr-file F]

Prints `listening HOST:PORT` once bound (and writes HOST:PORT to --addr-file, if given).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections import deque
from typing import cast

import httptools
import uvloop

CLOSE = b" \r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
BAD_GATEWAY, BAD_REQUEST = b"HTTP/1.1 502" + CLOSE, b"HTTP/1.1 400" + CLOSE
ORIGIN: tuple[str, int] = ("127.0.0.1", 80)
idle: list[Origin] = []  # keep-alive origin connections, most recently used last


class Origin(asyncio.Protocol):
    """One origin connection: relays one response at a time to its current client."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.client: Client | None = None
        self.done = self.keep = self.got_bytes = self.reused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def send(self, client: Client, data: bytes) -> None:
        self.client, self.done, self.got_bytes = client, False, False
        assert self.transport is not None
        if client.paused:  # its buffer is still full of an earlier response
            self.transport.pause_reading()
        self.transport.write(data)

    def on_headers_complete(self) -> None:
        if self.client is not None and self.client.head_only:  # no body follows, but the
            self.done, self.keep = True, self.parser.should_keep_alive()  # parser waits for one

    def on_message_complete(self) -> None:
        self.done = True
        self.keep = self.parser.should_keep_alive()  # llhttp forgets it once the message ends

    def data_received(self, data: bytes) -> None:
        client = self.client
        if client is None:  # bytes nobody asked for: this connection is no use any more
            self.close()
            return
        self.got_bytes = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.close()  # connection_lost ends the client's connection too
            return
        client.write(data)
        if self.done:
            self.client = None
            keep = self.keep
            if keep and not client.head_only and self.transport and not self.transport.is_closing():
                self.transport.resume_reading()  # it may have been paused for this client
                self.reused = True
                idle.append(self)
            else:
                self.close()
            client.response_done(keep)

    def connection_lost(self, exc: Exception | None) -> None:
        if self in idle:
            idle.remove(self)
        client, self.client = self.client, None
        if client is not None:
            if self.reused and not self.got_bytes:
                client.forward()  # the origin closed an idle connection as we reused it: retry
                return
            if not self.got_bytes:
                client.write(BAD_GATEWAY)
            client.abort()  # response cut short (or delimited by close): end it likewise

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class Client(asyncio.Protocol):
    """One visitor connection: parses requests, forwards each to a pooled origin connection."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.url, self.request = b"", b""
        self.head: list[bytes] = []
        self.body: list[bytes] = []
        self.queue: deque[tuple[bytes, bool, bool]] = deque()  # (request, keep-alive, HEAD)
        self.keep_alive, self.head_only, self.busy, self.paused = True, False, False, False
        self.origin: Origin | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.write(BAD_REQUEST)
            self.abort()

    def on_message_begin(self) -> None:
        self.url, self.head, self.body = b"", [], []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head += (name, b": ", value, b"\r\n")

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        p = self.parser
        method = p.get_method()
        line = b"%s %s HTTP/%s\r\n" % (method, self.url, p.get_http_version().encode())
        request = b"".join([line, *self.head, b"\r\n", *self.body])
        self.queue.append((request, p.should_keep_alive(), method == b"HEAD"))
        if not self.busy:
            self.next()

    def next(self) -> None:
        if not self.queue or self.transport is None or self.transport.is_closing():
            return
        self.request, self.keep_alive, self.head_only = self.queue.popleft()
        self.busy = True
        self.forward()

    def forward(self) -> None:
        """Send the current request on an idle origin connection, or on a new one."""
        if idle:
            self.origin = idle.pop()
            self.origin.send(self, self.request)
        else:
            asyncio.get_running_loop().create_task(self.connect())

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, origin = await loop.create_connection(Origin, *ORIGIN)
        except OSError:
            self.write(BAD_GATEWAY)
            self.abort()
            return
        if self.transport is None or self.transport.is_closing():
            origin.close()
            return
        self.origin = origin
        origin.send(self, self.request)

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def response_done(self, origin_keep_alive: bool) -> None:
        self.origin, self.busy = None, False
        if not (self.keep_alive and origin_keep_alive):
            self.abort()
        else:
            self.next()

    def abort(self) -> None:
        """Close after what is buffered is written (the origin's bytes were passed as-is)."""
        if self.transport is not None:
            self.transport.close()

    def pause_writing(self) -> None:
        self.paused = True
        if self.origin is not None and self.origin.transport is not None:
            self.origin.transport.pause_reading()

    def resume_writing(self) -> None:
        self.paused = False
        if self.origin is not None and self.origin.transport is not None:
            self.origin.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        origin, self.origin = self.origin, None
        if origin is not None and origin.client is self:
            origin.client = None
            origin.close()  # mid-response: that connection cannot be reused


def announce(addr: str, addr_file: str | None) -> None:
    print(f"listening {addr}", flush=True)
    if addr_file:  # whole or not at all, for whoever polls it
        with open(addr_file + ".tmp", "w") as f:
            f.write(addr + "\n")
        os.replace(addr_file + ".tmp", addr_file)


async def serve(listen: tuple[str, int], addr_file: str | None) -> None:
    server = await asyncio.get_running_loop().create_server(Client, *listen, backlog=4096)
    host, port = server.sockets[0].getsockname()[:2]
    announce(f"{host}:{port}", addr_file)
    async with server:
        await server.serve_forever()


def main() -> None:
    global ORIGIN
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0: any free one)")
    p.add_argument("--origin", required=True, help="HOST:PORT of the HTTP/1.1 origin")
    p.add_argument("--addr-file", help="also write the bound HOST:PORT to this file")
    args = p.parse_args()
    split = [(h, int(p)) for h, _, p in (a.rpartition(":") for a in (args.origin, args.listen))]
    ORIGIN = split[0]
    uvloop.run(serve(split[1], args.addr_file))


if __name__ == "__main__":
    main()
