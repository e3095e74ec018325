"""Tier (a): chunked coding helpers, checked by feeding their output to llhttp."""

from __future__ import annotations

import httptools
from hypothesis import given
from hypothesis import strategies as st

from veil.http.chunked import chunk, last_chunk


class _Sink:
    def __init__(self) -> None:
        self.body = b""
        self.trailers: list[tuple[bytes, bytes]] = []
        self.done = False

    def on_body(self, data: bytes) -> None:
        self.body += data

    def on_header(self, name: bytes, value: bytes) -> None:
        self.trailers.append((name, value))

    def on_message_complete(self) -> None:
        self.done = True


@given(st.lists(st.binary(min_size=1, max_size=300), max_size=5))
def test_chunks_parse_back_to_the_body(pieces: list[bytes]) -> None:
    """Any chunk sequence plus the last chunk is a valid chunked body with the same bytes."""
    sink = _Sink()
    parser = httptools.HttpResponseParser(sink)
    parser.feed_data(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    sink.trailers.clear()
    parser.feed_data(b"".join(chunk(p) for p in pieces) + last_chunk([(b"X-Sum", b"1")]))
    assert sink.done and sink.body == b"".join(pieces)
    assert sink.trailers == [(b"X-Sum", b"1")]
