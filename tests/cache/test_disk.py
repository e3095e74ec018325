"""The disk tier alone: record format, crash safety, several processes, the manager's budget."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cache.support.disk_worker import REVALIDATED, body_for
from veil.cache import disk_format as fmt
from veil.cache.disk import DiskStore
from veil.cache.disk_journal import JournalReader, JournalWriter, create_locked
from veil.cache.disk_manager import DiskManager

from .test_store import revalidate

WORKER = Path(__file__).parent / "support" / "disk_worker.py"
CAPACITY = 64 * 1024 * 1024


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def store(root: Path) -> Iterator[DiskStore]:
    s = DiskStore(root, CAPACITY)
    yield s
    s.close()


def put(store: DiskStore, key: bytes, meta: bytes, body: bytes) -> None:
    writer = store.begin(key, meta, len(body))
    for at in range(0, len(body), 65536):
        writer.write(body[at : at + 65536])
    entry = writer.commit()
    assert entry is not None
    entry.close()


def record_path(root: Path, key: bytes) -> Path:
    return root / "objects" / fmt.relative_path(fmt.key_hash(key))


def object_files(root: Path) -> list[Path]:
    return [p for p in (root / "objects").rglob("*") if p.is_file()]


def run_worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(WORKER), *args], stdout=subprocess.PIPE, text=True)


def test_record_layout(store: DiskStore, root: Path) -> None:
    """A record sits at objects/ab/cd/<sha256>: header, key, two meta slots, then the body."""
    put(store, b"https://a.test/", b"the meta", b"the body")
    path = record_path(root, b"https://a.test/")
    assert path.parent.parent.name == fmt.key_hash(b"https://a.test/")[:2]
    data = path.read_bytes()
    magic, version, _flags, key_len, slot_cap, body_len, *_ids_crcs = fmt.HEADER.unpack_from(data)
    assert (magic, version, key_len, body_len) == (b"VEIL", 1, 15, 8)
    assert len(data) == fmt.prefix_size(key_len, slot_cap) + body_len
    assert data.endswith(b"the body")
    record = fmt.parse(data)
    assert record is not None and (record.key, record.meta) == (b"https://a.test/", b"the meta")


def test_small_object_comes_back_as_bytes_large_one_through_an_fd(store: DiskStore) -> None:
    """get() hands a small body over as bytes (fd closed) and keeps an fd for a large one."""
    put(store, b"small", b"m", b"x" * 1000)
    put(store, b"large", b"m", b"y" * 200_000)
    with store.get(b"small") as small, store.get(b"large") as large:  # type: ignore[union-attr]
        assert small.body == b"x" * 1000 and small.fd == -1
        assert large.body is None and large.fd >= 0
        assert os.pread(large.fd, 3, large.body_offset) == b"yyy"
    assert large.fd == -1


def test_restart_finds_committed_objects(root: Path) -> None:
    """A new store and a new manager over the same root find what was committed."""
    first = DiskStore(root, CAPACITY)
    put(first, b"a", b"ma", b"A" * 100_000)
    put(first, b"b", b"mb", b"B" * 10)
    first.close()
    second = DiskStore(root, CAPACITY)
    manager = DiskManager(root, CAPACITY)
    assert manager.start()
    with second.get(b"a") as a, second.get(b"b") as b:  # type: ignore[union-attr]
        assert (a.meta, a.read()) == (b"ma", b"A" * 100_000)
        assert (b.meta, b.read()) == (b"mb", b"B" * 10)
    assert len(manager) == 2 and len(second) == 2
    assert second.used_bytes == sum(p.stat().st_size for p in object_files(root))
    second.close()
    manager.close()


@pytest.mark.parametrize("old_version", [True, False])
def test_kill_9_mid_write_never_leaves_a_torn_object(root: Path, old_version: bool) -> None:
    """A writer killed mid-body leaves only a temp file: the key shows its old copy or nothing."""
    key = b"https://a.test/big"
    if old_version:
        setup = DiskStore(root, CAPACITY)
        put(setup, key, b"old", body_for(key, b"old", 300_000))
        setup.close()
    proc = run_worker("slow", str(root), key.decode(), str(8 * 1024 * 1024), "262144", "0.05")
    assert proc.stdout is not None
    for _ in range(4):  # the 4th line means at least 3 chunks (> 64 KiB each) reached the file
        assert proc.stdout.readline().startswith("wrote")
    temps = list((root / "tmp").iterdir())
    assert len(temps) == 1 and temps[0].stat().st_size > 3 * 262144
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(10) == -signal.SIGKILL
    proc.stdout.close()

    store = DiskStore(root, CAPACITY)
    entry = store.get(key)
    if old_version:
        assert entry is not None
        with entry:
            assert entry.meta == b"old" and entry.read() == body_for(key, b"old", 300_000)
    else:
        assert entry is None
    manager = DiskManager(root, CAPACITY)
    assert manager.start()
    assert list((root / "tmp").iterdir()) == []
    store.close()
    manager.close()


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x10
    path.write_bytes(bytes(data))


def _truncate(path: Path, size: int) -> None:
    with open(path, "r+b") as f:
        f.truncate(size)


CORRUPTIONS: dict[str, Callable[[Path, int], object]] = {
    "magic": lambda p, n: _flip(p, 0),
    "version": lambda p, n: _flip(p, 4),
    "body length": lambda p, n: _flip(p, 16),
    "key": lambda p, n: _flip(p, fmt.HEADER.size + 1),
    "meta": lambda p, n: _flip(p, fmt.HEADER.size + 3 + fmt.SLOT.size + 1),
    "small body": lambda p, n: _flip(p, p.stat().st_size - 1),
    "truncated": lambda p, n: _truncate(p, p.stat().st_size - 1),
    "extended": lambda p, n: p.write_bytes(p.read_bytes() + b"\0"),
    "empty": lambda p, n: _truncate(p, 0),
}


@pytest.mark.parametrize(
    ("damage", "size"),
    # a large body's CRC is not read on get (its length is): no "small body" case at 200 KB
    [(d, 100) for d in CORRUPTIONS] + [(d, 200_000) for d in CORRUPTIONS if d != "small body"],
)
def test_damaged_record_is_a_miss_and_is_removed(
    store: DiskStore, root: Path, damage: str, size: int
) -> None:
    """A bit flip or a wrong length anywhere the reader checks: a miss, and the file is gone."""
    put(store, b"key", b"meta", b"b" * size)
    path = record_path(root, b"key")
    CORRUPTIONS[damage](path, size)
    assert store.get(b"key") is None
    assert not path.exists()


def test_manager_start_drops_damaged_and_misplaced_records(store: DiskStore, root: Path) -> None:
    """The startup scan deletes invalid records, records under a wrong name and strays."""
    for key in (b"good", b"flipped", b"cut"):
        put(store, key, b"m", b"body " * 100)
    _flip(record_path(root, b"flipped"), 40)
    _truncate(record_path(root, b"cut"), 100)
    misplaced = root / "objects" / "00" / "00" / ("0" * 64)
    misplaced.parent.mkdir(parents=True)
    shutil.copy(record_path(root, b"good"), misplaced)
    manager = DiskManager(root, CAPACITY)
    assert manager.start()
    assert object_files(root) == [record_path(root, b"good")]
    assert len(manager) == 1
    manager.close()


def test_stored_key_must_match(store: DiskStore, root: Path) -> None:
    """A record found under another key's name (a hash collision) is not served for it."""
    put(store, b"a", b"m", b"body of a")
    target = record_path(root, b"b")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(record_path(root, b"a"), target)
    assert store.get(b"b") is None


