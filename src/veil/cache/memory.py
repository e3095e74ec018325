"""The memory tier: one per worker process, a dict of immutable entries within a byte budget.

A hit is a dict lookup plus the policy's `access` bookkeeping: no syscall, no copy (the body
is the `bytes` object the writer joined once at commit). Entries are immutable: replacing,
revalidating (`update_meta`) or evicting a key swaps the dict slot, so a response being sent
from an entry it already holds is never affected. Objects above `max_object_size` are refused
(they belong on disk). A tier's bytes are key + meta + body of every stored object.
"""

from __future__ import annotations

from itertools import count
from types import TracebackType
from typing import Final, Self

from veil.cache.eviction import LRU
from veil.cache.store import Chunk, Entry, PolicyFactory, clamp

DEFAULT_MAX_OBJECT: Final = 1024 * 1024


class MemoryEntry:
    """A stored object whose body is one `bytes` object."""

    __slots__ = ("body", "decoded", "key", "length", "meta", "version")

    def __init__(self, key: bytes, meta: bytes, body: bytes, version: int) -> None:
        self.decoded: object | None = None  # the user's parsed form of meta, memoised
        self.key = key
        self.meta = meta
        self.body = body
        self.length = len(body)
        self.version = version

    @property
    def size(self) -> int:
        """What the entry costs the tier's budget."""
        return len(self.key) + len(self.meta) + self.length

    def read(self, start: int = 0, end: int | None = None) -> bytes:
        begin, stop = clamp(self.length, start, end)
        return self.body[begin:stop]

    def close(self) -> None:
        """Nothing to release: kept so both tiers' entries are handled alike."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class MemoryWriter:
    """Collects a body's chunks; fails as soon as it outgrows its limit."""

    __slots__ = ("_chunks", "_done", "_expected", "_key", "_limit", "_meta", "_size", "_store")

    def __init__(
        self, store: MemoryStore, key: bytes, meta: bytes, expected: int | None, limit: int
    ) -> None:
        self._store = store
        self._key = key
        self._meta = meta
        self._expected = expected
        self._limit = limit if expected is None else min(limit, expected)
        self._chunks: list[bytes] = []
        self._size = 0
        self._done = expected is not None and expected > limit

    def write(self, data: Chunk) -> None:
        if self._done:
            return
        self._size += len(data)
        if self._size > self._limit:
            self.abort()
            return
        self._chunks.append(bytes(data))

    def commit(self) -> MemoryEntry | None:
        if self._done:
            return None
        self._done = True
        body = b"".join(self._chunks)
        self._chunks = []
        if self._expected is not None and len(body) != self._expected:
            return None
        return self._store.put(self._key, self._meta, body)

    def abort(self) -> None:
        self._done = True
        self._chunks = []

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort()


class MemoryStore:
    """Key -> immutable entry, bounded in bytes by an eviction policy."""

    def __init__(
        self,
        capacity: int,
        *,
        max_object_size: int = DEFAULT_MAX_OBJECT,
        policy: PolicyFactory[bytes] = LRU,
    ) -> None:
        self._capacity = capacity
        self._max_object = min(max_object_size, capacity)
        self._policy = policy(capacity)
        self._entries: dict[bytes, MemoryEntry] = {}
        self._used = 0
        self._versions = count(1)

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def used_bytes(self) -> int:
        return self._used

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: bytes) -> MemoryEntry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._policy.access(key)
        return entry

    def begin(self, key: bytes, meta: bytes, expected_length: int | None) -> MemoryWriter:
        return MemoryWriter(self, key, meta, expected_length, self._max_object)

    def put(self, key: bytes, meta: bytes, body: bytes) -> MemoryEntry | None:
        """Store a whole object at once (what `commit` does); `None` when not admitted."""
        if len(body) > self._max_object:
            self.remove(key)
            return None
        return self._install(MemoryEntry(key, meta, body, next(self._versions)))

    def update_meta(self, entry: Entry, meta: bytes) -> bool:
        current = self._entries.get(entry.key)
        if current is None or current.version != entry.version:
            return False
        revalidated = MemoryEntry(entry.key, meta, current.body, current.version)
        return self._install(revalidated) is not None

    def remove(self, key: bytes) -> bool:
        entry = self._entries.pop(key, None)
        if entry is None:
            return False
        self._used -= entry.size
        self._policy.remove(key)
        return True

    def _install(self, entry: MemoryEntry) -> MemoryEntry | None:
        """Account for `entry` with the policy, then drop whatever it names (maybe `entry`)."""
        old = self._entries.pop(entry.key, None)
        if old is not None:
            self._used -= old.size
        victims = self._policy.insert(entry.key, entry.size)
        self._entries[entry.key] = entry
        self._used += entry.size
        for victim in victims:
            dropped = self._entries.pop(victim, None)
            if dropped is not None:
                self._used -= dropped.size
        return None if entry.key in victims else entry
