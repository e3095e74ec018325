"""The edge's HTTP cache: per-worker memory tier, the shared disk tier, collapsing, purges.

Theory of operation
-------------------
`EdgeCache` is the I/O half of `veil.cache` for one worker process; every decision (lookup or
bypass, fresh or stale, store or not, purged or not) is made by the pure modules it calls.

* Lookup: the primary key (`keys.cache_key`) is looked up in the worker's memory tier, then on
  the shared disk tier (a disk hit of a small object is promoted to memory). What a key holds
  is a `StoredMeta` (+ body); a *variants record* sends the lookup on to the variant the
  request's Vary fields select. The purge index built from the snapshot's purges is asked
  about every candidate: purged objects are dropped on sight, soft-purged ones are treated
  as stale.
* Fill: a miss that may be stored opens a `Fill` for its key. Later misses for the key wait
  on it (request collapsing) instead of going to the origin. When the response turns out not
  storable the waiters are released to the origin and the key is remembered as
  hit-for-miss for `HIT_FOR_MISS_SECONDS`, so collapsing never serialises an uncacheable URL
  (Varnish's design). The body streams to the stores while it streams to the visitor.
* Decoded objects are memoised on the memory tier's entries (`CachedObject`), so a memory
  hit decodes nothing and its response head is mostly precomputed.
"""

from __future__ import annotations

import fcntl
import os
import time
import zlib
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Final

from veil.cache import meta as meta_codec
from veil.cache.compression import encoded_fields, identity_fields
from veil.cache.disk import DiskStore
from veil.cache.disk_manager import DiskManager
from veil.cache.invalidation import PurgeIndex, PurgeKind, PurgeOutcome, PurgeRule, purge_url_key
from veil.cache.keys import (
    CacheKeySettings,
    CacheLevel,
    QueryMode,
    cache_key,
    fast_key,
    key_prefix,
)
from veil.cache.memory import MemoryEntry, MemoryStore
from veil.cache.meta import StoredMeta, coding_variant, variant_store_key
from veil.cache.policy import client_cache_control
from veil.cache.s3fifo import S3FIFO
from veil.cache.store import Entry, Writer
from veil.cache.vary import DEFAULT_CODINGS, IDENTITY, VARY_STAR, choose_coding, variant_key
from veil.edge.compress import compress
from veil.edge.errors import status_line
from veil.snapshot import CacheSettings, Snapshot

if TYPE_CHECKING:
    from veil.edge.exchange import Exchange

# An uncacheable key skips collapsing this long (Varnish's default).
HIT_FOR_MISS_SECONDS: Final = 120.0
PROMOTE_MAX: Final = 256 * 1024  # disk hits up to this size are copied into the memory tier
READ_CHUNK: Final = 256 * 1024  # a large disk object is sent in pieces of this size


