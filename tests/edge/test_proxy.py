"""Tier (c): the real edge process in front of a real origin process, driven over sockets."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest

from tests.support.procs import Edge, closed_after, raw_request


def get(edge: Edge, path: str, host: str = "site.test", **kw: object) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{edge.port}{path}", headers={"Host": host}, **kw)  # type: ignore[arg-type]


def origin_seen(origin_port: int) -> list[str]:
    return list(httpx.get(f"http://127.0.0.1:{origin_port}/__seen").json())


def test_proxies_and_adds_forwarding_headers(edge: Edge) -> None:
    """The origin sees X-Forwarded-For, Forwarded, Veil-Connecting-IP; the visitor sees Veil-Ray."""
    r = get(edge, "/echo")
    assert r.status_code == 200
    seen = {k.lower(): v for k, v in r.json()["headers"]}
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["forwarded"] == 'for=127.0.0.1;proto=http;host="site.test"'
    assert seen["veil-connecting-ip"] == "127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"
    assert seen["cdn-loop"] == "veil"
    assert r.headers["server"] == "veil"
    assert len(r.headers["veil-ray"]) == 16
    assert seen["veil-ray"] == r.headers["veil-ray"]


def test_spoofed_edge_headers_are_replaced(edge: Edge) -> None:
    """A visitor cannot forge Veil-Connecting-IP; its X-Forwarded-For is kept and appended to."""
    r = httpx.get(
        f"http://127.0.0.1:{edge.port}/echo",
        headers={
            "Host": "site.test",
            "Veil-Connecting-IP": "6.6.6.6",
            "X-Forwarded-For": "1.2.3.4",
        },
    )
    seen = {k.lower(): v for k, v in r.json()["headers"]}
    assert seen["veil-connecting-ip"] == "127.0.0.1"
    assert seen["x-forwarded-for"] == "1.2.3.4, 127.0.0.1"


def test_origin_server_header_never_reaches_visitor(edge: Edge) -> None:
    """The origin's Server header is replaced by `Server: veil`."""
    r = get(edge, "/")
    assert r.headers["server"] == "veil"
    assert "secret-origin" not in str(r.headers)


def test_unknown_host_is_421_and_never_forwarded(edge: Edge, origin_port: int) -> None:
    """A Host that is no proxied name gets 421 and the origin never hears of it."""
    r = get(edge, "/never-forwarded-unknown", host="not-a-zone.test")
    assert r.status_code == 421
    assert "Unknown host" in r.text and r.headers["veil-ray"] in r.text
    assert "/never-forwarded-unknown" not in " ".join(origin_seen(origin_port))


def test_wildcard_record_routes(edge: Edge) -> None:
    """A `*.wild.test` record routes any name under it."""
    assert get(edge, "/", host="a.b.wild.test").status_code == 200
    assert get(edge, "/", host="wild.test").status_code == 421


def test_json_error_page_when_asked(edge: Edge) -> None:
    """Error pages are JSON when the client prefers JSON."""
    r = httpx.get(
        f"http://127.0.0.1:{edge.port}/",
        headers={"Host": "nope.test", "Accept": "application/json"},
    )
    assert r.status_code == 421
    assert r.json()["success"] is False


def test_keepalive_and_pipelining_answer_in_order(edge: Edge) -> None:
    """Three pipelined requests on one connection come back complete and in order."""
    reqs = (
        b"".join(b"GET /echo?n=%d HTTP/1.1\r\nHost: site.test\r\n\r\n" % i for i in range(3))
        + b"GET /echo?n=3 HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n"
    )
    data = raw_request(edge.port, reqs)
    assert data.count(b"HTTP/1.1 200") == 4
    positions = [data.find(b'"target": "/echo?n=%d"' % i) for i in range(4)]
    assert all(p > 0 for p in positions) and positions == sorted(positions)


