"""Content codings the edge produces (gzip, br, zstd), once per stored object.

Levels favour ratio over speed moderately: the work happens once per miss, not per hit
(`veil.cache.compression` decides what is compressed).
"""

from __future__ import annotations

import zlib

import brotli
import zstandard

GZIP_LEVEL = 6
BROTLI_QUALITY = 6
ZSTD_LEVEL = 10

_zstd = zstandard.ZstdCompressor(level=ZSTD_LEVEL)


def compress(coding: bytes, data: bytes) -> bytes:
    """`data` encoded with `coding` (b"gzip", b"br" or b"zstd")."""
    if coding == b"gzip":
        z = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: gzip wrapper
        return z.compress(data) + z.flush()
    if coding == b"br":
        return bytes(brotli.compress(data, quality=BROTLI_QUALITY))
    if coding == b"zstd":
        return bytes(_zstd.compress(data))
    raise ValueError(f"unknown coding {coding!r}")
