"""The disk tier's journal: how every worker tells the one cache manager what it did.

Each process appends one-line records to a journal file of its own,
journal/<pid>-<rand>-<seq>.log (seq counts the rotations of one writer):

    I <sha256 hex> <file size> <inode>\\n     an object was committed (inserted or replaced)
    A <sha256 hex>\\n                         a hit (buffered: written in batches)
    R <sha256 hex> <inode>\\n                 an object was removed (purge, corrupt record)

Inserts and removes are written at once (they follow a miss or a purge, which cost far more);
accesses collect in a list and go out in one write() when `ACCESS_BATCH` of them are pending or
when the owner calls `flush()` (the edge does from its twice-a-second sweeper). A write() of
whole lines to an O_APPEND file lands whole and in order on a local filesystem.

Ownership is an flock: a process holds LOCK_EX on its journal (and on each temp object file it
is writing) for as long as it uses it. The kernel drops the lock when the fd is closed or the
process dies, so "I can lock it" means "nobody will write to it again": the manager reads such a
journal to its end and deletes it, and deletes such a temp file. A process rotates its journal
past `ROTATE_BYTES` by opening the next one and closing the old one; the reader reads a writer's
files in seq order and moves on to the next only once the previous one is finished, so one
process's records are applied in the order it wrote them. `create_locked` closes the race
between creating a file and locking it: the cleaner unlinks only while holding the lock, and the
creator, once it holds the lock, checks the file still has a name.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Callable, Generator, Iterator

ACCESS_BATCH = 256
ROTATE_BYTES = 8 * 1024 * 1024
_READ_CHUNK = 1024 * 1024
_CREATE_TRIES = 8


def temp_name() -> str:
    return f"{os.getpid()}-{secrets.token_hex(8)}.part"


def create_locked(directory: str, flags: int, name: Callable[[], str]) -> tuple[int, str]:
    """A new file in `directory` named by `name()`, open with `flags`, held under LOCK_EX."""
    for _ in range(_CREATE_TRIES):
        path = f"{directory}/{name()}"
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink > 0:
            return fd, path
        os.close(fd)
    raise OSError(f"could not create a file in {directory}")


def claim_orphan(path: str) -> int | None:
    """An fd holding LOCK_EX on `path` if no live process holds it, else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


class JournalWriter:
    """This process's journal file."""

    def __init__(self, directory: str, rotate_bytes: int = ROTATE_BYTES) -> None:
        self._directory = directory
        self._rotate_bytes = rotate_bytes
        self._stem = f"{os.getpid()}-{secrets.token_hex(8)}"
        self._seq = 0
        self._fd, self.path = self._create()
        self._written = 0
        self._pending: list[str] = []

    def insert(self, digest: str, size: int, inode: int) -> None:
        self._write(f"I {digest} {size} {inode}\n")

    def remove(self, digest: str, inode: int) -> None:
        self._write(f"R {digest} {inode}\n")

    def access(self, digest: str) -> None:
        pending = self._pending
        pending.append(digest)
        if len(pending) >= ACCESS_BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the buffered accesses."""
        if self._pending:
            self._write("")

    def close(self) -> None:
        if self._fd >= 0:
            self.flush()
            os.close(self._fd)
            self._fd = -1

    def _write(self, line: str) -> None:
        if self._fd < 0:
            self._pending = []
            return
        if self._pending:
            line = "".join(f"A {d}\n" for d in self._pending) + line
            self._pending = []
        data = line.encode()
        try:
            os.write(self._fd, data)
        except OSError:
            return  # a full disk loses records; the manager's next start rescans objects/
        self._written += len(data)
        if self._written >= self._rotate_bytes:
            self._rotate()

    def _rotate(self) -> None:
        fd, path = self._create()
        os.close(self._fd)
        self._fd, self.path, self._written = fd, path, 0

    def _create(self) -> tuple[int, str]:
        return create_locked(self._directory, os.O_WRONLY | os.O_APPEND, self._next_name)

    def _next_name(self) -> str:
        self._seq += 1
        return f"{self._stem}-{self._seq:08d}.log"


class JournalReader:
    """The manager's side: tails every journal file and deletes those nobody writes anymore."""

    def __init__(self, directory: str) -> None:
        self._directory = directory
        self._offsets: dict[str, int] = {}
        self._carry: dict[str, bytes] = {}

    def skip_existing(self) -> None:
        """Start after what the journals hold now (a scan of objects/ supersedes it)."""
        for name in self._names():
            try:
                self._offsets[name] = os.stat(f"{self._directory}/{name}").st_size
            except FileNotFoundError:
                continue

    def read(self) -> Iterator[list[bytes]]:
        """Every complete new record, split on spaces, each writer's records in order."""
        writers: dict[str, list[str]] = {}
        for name in self._names():
            writers.setdefault(name.rsplit("-", 1)[0], []).append(name)
        for names in writers.values():
            for name in names:  # seq order; the next file only once this one is finished
                if not (yield from self._read_file(name)):
                    break

    def _names(self) -> list[str]:
        return sorted(n for n in os.listdir(self._directory) if n.endswith(".log"))

    def _read_file(self, name: str) -> Generator[list[bytes], None, bool]:
        """Yield the new records of one journal; True when it is finished (and deleted)."""
        path = f"{self._directory}/{name}"
        orphan = claim_orphan(path)
        try:
            fd = orphan if orphan is not None else os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            self._forget(name)
            return True
        try:
            offset = self._offsets.get(name, 0)
            data = self._carry.pop(name, b"")
            for _ in range(1 << 16):
                chunk = os.pread(fd, _READ_CHUNK, offset)
                if not chunk:
                    break
                offset += len(chunk)
                data += chunk
            self._offsets[name] = offset
            cut = data.rfind(b"\n") + 1
            if cut < len(data):
                self._carry[name] = data[cut:]
            for line in data[:cut].splitlines():
                yield line.split(b" ")
            if orphan is not None:
                os.unlink(path)
                self._forget(name)
        finally:
            os.close(fd)
        return orphan is not None

    def _forget(self, name: str) -> None:
        self._offsets.pop(name, None)
        self._carry.pop(name, None)
