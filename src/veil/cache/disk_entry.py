"""The disk tier's per-object handles: an entry being read and a record being written.

`DiskStore` (disk.py) hands them out; disk.py's docstring tells the whole story (temp file,
rename, fd lifetime).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import zlib
from types import TracebackType
from typing import TYPE_CHECKING, Self

from veil.cache import disk_format as fmt
from veil.cache.disk_journal import create_locked, temp_name
from veil.cache.store import Chunk, clamp

if TYPE_CHECKING:
    from veil.cache.disk import DiskStore

WRITE_BUFFER = 64 * 1024
_MAX_READS = 1 << 20
_MAX_WRITES = 1 << 20


class DiskEntry:
    """A committed record as read by `get`: meta, and the body as bytes or behind an open fd."""

    __slots__ = ("body", "body_offset", "fd", "key", "length", "meta", "version")

    def __init__(
        self, record: fmt.Record, meta: bytes, body: bytes | None, fd: int, offset: int
    ) -> None:
        self.key = record.key
        self.meta = meta
        self.length = record.body_len
        self.version = record.object_id
        self.body = body
        self.fd = fd
        self.body_offset = offset

    def read(self, start: int = 0, end: int | None = None) -> bytes:
        begin, stop = clamp(self.length, start, end)
        if self.body is not None:
            return self.body[begin:stop]
        if self.fd < 0:
            raise ValueError("read from a closed cache entry")
        parts: list[bytes] = []
        for _ in range(_MAX_READS):
            if begin >= stop:
                break
            part = os.pread(self.fd, stop - begin, self.body_offset + begin)
            if not part:
                raise OSError("cache record shorter than its header says")
            parts.append(part)
            begin += len(part)
        return b"".join(parts)

    def close(self) -> None:
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)

    def __del__(self) -> None:
        self.close()  # a safety net only: the edge closes entries when a response ends

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class DiskWriter:
    """Streams one record into a temp file; `commit` renames it into objects/."""

    def __init__(
        self,
        store: DiskStore,
        key: bytes,
        meta: bytes,
        expected: int | None,
        limit: int,
        object_id: int | None = None,
    ) -> None:
        self._store = store
        self._object_id = secrets.randbits(64) if object_id is None else object_id
        self._key = key
        self._meta = meta
        self._expected = expected
        self._limit = limit if expected is None else min(limit, expected)
        self._size = 0
        self._crc = 0
        self._buffer = bytearray()
        self._fd = -1
        self._temp = ""
        self._done = expected is not None and expected > limit
        if self._done:
            return
        self._slot_cap = fmt.slot_capacity(len(meta))
        self._offset = fmt.prefix_size(len(key), self._slot_cap)
        self._position = self._offset
        try:
            self._fd, self._temp = create_locked(store.tmp_dir, os.O_RDWR, temp_name)
            prefix = fmt.encode_prefix(key, meta, self._slot_cap)
            pwrite_all(self._fd, prefix, fmt.HEADER.size)
        except OSError:
            self.abort()

    def write(self, data: Chunk) -> None:
        if self._done:
            return
        self._size += len(data)
        if self._size > self._limit:
            self.abort()
            return
        self._crc = zlib.crc32(data, self._crc)
        self._buffer += data
        if len(self._buffer) >= WRITE_BUFFER:
            self._flush()

    def commit(self) -> DiskEntry | None:
        if self._done:
            return None
        self._flush()
        if self._done or (self._expected is not None and self._size != self._expected):
            self.abort()
            return None
        self._done = True
        try:
            header = fmt.encode_header(
                self._key, self._slot_cap, self._size, self._object_id, self._crc
            )
            pwrite_all(self._fd, header, 0)
            inode = self._store.publish(self._fd, self._temp, self._key)
        except OSError:
            self._discard()
            return None
        self._store.journal.insert(fmt.key_hash(self._key), self._position, inode)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        fd, self._fd = self._fd, -1
        record = fmt.Record(self._key, self._slot_cap, self._size, self._object_id, self._crc)
        return DiskEntry(record, self._meta, None, fd, self._offset)

    def abort(self) -> None:
        self._done = True
        self._buffer = bytearray()
        self._discard()

    def _flush(self) -> None:
        if not self._buffer or self._done:
            return
        try:
            pwrite_all(self._fd, self._buffer, self._position)
        except OSError:
            self.abort()  # e.g. a full disk: the object is simply not stored
            return
        self._position += len(self._buffer)
        self._buffer = bytearray()

    def _discard(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._temp)
            fd, self._fd = self._fd, -1
            os.close(fd)

    def __del__(self) -> None:
        self._discard()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort()


def pwrite_all(fd: int, data: bytes | bytearray, offset: int) -> None:
    """pwrite(2) until all of `data` is written (a short write is legal, if rare)."""
    view = memoryview(data)
    for _ in range(_MAX_WRITES):
        if not view:
            return
        written = os.pwrite(fd, view, offset)
        if written <= 0:
            break
        view = view[written:]
        offset += written
    raise OSError("cache record write made no progress")
