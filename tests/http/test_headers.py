"""Tier (a): header rules in veil.http.headers."""

from __future__ import annotations

import pytest

from veil.http.headers import connection_tokens, count_cdn_loop, forwarded_element, wants_json


def test_connection_tokens_are_lowercased_and_split() -> None:
    """Connection lists options across fields; names are case-insensitive."""
    assert connection_tokens([b"Keep-Alive, X-Secret", b" upgrade "]) == {
        b"keep-alive",
        b"x-secret",
        b"upgrade",
    }


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("192.0.2.1", b'for=192.0.2.1;proto=http;host="a.test"'),
        ("2001:db8::1", b'for="[2001:db8::1]";proto=http;host="a.test"'),
    ],
)
def test_forwarded_element(ip: str, expected: bytes) -> None:
    """RFC 7239 §4: IPv6 nodes are bracketed and quoted."""
    assert forwarded_element(client_ip=ip, proto="http", host=b"a.test") == expected


def test_forwarded_host_is_quoted_safely() -> None:
    """A quote in the Host cannot break out of the quoted-string."""
    assert forwarded_element(client_ip="1.1.1.1", proto="http", host=b'a"b').endswith(
        b'host="a\\"b"'
    )


def test_cdn_loop_counting() -> None:
    """RFC 8586 cdn-ids are counted with parameters ignored."""
    assert count_cdn_loop([b"veil, other", b"Veil; v=1"], b"veil") == 2


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, False),
        (b"text/html", False),
        (b"application/json", True),
        (b"application/json, text/html", True),
        (b"text/html, application/json", False),
    ],
)
def test_wants_json(accept: bytes | None, expected: bool) -> None:
    """Error pages are JSON only when JSON is preferred to HTML."""
    assert wants_json(accept) is expected
