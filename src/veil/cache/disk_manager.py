"""The disk tier's cache manager: one per data dir, keeps the shared directory within budget.

Theory of operation. Worker processes write records and journal what they did
(disk_journal.py); they never evict. One process (worker 0, or a supervisor child) owns a
`DiskManager`, guarded by an flock on root/manager.lock so a second one refuses to start:

- `start()` takes the lock, notes how far each journal goes (the scan supersedes it), deletes
  temp files whose writer is gone, and scans objects/: invalid or misplaced records are
  deleted, valid ones are fed to the eviction policy oldest mtime first, and its victims are
  unlinked. Cost: one open + read of each record's first 4 KiB.
- `run_once()` (call it every ~100-200 ms) reads every journal's new lines in order, feeds
  them to the one policy instance, unlinks the victims it names, deletes journals and temp
  files nobody holds anymore, and publishes "<bytes> <objects>" in root/usage.

Bounds: right after a step the tier holds at most `capacity` bytes of committed records it
knows of. Between steps it can exceed that by what all workers commit in one step interval,
plus the temp files being written (each at most the store's max object size). A record whose
journal line was lost (its writer was killed between rename and append, or the disk was full)
is not counted until the next `start()` rescans; a record deleted between being journaled and
being evicted is counted until it is evicted (that errs on the side of less disk).

Records carry the file's inode number so that journals read out of order across processes do
not confuse generations of one key: a remove (or a victim) only applies to the inode that
was recorded, never to a newer file put in the same place.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable

from veil.cache import disk_format as fmt
from veil.cache.disk_journal import JournalReader, claim_orphan
from veil.cache.eviction import LRU
from veil.cache.store import PolicyFactory

SCAN_READ = 4096
_HEX = frozenset("0123456789abcdef")


class DiskManager:
    """Budget enforcement for one disk tier, from one process."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        capacity: int,
        *,
        policy: PolicyFactory[str] = LRU,
        monotonic: Callable[[], float] = time.monotonic,
        sweep_interval: float = 60.0,
    ) -> None:
        self.root = os.fspath(root)
        self._objects = os.path.join(self.root, "objects")
        self._tmp = os.path.join(self.root, "tmp")
        self._journal = os.path.join(self.root, "journal")
        self._policy = policy(capacity)
        self._monotonic = monotonic  # a Clock's .monotonic (veil.cache cannot import it)
        self._sweep_interval = sweep_interval
        self._next_sweep = 0.0
        self._files: dict[str, tuple[int, int]] = {}  # digest -> (size, inode)
        self._used = 0
        self._published: tuple[int, int] | None = None
        self._lock_fd = -1
        self._reader = JournalReader(self._journal)

    @property
    def capacity(self) -> int:
        return self._policy.capacity

    @property
    def used_bytes(self) -> int:
        return self._used

    def __len__(self) -> int:
        return len(self._files)

    def start(self) -> bool:
        """Become the manager and rebuild state from disk; False if another manager runs."""
        for directory in (self._objects, self._tmp, self._journal):
            os.makedirs(directory, exist_ok=True)
        fd = os.open(os.path.join(self.root, "manager.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        self._reader.skip_existing()
        self.sweep_temp()
        self._scan()
        self._next_sweep = self._monotonic() + self._sweep_interval
        self._publish()
        return True

    def close(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def run_once(self) -> int:
        """One step: apply new journal records, evict, clean up; the records applied."""
        applied = 0
        for fields in self._reader.read():
            applied += self._apply(fields)
        if self._monotonic() >= self._next_sweep:
            self.sweep_temp()
            self._next_sweep = self._monotonic() + self._sweep_interval
        self._publish()
        return applied

    def sweep_temp(self) -> int:
        """Delete temp files whose writer is gone (killed, or finished without cleaning)."""
        removed = 0
        for name in os.listdir(self._tmp):
            path = os.path.join(self._tmp, name)
            fd = claim_orphan(path)
            if fd is None:
                continue
            try:
                os.unlink(path)
                removed += 1
            except FileNotFoundError:
                pass
            finally:
                os.close(fd)
        return removed

    def _apply(self, fields: list[bytes]) -> int:
        try:
            op, digest = fields[0], fields[1].decode()
            if len(digest) != 64 or not _HEX.issuperset(digest):
                return 0
            if op == b"I" and len(fields) == 4:
                self._insert(digest, int(fields[2]), int(fields[3]))
            elif op == b"A" and len(fields) == 2:
                self._policy.access(digest)
            elif op == b"R" and len(fields) == 3:
                self._forget(digest, int(fields[2]))
            else:
                return 0
        except (IndexError, ValueError):
            return 0
        return 1

    def _insert(self, digest: str, size: int, inode: int) -> None:
        old = self._files.pop(digest, None)
        if old is not None:
            self._used -= old[0]
        victims = self._policy.insert(digest, size)
        self._files[digest] = (size, inode)
        self._used += size
        for victim in victims:
            self._evict(victim)

    def _forget(self, digest: str, inode: int) -> None:
        known = self._files.get(digest)
        if known is not None and known[1] == inode:
            del self._files[digest]
            self._used -= known[0]
            self._policy.remove(digest)

    def _evict(self, digest: str) -> None:
        known = self._files.pop(digest, None)
        if known is None:
            return
        self._used -= known[0]
        path = os.path.join(self._objects, fmt.relative_path(digest))
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path).st_ino == known[1]:
                os.unlink(path)

    def _scan(self) -> None:
        found: list[tuple[float, str, int, int]] = []
        for directory, _dirs, names in os.walk(self._objects):
            for name in names:
                path = os.path.join(directory, name)
                seen = _check_record(path, name)
                if seen is None:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
                else:
                    found.append((seen[0], name, seen[1], seen[2]))
        found.sort()
        for _mtime, digest, size, inode in found:
            self._insert(digest, size, inode)

    def _publish(self) -> None:
        state = (self._used, len(self._files))
        if state == self._published:
            return
        temp = os.path.join(self.root, "usage.new")
        with open(temp, "w") as f:
            f.write(f"{state[0]} {state[1]}\n")
        os.replace(temp, os.path.join(self.root, "usage"))
        self._published = state


def _check_record(path: str, name: str) -> tuple[float, int, int] | None:
    """(mtime, size, inode) of a valid record stored under its key's hash, else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        buf = os.pread(fd, SCAN_READ, 0)
        need = fmt.needed(buf)
        if need > len(buf):
            buf = os.pread(fd, need, 0)
        record = fmt.parse(buf)
        if record is None or record.file_size != st.st_size or fmt.key_hash(record.key) != name:
            return None
        if st.st_size <= SCAN_READ and not fmt.body_matches(record, buf[record.body_offset :]):
            return None
        return st.st_mtime, st.st_size, st.st_ino
    except OSError:
        return None
    finally:
        os.close(fd)
