"""Which stored responses the edge compresses, and how their fields change. Pure.

Veil compresses a stored identity response once, at store time, into each coding it serves
(br, zstd, gzip — `vary.DEFAULT_CODINGS`), and answers each visitor with the coding its
Accept-Encoding prefers (RFC 9110 §12.5.3). Rules, each with its reason:

* only when the origin sent no Content-Encoding (never double-compress) and no Vary (the
  origin then chose the representation itself);
* never with `no-transform` (RFC 9111 §5.2.2.6: a proxy must not change the content);
* only for types that compress well (text, JSON, JavaScript, XML, SVG, WebAssembly…) and
  bodies of at least `SIZE_FLOOR` bytes (below that the header costs more than it saves);
* the compressed copy is another representation: its strong ETag is weakened (RFC 9110
  §8.8.3), digests of the identity body are dropped, `Vary: Accept-Encoding` is added — to the
  identity copy too, so caches downstream keep them apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from veil.http.headers import Header

SIZE_FLOOR: Final = 1024
MAX_SIZE: Final = 16 * 1024 * 1024  # larger bodies are served as stored (CPU per miss bound)

_TYPES: Final = frozenset(
    {
        b"application/javascript",
        b"application/json",
        b"application/ld+json",
        b"application/manifest+json",
        b"application/rss+xml",
        b"application/atom+xml",
        b"application/xml",
        b"application/xhtml+xml",
        b"application/wasm",
        b"application/x-javascript",
        b"image/svg+xml",
        b"image/x-icon",
        b"font/ttf",
        b"font/otf",
    }
)
_DIGESTS: Final = frozenset({b"content-md5", b"digest", b"content-digest", b"repr-digest"})


def _field(headers: Sequence[Header], name: bytes) -> bytes | None:
    for n, v in headers:
        if n.lower() == name:
            return v
    return None


def compressible(headers: Sequence[Header], length: int, *, no_transform: bool) -> bool:
    """Should a stored response with these fields and body length get compressed copies?"""
    if no_transform or not SIZE_FLOOR <= length <= MAX_SIZE:
        return False
    if _field(headers, b"content-encoding") is not None or _field(headers, b"vary") is not None:
        return False
    if _field(headers, b"content-range") is not None:
        return False
    ctype = _field(headers, b"content-type")
    if ctype is None:
        return False
    media = ctype.split(b";", 1)[0].strip().lower()
    return media.startswith(b"text/") or media in _TYPES or media.endswith((b"+json", b"+xml"))


def identity_fields(headers: Sequence[Header]) -> list[Header]:
    """The identity copy's fields once compressed copies exist: with Vary: Accept-Encoding."""
    return [*headers, (b"Vary", b"Accept-Encoding")]


def encoded_fields(headers: Sequence[Header], coding: bytes) -> list[Header]:
    """The fields of the copy compressed with `coding`."""
    out: list[Header] = []
    for name, value in headers:
        lower = name.lower()
        if lower in _DIGESTS:
            continue
        if lower == b"etag" and not value.startswith(b"W/"):
            value = b"W/" + value
        out.append((name, value))
    out.append((b"Content-Encoding", coding))
    out.append((b"Vary", b"Accept-Encoding"))
    return out