def test_torn_meta_update_keeps_the_previous_meta(store: DiskStore, root: Path) -> None:
    """A meta update cut short by a crash leaves the last complete meta in force."""
    put(store, b"k", b"meta-1", b"body")
    assert revalidate(store, b"k", b"meta-2")  # goes to slot 1; slot 0 is next
    path = record_path(root, b"k")
    record = fmt.parse(path.read_bytes())
    assert record is not None and record.active == 1
    torn = fmt.encode_slot(record.generation + 1, b"meta-3", record.slot_cap)[: fmt.SLOT.size + 3]
    with open(path, "r+b") as f:
        f.seek(record.slot_offset(0))
        f.write(torn)
    with store.get(b"k") as entry:  # type: ignore[union-attr]
        assert (entry.meta, entry.read()) == (b"meta-2", b"body")
    assert revalidate(store, b"k", b"meta-3")
    with store.get(b"k") as entry:  # type: ignore[union-attr]
        assert entry.meta == b"meta-3"


def test_writer_streams_to_its_temp_file(store: DiskStore, root: Path) -> None:
    """A large body goes to disk as it is written, not at commit; abort removes it."""
    writer = store.begin(b"k", b"m", None)
    for _ in range(16):
        writer.write(b"z" * 65536)
    (temp,) = (root / "tmp").iterdir()
    assert temp.stat().st_size >= 15 * 65536
    writer.abort()
    assert list((root / "tmp").iterdir()) == []


def test_fsync_mode_round_trip(root: Path) -> None:
    """With fsync on, records are written, renamed and read back the same way."""
    store = DiskStore(root, CAPACITY, fsync=True)
    put(store, b"k", b"m", b"durable")
    assert revalidate(store, b"k", b"m2")
    with store.get(b"k") as entry:  # type: ignore[union-attr]
        assert (entry.meta, entry.read()) == (b"m2", b"durable")
    store.close()


