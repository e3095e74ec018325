"""Chunked transfer coding (RFC 9112 §7.1), for bodies the edge re-frames. Pure."""

from __future__ import annotations

from collections.abc import Iterable

from veil.http.headers import Header


def chunk(data: bytes) -> bytes:
    """One chunk: size in hex, CRLF, data, CRLF (§7.1)."""
    return b"%x\r\n%b\r\n" % (len(data), data)


def last_chunk(trailers: Iterable[Header] = ()) -> bytes:
    """The last chunk, the trailer section (§7.1.2) and the final CRLF."""
    return b"".join([b"0\r\n", *[b"%b: %b\r\n" % pair for pair in trailers], b"\r\n"])
