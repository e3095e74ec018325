"""What the cache keeps beside a stored body, and its byte form for the stores. Pure.

A stored response is its `StoredMeta` (status, the header fields kept, the `EntryPolicy` that
decides reuse, the Vary names and variant it answers, and what purges match on) plus the body.
The stores keep `meta` as opaque bytes: `encode` / `decode` turn one into the other with
`marshal` of plain tuples — fast to read on a disk hit, and only ever read back from files the
edge itself wrote, after the disk tier checked their CRC. A blob of another format or Python
version decodes to None, which the edge treats as a miss.

A *variants record* (`status == 0`) is what the primary key holds when the origin's response
carried Vary: it names the Vary fields, and each variant is stored under
`variant_store_key(primary, variant)`.
"""

from __future__ import annotations

import marshal
from dataclasses import dataclass
from typing import Final

from veil.cache.freshness import EntryPolicy
from veil.http.headers import Header

FORMAT: Final = 2
VARIANTS: Final = 0  # status of a variants record


@dataclass(frozen=True, slots=True)
class StoredMeta:
    """Everything about a stored response except its body."""

    status: int  # VARIANTS for a variants record
    reason: bytes
    headers: tuple[Header, ...]  # the fields kept (hop-by-hop and edge-only ones dropped)
    policy: EntryPolicy
    length: int  # body bytes
    zone: str
    url: bytes  # keys.uri_key: what URL purges match
    host: bytes  # lower-case, no port
    path: bytes  # path without query: what prefix purges match
    stored_at: float  # snapshot version the edge ran when the fetch began (purge epoch)
    tags: frozenset[bytes] = frozenset()  # Cache-Tag / Surrogate-Key
    vary: tuple[bytes, ...] = ()  # vary.vary_names of the response
    variant: bytes = b""  # vary.variant_key it answers (b"ce:<coding>" for Veil's copies)
    codings: tuple[bytes, ...] = ()  # the compressed copies of this identity response


def coding_variant(coding: bytes) -> bytes:
    """The variant name of the edge's own copy compressed with `coding`."""
    return b"ce:" + coding


def variant_store_key(primary: bytes, variant: bytes) -> bytes:
    """The store key of one Vary variant of `primary`."""
    return primary + b"\x00vary\x00" + variant


def _policy_tuple(
    p: EntryPolicy,
) -> tuple[float, float, int, int, int, bool, bool, bool, tuple[bytes, ...]]:
    return (
        p.response_time,
        p.initial_age,
        p.lifetime,
        p.stale_while_revalidate,
        p.stale_if_error,
        p.must_revalidate,
        p.no_cache,
        p.authorized_reuse,
        tuple(sorted(p.revalidate_fields)),
    )


def encode(meta: StoredMeta) -> bytes:
    """The bytes a store keeps as `meta`."""
    return marshal.dumps(
        (
            FORMAT,
            meta.status,
            meta.reason,
            tuple(meta.headers),  # tuples of bytes pairs
            _policy_tuple(meta.policy),
            meta.length,
            meta.zone,
            meta.url,
            meta.host,
            meta.path,
            meta.stored_at,
            tuple(sorted(meta.tags)),
            meta.vary,
            meta.variant,
            meta.codings,
        )
    )


def decode(blob: bytes) -> StoredMeta | None:
    """The `StoredMeta` of `blob`, or None when it is not one this version wrote."""
    try:
        doc = marshal.loads(blob)  # noqa: S302 - only files the edge wrote, CRC-checked
        if not isinstance(doc, tuple) or len(doc) != 15 or doc[0] != FORMAT:
            return None
        (_, status, reason, headers, p, length, zone, url, host, path, stored_at, tags) = doc[:12]
        vary, variant, codings = doc[12], doc[13], doc[14]
        policy = EntryPolicy(
            response_time=p[0],
            initial_age=p[1],
            lifetime=p[2],
            stale_while_revalidate=p[3],
            stale_if_error=p[4],
            must_revalidate=p[5],
            no_cache=p[6],
            authorized_reuse=p[7],
            revalidate_fields=frozenset(p[8]),
        )
        return StoredMeta(
            status=status,
            reason=reason,
            headers=tuple((n, v) for n, v in headers),
            policy=policy,
            length=length,
            zone=zone,
            url=url,
            host=host,
            path=path,
            stored_at=stored_at,
            tags=frozenset(tags),
            vary=tuple(vary),
            variant=variant,
            codings=tuple(codings),
        )
    except (ValueError, EOFError, TypeError, IndexError):
        return None