def test_two_processes_write_and_read_the_same_keys(root: Path) -> None:
    """Two processes replacing and reading shared keys only ever read whole, matching objects."""
    DiskStore(root, CAPACITY).close()
    procs = [run_worker("mix", str(root), name, "40", "8") for name in ("p1", "p2")]
    outputs = [p.communicate(timeout=90)[0].split() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    for out in outputs:
        hits, foreign, bad = (int(out[i]) for i in (1, 3, 5))
        assert bad == 0 and hits > 0 and foreign > 0, out
    store = DiskStore(root, CAPACITY)
    for k in range(8):
        with store.get(b"shared-%d" % k) as entry:  # type: ignore[union-attr]
            assert entry.read() == body_for(
                entry.key, entry.meta.removesuffix(REVALIDATED), entry.length
            )
    store.close()


def test_manager_keeps_the_budget_for_several_writer_processes(root: Path) -> None:
    """Objects from three processes: the one manager keeps objects/ within its capacity."""
    capacity = 200 * 1024
    manager = DiskManager(root, capacity)
    assert manager.start()
    procs = [run_worker("fill", str(root), f"w{i}", "40", "8000") for i in range(3)]
    deadline = time.monotonic() + 60
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        manager.run_once()
        time.sleep(0.01)
    assert [p.communicate(timeout=10)[0] for p in procs] == ["filled 40\n"] * 3
    manager.run_once()
    on_disk = sum(p.stat().st_size for p in object_files(root))
    assert on_disk == manager.used_bytes <= capacity
    assert 10 < len(manager) < 120
    assert (root / "usage").read_text() == f"{manager.used_bytes} {len(manager)}\n"
    assert list((root / "journal").iterdir()) == [], "journals of exited writers are deleted"
    manager.close()


def test_manager_start_evicts_down_to_a_smaller_budget(store: DiskStore, root: Path) -> None:
    """Started over a fuller directory, the manager evicts the oldest records to fit."""
    for i in range(20):
        put(store, b"k%d" % i, b"m", b"v" * 10_000)
        os.utime(record_path(root, b"k%d" % i), (1_000_000 + i, 1_000_000 + i))
    manager = DiskManager(root, 60_000)
    assert manager.start()
    assert manager.used_bytes <= 60_000
    assert store.get(b"k0") is None
    with store.get(b"k19") as newest:  # type: ignore[union-attr]
        assert newest.length == 10_000
    manager.close()


def test_only_one_manager_per_directory(root: Path) -> None:
    """A second manager refuses to start while the first holds the lock."""
    first = DiskManager(root, CAPACITY)
    second = DiskManager(root, CAPACITY)
    assert first.start()
    assert not second.start()
    first.close()
    assert second.start()
    second.close()


def test_orphaned_temp_files_are_swept_while_live_ones_stay(store: DiskStore, root: Path) -> None:
    """The sweep deletes temp files nobody holds and leaves a writer's file alone."""
    (root / "tmp" / "123-dead.part").write_bytes(b"left by a killed writer")
    writer = store.begin(b"k", b"m", None)
    writer.write(b"in progress")
    manager = DiskManager(root, CAPACITY)
    assert manager.start()
    assert len(list((root / "tmp").iterdir())) == 1
    writer.write(b" and done")
    entry = writer.commit()
    assert entry is not None and entry.read() == b"in progress and done"
    entry.close()
    manager.close()


def test_journal_rotates_and_every_record_is_read_once(tmp_path: Path) -> None:
    """A writer's rotated journals are read to the end, in order, then deleted."""
    writer = JournalWriter(str(tmp_path), rotate_bytes=1000)
    reader = JournalReader(str(tmp_path))
    digests = [f"{i:064x}" for i in range(60)]
    for i, digest in enumerate(digests):
        writer.insert(digest, i, 1)
        if i == 30:
            assert [r[1].decode() for r in reader.read()] == digests[:31]
    seen = [r[1].decode() for r in reader.read()]
    assert seen == digests[31:]
    assert [p.name for p in tmp_path.iterdir()] == [os.path.basename(writer.path)]
    assert not writer.path.endswith("-00000001.log"), "the writer rotated"
    writer.close()
    assert list(reader.read()) == [] and list(tmp_path.iterdir()) == []


def test_journal_line_split_across_reads_is_read_whole(tmp_path: Path) -> None:
    """A line caught half-appended is held back until its end arrives."""
    fd, _path = create_locked(str(tmp_path), os.O_WRONLY | os.O_APPEND, lambda: "1-a-1.log")
    reader = JournalReader(str(tmp_path))
    os.write(fd, b"A " + b"a" * 30)
    assert list(reader.read()) == []
    os.write(fd, b"a" * 34 + b"\nR " + b"b" * 64 + b" 7\n")
    assert list(reader.read()) == [[b"A", b"a" * 64], [b"R", b"b" * 64, b"7"]]
    os.close(fd)
    assert list(reader.read()) == [] and list(tmp_path.iterdir()) == []


def test_remove_from_another_process_reaches_the_manager(root: Path) -> None:
    """A purge done by one worker frees its bytes in the manager's accounting."""
    manager = DiskManager(root, CAPACITY)
    assert manager.start()
    proc = run_worker("fill", str(root), "w", "3", "1000")
    assert proc.communicate(timeout=30)[0] == "filled 3\n"
    manager.run_once()
    assert len(manager) == 3
    purger = DiskStore(root, CAPACITY)
    assert purger.remove(b"w-1")
    purger.close()
    manager.run_once()
    assert len(manager) == 2 and manager.used_bytes == sum(
        p.stat().st_size for p in object_files(root)
    )
    manager.close()