class CachedObject:
    """A stored response ready to serve: its meta, its body or its open disk entry, and the
    parts of its response head that do not change from hit to hit."""

    __slots__ = (
        "body",
        "entry",
        "head_prefix",
        "head_settings",
        "length_field",
        "meta",
        "store_key",
    )

    def __init__(self, store_key: bytes, meta: StoredMeta, entry: Entry) -> None:
        self.store_key = store_key
        self.meta = meta
        self.entry = entry
        self.body: bytes | None = entry.body
        self.head_prefix = b""
        self.length_field = b""  # its Content-Length line, built on first use
        self.head_settings: CacheSettings | None = None

    # -- the Purgeable protocol (veil.cache.invalidation), read by PurgeIndex.check ------------

    @property
    def zone(self) -> str:
        return self.meta.zone

    @property
    def url(self) -> bytes:
        return self.meta.url

    @property
    def host(self) -> bytes:
        return self.meta.host

    @property
    def path(self) -> bytes:
        return self.meta.path

    @property
    def tags(self) -> frozenset[bytes]:
        return self.meta.tags

    @property
    def stored_at(self) -> float:
        return self.meta.stored_at

    @property
    def vary(self) -> tuple[bytes, ...]:
        return self.meta.vary

    @property
    def variant(self) -> bytes:
        return self.meta.variant

    def head(self, settings: CacheSettings) -> bytes:
        """Status line and stored fields, built on first use for the zone's settings (the
        browser TTL rewrites Cache-Control); the rest of the head is per hit."""
        prefix = self.head_prefix
        if not prefix or self.head_settings is not settings:
            meta = self.meta
            reason = meta.reason
            out = [
                b"HTTP/1.1 %d %b\r\n" % (meta.status, reason)
                if reason
                else status_line(meta.status)
            ]
            for name, value in browser_fields(list(meta.headers), settings.browser_ttl):
                out.append(name + b": " + value + b"\r\n")
            prefix = self.head_prefix = b"".join(out)
            self.head_settings = settings
        return prefix

    def length_line(self) -> bytes:
        """`Content-Length: N` for the whole body (a hit sends it on every answer)."""
        line = self.length_field
        if not line:
            line = self.length_field = b"Content-Length: %d\r\n" % self.entry.length
        return line

    def read(self, start: int, end: int) -> bytes:
        """Body bytes [start, end): from memory, or read from the open file."""
        if self.body is not None:
            return self.body[start:end]
        return self.entry.read(start, end)

    def file_fd(self) -> int:
        """The open file holding the body (-1 when the body is in memory)."""
        return -1 if self.body is not None else getattr(self.entry, "fd", -1)

    def file_offset(self) -> int:
        """Where the body starts in that file."""
        return int(getattr(self.entry, "body_offset", 0))

    def release(self) -> None:
        """Close the disk entry's descriptor (memory entries hold none)."""
        if self.body is None:
            self.entry.close()


class Fill:
    """One in-flight miss for a key and the exchanges waiting on it. The exchange fetching it
    holds it as `Exchange.fill`; a fill another worker process runs has no such exchange."""

    __slots__ = ("key", "lock_fd", "waiters")

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.lock_fd = -1  # this process's lock on the key's stripe while it fetches
        self.waiters: list[Exchange] = []


OTHER_PROCESS: Final = -1  # lock_fill: another worker process is fetching the key
NO_LOCKS: Final = -2  # lock_fill: no disk tier, so no collapsing across processes
LOCK_STRIPES: Final = 65536


class TeeWriter:
    """Writes one body to every tier that accepted it; commits them together."""

    __slots__ = ("writers",)

    def __init__(self, writers: list[Writer]) -> None:
        self.writers = writers

    def write(self, data: bytes) -> None:
        for w in self.writers:
            w.write(data)

    def commit(self) -> Entry | None:
        """Commit every tier; the first committed entry (memory before disk) is returned."""
        first: Entry | None = None
        for w in self.writers:
            entry = w.commit()
            if first is None:
                first = entry
            elif entry is not None:
                entry.close()
        return first

    def abort(self) -> None:
        for w in self.writers:
            w.abort()


def key_settings(settings: CacheSettings) -> CacheKeySettings:
    """The cache-key settings of a zone (memoised per settings object by the caller)."""
    return CacheKeySettings(
        level=CacheLevel(settings.level),
        query=QueryMode(settings.query),
        query_allow=frozenset(q.encode() for q in settings.query_allow),
        headers=tuple(h.encode() for h in settings.key_headers),
        cookies=tuple(c.encode() for c in settings.key_cookies),
    )


