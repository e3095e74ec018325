"""Tier (a): rebuilding request and response heads (never forwarding raw bytes)."""

from __future__ import annotations

from veil.edge.rewrite import (
    client_response_head,
    hide_origin_in_url,
    scan_request,
    upstream_request_head,
)


def _up(headers: list[tuple[bytes, bytes]], **kw: object) -> bytes:
    scan = scan_request(headers)
    args = dict(
        method=b"POST",
        target=b"/x",
        headers=headers,
        scan=scan,
        host_out=b"a.test",
        client_ip="192.0.2.9",
        proto="http",
        ray=b"r1",
        chunked_body=False,
        websocket=False,
    )
    args.update(kw)
    return upstream_request_head(**args)  # type: ignore[arg-type]


def test_hop_by_hop_and_connection_named_fields_are_dropped() -> None:
    """Connection, Keep-Alive, TE, Upgrade and fields named in Connection never go upstream."""
    head = _up(
        [
            (b"Host", b"a.test"),
            (b"Connection", b"keep-alive, X-Secret"),
            (b"X-Secret", b"s"),
            (b"Keep-Alive", b"1"),
            (b"TE", b"trailers"),
            (b"Upgrade", b"h2c"),
            (b"X-Ok", b"1"),
        ]
    )
    assert b"X-Secret" not in head and b"Keep-Alive" not in head and b"TE:" not in head
    assert b"Upgrade" not in head and b"X-Ok: 1\r\n" in head


def test_exactly_one_content_length_and_no_expect() -> None:
    """The rebuilt request carries one Content-Length and no Expect (the edge answered 100)."""
    head = _up([(b"Host", b"a.test"), (b"Content-Length", b"5"), (b"Expect", b"100-continue")])
    assert head.count(b"Content-Length") == 1 and b"Expect" not in head


def test_chunked_body_is_declared_once() -> None:
    """A chunked request goes upstream with exactly one Transfer-Encoding: chunked."""
    head = _up([(b"Host", b"a.test"), (b"Transfer-Encoding", b"chunked")], chunked_body=True)
    assert head.count(b"Transfer-Encoding: chunked") == 1 and b"Content-Length" not in head


def test_forwarded_is_appended_and_xff_extended() -> None:
    """Forwarded and X-Forwarded-For keep earlier hops and add this one."""
    head = _up(
        [(b"Host", b"a.test"), (b"Forwarded", b"for=1.1.1.1"), (b"X-Forwarded-For", b"1.1.1.1")]
    )
    assert b'Forwarded: for=1.1.1.1, for=192.0.2.9;proto=http;host="a.test"\r\n' in head
    assert b"X-Forwarded-For: 1.1.1.1, 192.0.2.9\r\n" in head


def test_response_head_replaces_server_and_strips_hop_by_hop() -> None:
    """The visitor sees Server: veil and Veil-Ray; origin hop-by-hop fields are gone."""
    head = client_response_head(
        status_line=b"HTTP/1.1 200 OK\r\n",
        headers=[
            (b"Server", b"apache/2 (10.0.0.5)"),
            (b"Connection", b"X-Internal"),
            (b"X-Internal", b"10.0.0.5"),
            (b"Transfer-Encoding", b"chunked"),
            (b"ETag", b'"e"'),
        ],
        ray=b"r",
        keep_alive=True,
        http10_client=False,
        framing=b"Content-Length: 1\r\n",
        origin_authorities=frozenset,
        visitor_host=b"a.test",
    )
    assert b"10.0.0.5" not in head and b"Server: veil\r\n" in head and b'ETag: "e"' in head
    assert b"Transfer-Encoding" not in head and head.endswith(b"\r\n\r\n")


def test_location_hides_origin() -> None:
    """Absolute URLs at the origin's address become the visitor's host; others stay."""
    auth = frozenset({b"10.0.0.5", b"10.0.0.5:8080"})
    assert hide_origin_in_url(b"http://10.0.0.5:8080/a?b", auth, b"a.test") == b"http://a.test/a?b"
    assert hide_origin_in_url(b"https://10.0.0.5/a", auth, b"a.test") == b"https://a.test/a"
    assert hide_origin_in_url(b"https://other.test/a", auth, b"a.test") == b"https://other.test/a"
    assert hide_origin_in_url(b"/relative", auth, b"a.test") == b"/relative"


def test_scan_picks_out_cache_control_and_authorization_and_forwards_both() -> None:
    """The one pass over the visitor's fields also gathers what the cache's request decision
    reads (every Cache-Control line in order, whether Authorization is present); neither is
    dropped on the way to the origin."""
    headers = [
        (b"Host", b"a.test"),
        (b"cache-control", b"no-cache"),
        (b"Authorization", b"Bearer t"),
        (b"Cache-Control", b"max-age=5"),
    ]
    scan = scan_request(headers)
    assert scan.cache_control == [b"no-cache", b"max-age=5"]
    assert scan.authorization
    plain = scan_request([(b"Host", b"a.test")])
    assert plain.cache_control is None and not plain.authorization
    head = _up(headers)
    assert b"\r\ncache-control: no-cache\r\n" in head
    assert b"\r\nAuthorization: Bearer t\r\n" in head
    assert b"\r\nCache-Control: max-age=5\r\n" in head