def test_expect_100_continue(edge: Edge) -> None:
    """The edge answers `Expect: 100-continue` with 100, then forwards the body."""
    with socket.create_connection(("127.0.0.1", edge.port), timeout=3) as s:
        s.sendall(
            b"POST /echo HTTP/1.1\r\nHost: site.test\r\nContent-Length: 5\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        first = s.recv(100)
        assert first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(b"hello")
        rest = b""
        while b"body_len" not in rest:
            rest += s.recv(65536)
    assert b'"body_len": 5' in rest


def test_chunked_upload_is_streamed_with_correct_body(edge: Edge) -> None:
    """A chunked request body reaches the origin intact."""
    body = b"".join(b"%x\r\n%b\r\n" % (len(p), p) for p in (b"abc", b"defgh")) + b"0\r\n\r\n"
    data = raw_request(
        edge.port,
        b"POST /echo HTTP/1.1\r\nHost: site.test\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n" + body,
    )
    head, _, payload = data.partition(b"\r\n\r\n")
    assert b"Content-Length: " in head  # the test origin frames /echo with Content-Length
    assert json.loads(payload)["body_len"] == 8


def test_large_upload_with_content_length(edge: Edge) -> None:
    """A 512 KiB body with Content-Length arrives byte-exact."""
    import hashlib

    payload = bytes(range(256)) * 2048
    r = httpx.post(
        f"http://127.0.0.1:{edge.port}/echo", headers={"Host": "site.test"}, content=payload
    )
    assert r.json()["body_sha256"] == hashlib.sha256(payload).hexdigest()


def test_body_over_zone_limit_is_413(edge: Edge, origin_port: int) -> None:
    """Content-Length above the zone's limit (1 MiB here) is refused with 413 before the origin."""
    resp, closed = closed_after(
        edge.port,
        b"POST /too-big-413 HTTP/1.1\r\nHost: site.test\r\nContent-Length: 2000000\r\n\r\n",
    )
    assert resp.startswith(b"HTTP/1.1 413 ")
    assert closed
    assert "POST /too-big-413" not in origin_seen(origin_port)


def test_chunked_body_over_limit_is_413(edge: Edge) -> None:
    """A chunked body that grows past the zone limit is cut off with 413 or a reset."""
    piece = b"x" * 65536
    chunk = b"%x\r\n%b\r\n" % (len(piece), piece)
    with socket.create_connection(("127.0.0.1", edge.port), timeout=5) as s:
        s.sendall(
            b"POST /slow?delay=2 HTTP/1.1\r\nHost: site.test\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        got = b""
        try:
            for _ in range(40):
                s.sendall(chunk)
            got = s.recv(65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
    assert got == b"" or got.startswith(b"HTTP/1.1 413 ")


def test_chunked_response_with_trailers(edge: Edge) -> None:
    """A chunked origin response is re-chunked to the visitor with its trailer."""
    data = raw_request(
        edge.port, b"GET /chunked?n=10000 HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n"
    )
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    assert b"X-Checksum: " in body


def test_close_delimited_response_becomes_chunked(edge: Edge) -> None:
    """An origin that ends its body by closing is framed with chunked for an HTTP/1.1 visitor."""
    r = get(edge, "/close")
    assert r.status_code == 200 and r.text == "until-close-body"
    assert r.headers["transfer-encoding"] == "chunked"


def test_close_delimited_to_http10_client_closes(edge: Edge) -> None:
    """An HTTP/1.0 visitor gets the close-delimited body and the connection closes."""
    data, closed = closed_after(edge.port, b"GET /close HTTP/1.0\r\nHost: site.test\r\n\r\n")
    assert data.endswith(b"until-close-body") and closed


def test_head_has_no_body(edge: Edge) -> None:
    """HEAD is forwarded and answered with headers only; the connection stays usable."""
    data = raw_request(
        edge.port,
        b"HEAD /bytes?n=5000 HTTP/1.1\r\nHost: site.test\r\n\r\n"
        b"GET / HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n",
    )
    first, _, rest = data.partition(b"\r\n\r\n")
    assert b"Content-Length: 5000" in first
    assert rest.startswith(b"HTTP/1.1 200")


def test_location_pointing_at_origin_is_rewritten(edge: Edge, origin_port: int) -> None:
    """A redirect naming the origin's address is rewritten to the visitor's host."""
    r = get(edge, "/redirect")
    assert r.status_code == 302
    assert r.headers["location"] == "http://site.test/elsewhere"
    assert str(origin_port) not in str(r.headers)


def test_websocket_upgrade_is_tunnelled(edge: Edge) -> None:
    """A WebSocket handshake gets the origin's 101, then bytes flow both ways."""
    with socket.create_connection(("127.0.0.1", edge.port), timeout=3) as s:
        s.sendall(
            b"GET /ws HTTP/1.1\r\nHost: site.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(4096)
        assert head.startswith(b"HTTP/1.1 101 ")
        assert b"Upgrade: websocket" in head
        s.sendall(b"ping-frame")
        echoed = b""
        deadline = time.monotonic() + 3
        while echoed != b"ping-frame" and time.monotonic() < deadline:
            echoed += s.recv(100)
        assert echoed == b"ping-frame"


def test_origin_silent_is_524(edge: Edge) -> None:
    """An origin that accepts but never answers gets 524 after the zone's read timeout (2 s)."""
    start = time.monotonic()
    r = get(edge, "/silent", timeout=10)
    assert r.status_code == 524
    assert 1.5 < time.monotonic() - start < 5
    assert "127.0.0.1" not in r.text and "secret-origin" not in r.text


@pytest.mark.parametrize("n", [0, 1, 65536, 3_000_000])
def test_response_sizes(edge: Edge, n: int) -> None:
    """Bodies of many sizes pass through byte-exact."""
    r = get(edge, f"/bytes?n={n}")
    assert r.status_code == 200 and len(r.content) == n


def test_cdn_loop_is_refused(edge: Edge, origin_port: int) -> None:
    """A request that already passed Veil more than 4 times is answered 508, not forwarded."""
    r = httpx.get(
        f"http://127.0.0.1:{edge.port}/m-loop",
        headers={"Host": "site.test", "CDN-Loop": "veil, veil, other, veil, veil, veil"},
    )
    assert r.status_code == 508
    assert "GET /m-loop" not in origin_seen(origin_port)


def test_idempotent_request_retried_once_on_a_dead_pooled_connection(edge: Edge) -> None:
    """A GET that meets a reused origin connection closing unanswered is retried, not 502."""
    with httpx.Client(base_url=f"http://127.0.0.1:{edge.port}", headers={"Host": "site.test"}) as c:
        assert c.get("/arm-drop").status_code == 200
        r = c.get("/echo")
        assert r.status_code == 200 and r.json()["target"] == "/echo"


def test_non_idempotent_request_is_not_retried(edge: Edge) -> None:
    """A POST on a connection that dies unanswered is not replayed: 502."""
    with httpx.Client(base_url=f"http://127.0.0.1:{edge.port}", headers={"Host": "site.test"}) as c:
        assert c.get("/arm-drop").status_code == 200
        r = c.post("/echo", content=b"once")
        assert r.status_code == 502


def test_half_closed_visitor_gets_answer_then_close(edge: Edge) -> None:
    """A visitor that sends its requests then FIN gets every answer, then the edge closes."""
    with socket.create_connection(("127.0.0.1", edge.port), timeout=3) as s:
        s.sendall(
            b"GET /echo HTTP/1.1\r\nHost: site.test\r\n\r\nGET / HTTP/1.1\r\nHost: site.test\r\n\r\n"
        )
        s.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.count(b"HTTP/1.1 200 ") == 2 and data.endswith(b"hello from origin")


def test_connections_closed_mid_request_are_released(edge: Edge) -> None:
    """Visitors that vanish mid-request leave no connection open at the edge."""
    for _ in range(30):
        with socket.create_connection(("127.0.0.1", edge.port), timeout=3) as s:
            s.sendall(b"GET /slow?delay=0.2 HTTP/1.1\r\nHost: site.test\r\n\r\n")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(1.1)  # counters are dumped every second
        doc = json.loads((edge.state_dir / "metrics" / "worker-0.json").read_text())
        if doc["connections_open"] == 0:
            break
    assert doc["connections_open"] == 0