class EdgeCache:
    """One worker's cache (see the module docstring)."""

    def __init__(
        self,
        *,
        memory_bytes: int,
        memory_max_object: int,
        disk_root: str | None,
        disk_bytes: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock
        self.memory = MemoryStore(memory_bytes, max_object_size=memory_max_object, policy=S3FIFO)
        self.disk: DiskStore | None = None
        self.manager: DiskManager | None = None
        if disk_root is not None and disk_bytes > 0:
            self.disk = DiskStore(disk_root, disk_bytes)
            self.manager = DiskManager(disk_root, disk_bytes, policy=S3FIFO)
            if not self.manager.start():
                self.manager = None  # another worker manages the disk budget
        self.fills: dict[bytes, Fill] = {}
        self.hit_for_miss: dict[bytes, float] = {}
        self.purges = PurgeIndex()
        self.purge_version = -1
        self._key_settings: dict[int, tuple[CacheSettings, CacheKeySettings]] = {}
        self._prefixes: dict[tuple[str, bytes], bytes] = {}  # (zone, host) -> key prefix

    # -- snapshot ---------------------------------------------------------------------------

    def install(self, snapshot: Snapshot) -> None:
        """Rebuild the purge index from a new snapshot's purges (versions stand for times)."""
        if snapshot.version == self.purge_version:
            return
        index = PurgeIndex()
        for zone in snapshot.zones:
            settings = self.key_settings(zone.cache)
            for p in zone.purges:
                value = p.value.encode()
                kind = _PURGE_KINDS[p.kind]
                values = [value]
                if kind is PurgeKind.URL:
                    # Keys name the visitor's scheme; a URL purge covers both schemes.
                    bare = value.split(b"://", 1)[-1]
                    found = [
                        purge_url_key(s + b"://" + bare, settings) for s in (b"http", b"https")
                    ]
                    values = [k for k in found if k is not None]
                # An object stored while the edge ran version v is purged by a rule first
                # carried by a later version: stored_at (v) <= issued_at (version - 0.5).
                headers = tuple((n.lower().encode(), v.encode()) for n, v in p.headers)
                for v in values:
                    rule = PurgeRule(kind, v, p.version - 0.5, p.soft, headers)
                    index.add(zone.id, rule)
        self.purges = index
        self.purge_version = snapshot.version

    def key_for(
        self,
        zone_id: str,
        settings: CacheSettings,
        scheme: bytes,
        host: bytes,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
    ) -> bytes | None:
        """The primary cache key: the zone's id, then the URL key (`keys.cache_key`); under
        default settings a memoised per-host prefix + target. The zone id keeps a deleted
        and re-created zone (maybe another customer's) from meeting its predecessor's objects.
        """
        ks = self.key_settings(settings)
        if ks.is_default:
            prefix = self._prefixes.get((zone_id, host))
            if prefix is None:
                if len(self._prefixes) >= 4096:
                    self._prefixes.clear()
                prefix = zone_key(zone_id, key_prefix(scheme, host))
                self._prefixes[(zone_id, host)] = prefix
            return fast_key(prefix, target)
        key = cache_key(ks, scheme=scheme, host=host, target=target, headers=headers)
        return None if key is None else zone_key(zone_id, key)

    def key_settings(self, settings: CacheSettings) -> CacheKeySettings:
        found = self._key_settings.get(id(settings))
        if found is not None and found[0] is settings:
            return found[1]
        made = key_settings(settings)
        if len(self._key_settings) > 4096:
            self._key_settings.clear()
        self._key_settings[id(settings)] = (settings, made)
        return made

    # -- lookup -----------------------------------------------------------------------------

    def lookup(
        self,
        key: bytes,
        request_headers: list[tuple[bytes, bytes]],
        accept_encoding: bytes | None = None,
    ) -> tuple[CachedObject | None, PurgeOutcome, bool]:
        """The stored response for a request: (object, purge outcome, vary_miss)."""
        obj = self._get(key)
        if obj is None:
            return None, PurgeOutcome.NONE, False
        if obj.meta.status == meta_codec.VARIANTS:
            names = obj.meta.vary
            obj.release()
            if names == VARY_STAR:
                return None, PurgeOutcome.NONE, True
            obj = self._get(variant_store_key(key, variant_key(names, request_headers)))
            if obj is None:
                return None, PurgeOutcome.NONE, True
        codings = obj.meta.codings
        if codings:
            if codings == DEFAULT_CODINGS:
                codings = DEFAULT_CODINGS  # the memoised choice applies to the default list
            coding = choose_coding(accept_encoding, codings)
            if coding != IDENTITY:
                encoded = self._get(variant_store_key(key, coding_variant(coding)))
                if encoded is not None:
                    obj.release()
                    obj = encoded
        meta = obj.meta
        outcome = self.purges.check_stored(meta.zone, meta.stored_at, obj)
        if outcome is PurgeOutcome.PURGED:
            obj.release()
            self.remove(obj.store_key)
            return None, outcome, False
        return obj, outcome, False

    def _get(self, key: bytes) -> CachedObject | None:
        entry = self.memory.get(key)
        if entry is not None:
            decoded = entry.decoded
            if isinstance(decoded, CachedObject):
                return decoded
            meta = meta_codec.decode(entry.meta)
            if meta is None:
                self.memory.remove(key)
                return None
            obj = CachedObject(key, meta, entry)
            entry.decoded = obj
            return obj
        if self.disk is None:
            return None
        disk_entry = self.disk.get(key)
        if disk_entry is None:
            return None
        meta = meta_codec.decode(disk_entry.meta)
        if meta is None:
            disk_entry.close()
            self.disk.remove(key)
            return None
        if disk_entry.length <= PROMOTE_MAX:
            body = disk_entry.body if disk_entry.body is not None else disk_entry.read()
            disk_entry.close()
            promoted = self.memory.put(key, disk_entry.meta, body)
            if promoted is not None:
                obj = CachedObject(key, meta, promoted)
                promoted.decoded = obj
                return obj
            return CachedObject(key, meta, MemoryEntry(key, disk_entry.meta, body, 0))
        return CachedObject(key, meta, disk_entry)

    # -- storing ------------------------------------------------------------------------------

    def begin(self, store_key: bytes, meta: StoredMeta, length: int | None) -> TeeWriter | None:
        """Writers for every tier that may take an object of this size."""
        blob = meta_codec.encode(meta)
        writers: list[Writer] = []
        if length is None or length <= self.memory_max_object:
            writers.append(self.memory.begin(store_key, blob, length))
        if self.disk is not None:
            writers.append(self.disk.begin(store_key, blob, length))
        return TeeWriter(writers) if writers else None

    @property
    def memory_max_object(self) -> int:
        return min(self.memory.capacity, PROMOTE_MAX * 4)

    def put_variants_record(self, key: bytes, meta: StoredMeta) -> None:
        """The primary key's record naming the Vary fields (no body)."""
        w = self.begin(key, meta, 0)
        if w is not None:
            w.commit()

    def update(self, obj: CachedObject, meta: StoredMeta) -> CachedObject:
        """Replace a stored object's meta after a 304 (§4.3.4); the body is unchanged."""
        blob = meta_codec.encode(meta)
        if obj.body is not None:
            self.memory.update_meta(obj.entry, blob)
        if self.disk is not None:
            disk_entry = self.disk.get(obj.store_key)
            if disk_entry is not None:
                self.disk.update_meta(disk_entry, blob)
                disk_entry.close()
        fresh = self.memory.get(obj.store_key)
        if fresh is not None and fresh.meta == blob:
            made = CachedObject(obj.store_key, meta, fresh)
            fresh.decoded = made
            return made
        return CachedObject(obj.store_key, meta, obj.entry)

    def add_encodings(self, store_key: bytes, meta: StoredMeta, body: bytes) -> None:
        """Store compressed copies of an identity response and name them in its meta."""
        self.store_encodings(store_key, meta, len(body), encode_all(body))

    def store_encodings(
        self, store_key: bytes, meta: StoredMeta, size: int, encoded: list[tuple[bytes, bytes]]
    ) -> None:
        """Store the copies `encode_all` made (on the loop's thread)."""
        made: list[bytes] = []
        for coding, data in encoded:
            if len(data) >= size * 0.95:
                continue  # not worth a copy
            fields = tuple(encoded_fields(meta.headers, coding))
            copy = replace(meta, headers=fields, length=len(data), variant=coding_variant(coding))
            writer = self.begin(
                variant_store_key(store_key, coding_variant(coding)), copy, len(data)
            )
            if writer is not None:
                writer.write(data)
                entry = writer.commit()
                if entry is not None:
                    entry.close()
                    made.append(coding)
        if not made:
            return
        identity = replace(meta, headers=tuple(identity_fields(meta.headers)), codings=tuple(made))
        blob = meta_codec.encode(identity)
        entry = self.memory.get(store_key)
        if entry is not None:
            self.memory.update_meta(entry, blob)
        if self.disk is not None:
            disk_entry = self.disk.get(store_key)
            if disk_entry is not None:
                self.disk.update_meta(disk_entry, blob)
                disk_entry.close()

    def remove(self, key: bytes) -> None:
        self.memory.remove(key)
        if self.disk is not None:
            self.disk.remove(key)

    # -- collapsing -------------------------------------------------------------------------

    def lock_fill(self, key: bytes) -> int:
        """Claim the right to fetch `key` among the worker processes sharing the disk tier:
        an advisory lock on one of `LOCK_STRIPES` files, held while the fill runs (released
        by `unlock_fill`, or by the kernel if the process dies). Returns the lock's fd,
        OTHER_PROCESS, or NO_LOCKS."""
        if self.disk is None:
            return NO_LOCKS
        stripe = zlib.crc32(key) % LOCK_STRIPES
        path = os.path.join(self.disk.root, "locks", f"{stripe:04x}")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return OTHER_PROCESS
        return fd

    @staticmethod
    def unlock_fill(fd: int) -> None:
        if fd >= 0:
            os.close(fd)  # closing the descriptor releases its flock

    def skip_collapsing(self, key: bytes, now: float) -> bool:
        until = self.hit_for_miss.get(key)
        if until is None:
            return False
        if now < until:
            return True
        del self.hit_for_miss[key]
        return False

    def remember_uncacheable(self, key: bytes, now: float) -> None:
        if len(self.hit_for_miss) >= 65536:
            self.hit_for_miss.clear()
        self.hit_for_miss[key] = now + HIT_FOR_MISS_SECONDS

    # -- housekeeping -----------------------------------------------------------------------

    def tick(self) -> None:
        """About once a second: hand buffered hits to the disk manager, enforce the budget."""
        if self.disk is not None:
            self.disk.flush()
        if self.manager is not None:
            self.manager.run_once()

    def close(self) -> None:
        if self.disk is not None:
            self.disk.close()
        if self.manager is not None:
            self.manager.close()


_PURGE_KINDS: Final = {
    "url": PurgeKind.URL,
    "prefix": PurgeKind.PREFIX,
    "host": PurgeKind.HOST,
    "tag": PurgeKind.TAG,
    "everything": PurgeKind.EVERYTHING,
}


def browser_fields(
    headers: list[tuple[bytes, bytes]], browser_ttl: int | None
) -> list[tuple[bytes, bytes]]:
    """The fields a visitor gets under the zone's browser TTL: Cache-Control lengthened to
    at least that max-age where the origin allows (`policy.client_cache_control`)."""
    if browser_ttl is None:
        return headers
    values = [v for n, v in headers if n.lower() == b"cache-control"]
    replaced = client_cache_control(values, browser_ttl=browser_ttl)
    if replaced is None:
        return headers
    kept = [(n, v) for n, v in headers if n.lower() != b"cache-control"]
    kept.append((b"Cache-Control", replaced))
    return kept


def zone_key(zone_id: str, key: bytes) -> bytes:
    """A URL key (`veil.cache.keys`) as stored: within its zone."""
    return zone_id.encode() + b"\x00" + key


def encode_all(body: bytes) -> list[tuple[bytes, bytes]]:
    """`body` in every coding the edge serves (pure CPU work: safe in a worker thread)."""
    return [(coding, compress(coding, body)) for coding in DEFAULT_CODINGS]


def cache_dir(state_dir: os.PathLike[str] | str) -> str:
    return os.path.join(os.fspath(state_dir), "cache")
