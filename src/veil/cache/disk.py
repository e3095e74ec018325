"""The disk tier: one directory shared by every worker process, one file per object.

Theory of operation.

    root/objects/ab/cd/<sha256 hex>   committed records (format: disk_format.py)
    root/tmp/<pid>-<rand>.part        records being written, each flock'ed by its writer
    root/journal/<pid>-<rand>.log     each process's journal for the manager (disk_journal.py)
    root/usage                        "<bytes> <objects>", published by the manager

Writing: `begin` creates a temp file and writes key and meta; `write` streams the body through
a 64 KiB buffer (a body is never held whole); `commit` checks the length, writes the header
last and renames the file into objects/. rename(2) is atomic, so a reader opens either the old
whole record, the new whole record, or nothing; a writer killed mid-way (kill -9) leaves a temp
file that the manager deletes once its flock is free. With `fsync=False` (the default) this
survives any process crash; after a power loss a renamed file may reach the disk before its
data: the reader's checks catch it in the header, key, meta and small bodies (all CRC-checked)
but not in a large body, whose CRC is not read on `get`. With `fsync=True` the temp file and
the directory are fsynced around the rename: the record survives power loss, at the cost of
one or two disk flushes per stored object.

Reading: `get` opens the file and reads its first 64 KiB, which holds header, key, meta and the
whole body of a small object (then the body is checked against its CRC, the fd closed and the
body handed over as bytes). A larger object's entry keeps the fd open: on POSIX an open fd keeps
the inode alive even if another process replaces, purges or evicts the file, so a response in
progress is never cut or mixed. The edge sends it with `os.sendfile(sock, entry.fd,
entry.body_offset + start, count)` or reads ranges with `entry.read`, then calls `close()`.

Budget: this class never evicts. It journals inserts, hits and removes; the one `DiskManager`
(disk_manager.py) feeds them to the eviction policy and unlinks victims.
"""

from __future__ import annotations

import contextlib
import fcntl
import os

from veil.cache import disk_format as fmt
from veil.cache.disk_entry import WRITE_BUFFER, DiskEntry, DiskWriter, pwrite_all
from veil.cache.disk_journal import JournalWriter
from veil.cache.store import Entry

__all__ = ["DiskEntry", "DiskStore", "DiskWriter", "read_usage"]

_MAX_READS = 1 << 20


