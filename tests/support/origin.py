"""A real origin server for the edge's tests (a separate process on 127.0.0.1).

Routes (query strings pick sizes and delays):
  /echo                 JSON: method, target, headers and body size/sha256 the origin received
  /bytes?n=N            N bytes with Content-Length, written in 64 KiB pieces (flow-controlled)
  /chunked?n=N          N bytes chunked, with a trailer `X-Checksum`
  /close                an HTTP/1.0-style response delimited by closing the connection
  /slow?delay=S         waits S seconds before answering
  /silent               accepts the request and never answers
  /redirect             a Location naming the origin's own address
  /status?code=N        an empty response with that status
  /ws                   a WebSocket-style upgrade (101) that then echoes raw bytes
  /arm-drop             answers, then drops the NEXT request on the same connection unanswered
  /cached?...           a cacheable object shaped by its query: cc (Cache-Control), etag, lm
                        (Last-Modified), vary, tag (Cache-Tag), ctype, n (body bytes),
                        pace (seconds between 64 KiB pieces), delay; answers 304 to a
                        matching If-None-Match; the body names how many times it was fetched
  /__fail?on=1|0        while on, /cached answers 503
  /__seen, /__reset     the request targets received so far (for "the origin never saw it")
Anything else answers 200 with a small text body.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from urllib.parse import parse_qs, urlsplit

SEEN: list[str] = []
FAIL = {"on": False}
FETCHES: dict[str, int] = {}


async def read_head(reader: asyncio.StreamReader) -> tuple[str, str, list[tuple[str, str]]] | None:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = raw.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    return method, target, headers


async def read_body(reader: asyncio.StreamReader, headers: list[tuple[str, str]]) -> bytes:
    h = {k.lower(): v for k, v in headers}
    if "content-length" in h:
        return await reader.readexactly(int(h["content-length"]))
    if h.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                return bytes(body)
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    return b""


def response(status: int, body: bytes, ctype: str = "text/plain", extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
        f"Server: secret-origin/1.0\r\n{extra}\r\n"
    ).encode() + body


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    port = writer.get_extra_info("sockname")[1]
    drop_next = False
    try:
        while True:
            head = await read_head(reader)
            if head is None:
                return
            method, target, headers = head
            SEEN.append(f"{method} {target}")
            if drop_next:
                return  # closes without a response, like an origin's idle timeout race
            drop_next = target == "/arm-drop"
            body = await read_body(reader, headers)
            url = urlsplit(target)
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            path = url.path
            if path == "/echo":
                doc = {
                    "method": method,
                    "target": target,
                    "headers": headers,
                    "body_len": len(body),
                    "body_sha256": hashlib.sha256(body).hexdigest(),
                }
                writer.write(response(200, json.dumps(doc).encode(), "application/json"))
            elif path == "/bytes":
                n = int(q.get("n", "1024"))
                writer.write(
                    f"HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n"
                    "Content-Type: application/octet-stream\r\n\r\n".encode()
                )
                block = b"x" * 65536
                left = n
                while left > 0:
                    piece = block if left >= len(block) else block[:left]
                    writer.write(piece)
                    left -= len(piece)
                    await writer.drain()
            elif path == "/chunked":
                n = int(q.get("n", "1000"))
                data = bytes(i % 251 for i in range(n))
                writer.write(
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
                )
                for i in range(0, n, 4096):
                    piece = data[i : i + 4096]
                    writer.write(b"%x\r\n%b\r\n" % (len(piece), piece))
                digest = hashlib.sha256(data).hexdigest()
                writer.write(f"0\r\nX-Checksum: {digest}\r\n\r\n".encode())
            elif path == "/close":
                writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil-close-body")
                await writer.drain()
                writer.close()
                return
            elif path == "/slow":
                await asyncio.sleep(float(q.get("delay", "1")))
                writer.write(response(200, b"slow done"))
            elif path == "/silent":
                await asyncio.sleep(3600)
            elif path == "/redirect":
                writer.write(
                    response(302, b"", extra=f"Location: http://127.0.0.1:{port}/elsewhere\r\n")
                )
            elif path == "/status":
                writer.write(response(int(q.get("code", "200")), b""))
            elif path == "/ws":
                writer.write(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                )
                await writer.drain()
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
                writer.close()
                return
            elif path.startswith("/cached"):
                await cached(writer, target, q, headers)
            elif path == "/__fail":
                FAIL["on"] = q.get("on") == "1"
                writer.write(response(200, b"ok"))
            elif path == "/__seen":
                writer.write(response(200, json.dumps(SEEN).encode(), "application/json"))
            elif path == "/__reset":
                SEEN.clear()
                writer.write(response(200, b"ok"))
            else:
                writer.write(response(200, b"hello from origin"))
            await writer.drain()
            if any(k.lower() == "connection" and v.lower() == "close" for k, v in headers):
                writer.close()
                return
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        writer.close()


async def cached(
    writer: asyncio.StreamWriter, target: str, q: dict[str, str], headers: list[tuple[str, str]]
) -> None:
    """The /cached route (see the module docstring)."""
    if FAIL["on"]:
        writer.write(response(503, b"origin failing", extra="Cache-Control: no-store\r\n"))
        return
    await asyncio.sleep(float(q.get("delay", "0")))
    fields = [("Cache-Control", q.get("cc")), ("ETag", q.get("etag")), ("Vary", q.get("vary"))]
    fields += [("Last-Modified", q.get("lm")), ("Cache-Tag", q.get("tag"))]
    extra = "".join(f"{k}: {v}\r\n" for k, v in fields if v)
    inm = next((v for k, v in headers if k.lower() == "if-none-match"), None)
    if q.get("etag") and inm == q["etag"]:
        writer.write(f"HTTP/1.1 304 Not Modified\r\n{extra}\r\n".encode())
        return
    FETCHES[target] = FETCHES.get(target, 0) + 1
    ctype = q.get("ctype", "text/plain")
    if q.get("te"):  # an unknown transfer coding: the body ends when the origin closes
        writer.write(f"HTTP/1.1 200 OK\r\nTransfer-Encoding: {q['te']}\r\n{extra}\r\n".encode())
        writer.write(b"until-close body")
        await writer.drain()
        writer.close()
        return
    if q.get("overlong"):  # more body bytes than Content-Length announces
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n{extra}\r\nhello-and-more".encode())
        return
    if "n" not in q:
        ae = next((v for k, v in headers if k.lower() == "accept-encoding"), "-")
        writer.write(response(200, f"fetch {FETCHES[target]} ae={ae}".encode(), ctype, extra))
        return
    n, pace = int(q["n"]), float(q.get("pace", "0"))
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {n}\r\nContent-Type: {ctype}\r\n{extra}\r\n"
    writer.write(head.encode())
    block = bytes(range(256)) * 256
    left = n
    while left > 0:
        piece = block if left >= len(block) else block[:left]
        writer.write(piece)
        left -= len(piece)
        await writer.drain()
        if pace:
            await asyncio.sleep(pace)


async def main(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
