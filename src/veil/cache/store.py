"""What every cache object store offers: entries, streaming writers and the store itself.

Two tiers implement it: `veil.cache.memory.MemoryStore` (one per worker, bytes in a dict) and
`veil.cache.disk.DiskStore` (one directory shared by every worker, kept within its budget by
`veil.cache.disk_manager.DiskManager`). One test suite runs on both (tests/cache/test_store.py).

The store knows three things per object: the cache key (`bytes`), an opaque `meta` blob that
the cache layer serialises (status, headers, times, Vary, tags) and the body. It never looks
inside `meta`.

Rules every implementation keeps:
- A reader never sees a torn object: `get` returns a whole committed object or `None`.
- `begin` streams a body in; `commit` publishes it only when its length matches
  `expected_length` (when given) and the tier admits it, else it returns `None` and leaves
  nothing behind. `abort` drops it. A writer is a context manager that aborts unless committed.
- An `Entry` stays readable until `close()`, whatever other writers, purges or evictions do
  meanwhile (the memory tier's entries are immutable; the disk tier's hold an open fd).
- Byte ranges are half-open, `read(start, end)` = body[start:end], clamped to the body.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from types import TracebackType
from typing import Protocol, Self, TypeVar

from veil.cache.eviction import EvictionPolicy

K = TypeVar("K", bound=Hashable)

PolicyFactory = Callable[[int], EvictionPolicy[K]]
"""Builds a tier's eviction policy for a capacity in bytes (`LRU`, `S3FIFO`, ...)."""

Chunk = bytes | bytearray | memoryview


class Entry(Protocol):
    """One stored object as a reader holds it."""

    @property
    def key(self) -> bytes: ...

    @property
    def meta(self) -> bytes: ...

    @property
    def length(self) -> int:
        """The body's length in bytes."""
        ...

    @property
    def version(self) -> int:
        """Names the stored body this entry was read from (a replacement gets a new one)."""
        ...

    @property
    def body(self) -> bytes | None:
        """The whole body when it is in memory (always for the memory tier), else `None`."""
        ...

    def read(self, start: int = 0, end: int | None = None) -> bytes:
        """Body bytes `[start, end)`, clamped to the body."""
        ...

    def close(self) -> None:
        """Release what the entry holds (the disk tier's fd); idempotent."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Writer(Protocol):
    """A body being streamed into a store; nothing is visible until `commit`."""

    def write(self, data: Chunk) -> None:
        """Append body bytes (ignored once the writer failed, committed or aborted)."""
        ...

    def commit(self) -> Entry | None:
        """Publish the object; `None` when refused (length mismatch, too big, not admitted)."""
        ...

    def abort(self) -> None:
        """Drop everything written so far; idempotent."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Store(Protocol):
    """A cache tier."""

    @property
    def capacity(self) -> int:
        """The budget in bytes."""
        ...

    @property
    def used_bytes(self) -> int:
        """Bytes accounted to stored objects (the disk tier: as of the manager's last step)."""
        ...

    def __len__(self) -> int: ...

    def get(self, key: bytes) -> Entry | None:
        """The committed object stored under `key`, or `None`; the caller closes it."""
        ...

    def begin(self, key: bytes, meta: bytes, expected_length: int | None) -> Writer:
        """Start streaming a new object (it replaces any older one at commit)."""
        ...

    def update_meta(self, entry: Entry, meta: bytes) -> bool:
        """Replace the meta of the object `entry` was read from (304 revalidation).

        `False` when that object is gone or was replaced meanwhile: the meta was derived from
        `entry.meta` and must not be pasted onto another response's body.
        """
        ...

    def remove(self, key: bytes) -> bool:
        """Drop the object stored under `key`; `True` when there was one."""
        ...


def clamp(length: int, start: int, end: int | None) -> tuple[int, int]:
    """A half-open range clamped to a body of `length` bytes (empty when start >= end)."""
    stop = length if end is None else min(end, length)
    begin = min(max(start, 0), length)
    return begin, max(begin, stop)