class DiskStore:
    """One process's handle on the shared disk tier (create it after fork, one per process)."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        capacity: int,
        *,
        max_object_size: int | None = None,
        fsync: bool = False,
    ) -> None:
        self.root = os.fspath(root)
        self.objects_dir = os.path.join(self.root, "objects")
        self.tmp_dir = os.path.join(self.root, "tmp")
        for directory in (self.objects_dir, self.tmp_dir, os.path.join(self.root, "journal")):
            os.makedirs(directory, exist_ok=True)
        self._capacity = capacity
        self._max_object = capacity if max_object_size is None else min(max_object_size, capacity)
        self._fsync = fsync
        self.journal = JournalWriter(f"{self.root}/journal")

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def used_bytes(self) -> int:
        return read_usage(self.root)[0]

    def __len__(self) -> int:
        return read_usage(self.root)[1]

    def get(self, key: bytes) -> DiskEntry | None:
        digest = fmt.key_hash(key)
        path = f"{self.objects_dir}/{fmt.relative_path(digest)}"
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            entry = self._load(fd, key, digest, path)
        except OSError:
            entry = None
        if entry is None or entry.fd < 0:
            os.close(fd)
        if entry is not None:
            self.journal.access(digest)
        return entry

    def exists(self, key: bytes) -> bool:
        """Is a record stored under `key` (one stat; `get` validates it)?"""
        return os.path.exists(f"{self.objects_dir}/{fmt.relative_path(fmt.key_hash(key))}")

    def begin(self, key: bytes, meta: bytes, expected_length: int | None) -> DiskWriter:
        return DiskWriter(self, key, meta, expected_length, self._max_object)

    def update_meta(self, entry: Entry, meta: bytes) -> bool:
        """Write `meta` into the record's inactive slot in place (disk_format.py explains)."""
        digest = fmt.key_hash(entry.key)
        try:
            fd = os.open(
                f"{self.objects_dir}/{fmt.relative_path(digest)}", os.O_RDWR | os.O_CLOEXEC
            )
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            record = self._read_record(fd)
            if record is None or record.key != entry.key or record.object_id != entry.version:
                return False
            if len(meta) > record.slot_cap:
                return self._rewrite(fd, record, meta)
            slot = fmt.encode_slot(record.generation + 1, meta, record.slot_cap)
            pwrite_all(fd, slot, record.slot_offset(1 - record.active))
            if self._fsync:
                os.fsync(fd)
        except OSError:
            return False
        finally:
            os.close(fd)
        self.journal.access(digest)
        return True

    def remove(self, key: bytes) -> bool:
        digest = fmt.key_hash(key)
        path = f"{self.objects_dir}/{fmt.relative_path(digest)}"
        try:
            inode = os.stat(path).st_ino
            os.unlink(path)
        except FileNotFoundError:
            return False
        self.journal.remove(digest, inode)
        return True

    def flush(self) -> None:
        """Hand buffered hits to the manager; call it every few hundred ms."""
        self.journal.flush()

    def close(self) -> None:
        self.journal.close()

    def publish(self, fd: int, temp: str, key: bytes) -> int:
        """Rename a finished temp file into objects/; its inode number."""
        if self._fsync:
            os.fsync(fd)
        path = f"{self.objects_dir}/{fmt.relative_path(fmt.key_hash(key))}"
        try:
            os.replace(temp, path)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.replace(temp, path)
        if self._fsync:
            directory = os.open(os.path.dirname(path), os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        return os.fstat(fd).st_ino

    def _load(self, fd: int, key: bytes, digest: str, path: str) -> DiskEntry | None:
        """The entry in `fd`; None on a hash collision; a corrupt record is dropped."""
        for _ in range(2):  # a second look, in case a meta update was caught half-written
            buf = os.pread(fd, fmt.READ_AHEAD, 0)
            record = fmt.parse(buf) if len(buf) < fmt.READ_AHEAD else self._parse(fd, buf)
            if record is not None:
                break
        else:
            self._drop(fd, digest, path)
            return None
        if record.key != key:
            return None
        if len(buf) == record.file_size:  # the whole record came with one read
            body = buf[record.body_offset :]
            if fmt.body_matches(record, body):
                return DiskEntry(record, record.meta, body, -1, record.body_offset)
            self._drop(fd, digest, path)
            return None
        if len(buf) < fmt.READ_AHEAD or os.fstat(fd).st_size != record.file_size:
            self._drop(fd, digest, path)
            return None
        return DiskEntry(record, record.meta, None, fd, record.body_offset)

    def _parse(self, fd: int, buf: bytes) -> fmt.Record | None:
        """Parse a record whose header, key and meta may run past the first read."""
        need = fmt.needed(buf)
        if need > len(buf):
            buf = os.pread(fd, need, 0)
        return fmt.parse(buf)

    def _read_record(self, fd: int) -> fmt.Record | None:
        return self._parse(fd, os.pread(fd, fmt.READ_AHEAD, 0))

    def _drop(self, fd: int, digest: str, path: str) -> None:
        """Unlink a corrupt record (unless it was replaced meanwhile) and journal it."""
        inode = os.fstat(fd).st_ino
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path).st_ino == inode:
                os.unlink(path)
                self.journal.remove(digest, inode)

    def _rewrite(self, fd: int, record: fmt.Record, meta: bytes) -> bool:
        """Copy the body into a new record with a larger meta slot (meta outgrew its slot)."""
        writer = DiskWriter(
            self, record.key, meta, record.body_len, self._max_object, record.object_id
        )
        with writer:
            at = record.body_offset
            end = at + record.body_len
            for _ in range(_MAX_READS):
                if at >= end:
                    break
                chunk = os.pread(fd, min(WRITE_BUFFER * 16, end - at), at)
                if not chunk:
                    return False
                writer.write(chunk)
                at += len(chunk)
            entry = writer.commit()
        if entry is None:
            return False
        entry.close()
        return True


def read_usage(root: str) -> tuple[int, int]:
    """Bytes and objects in the disk tier as the manager last published them."""
    try:
        with open(f"{root}/usage", "rb") as f:
            used, count = f.read().split()
        return int(used), int(count)
    except (FileNotFoundError, ValueError):
        return 0, 0
