"""One suite, both cache tiers: the memory store and the disk store behave alike (STYLE 9)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from veil.cache.disk import DiskStore
from veil.cache.disk_manager import DiskManager
from veil.cache.memory import MemoryStore
from veil.cache.store import Entry, Store

CAPACITY = 1024 * 1024
BIG = 300 * 1024  # past the disk tier's first read: its body is read through the fd


@dataclass
class Tier:
    store: Store
    settle: Callable[[], None]
    """Let budget enforcement catch up (the disk tier's manager step; nothing for memory)."""


def _memory(tmp_path: Path, capacity: int) -> Iterator[Tier]:
    yield Tier(MemoryStore(capacity, max_object_size=capacity), lambda: None)


def _disk(tmp_path: Path, capacity: int) -> Iterator[Tier]:
    store = DiskStore(tmp_path / "cache", capacity)
    manager = DiskManager(tmp_path / "cache", capacity)
    assert manager.start()

    def settle() -> None:
        store.flush()
        manager.run_once()

    yield Tier(store, settle)
    store.close()
    manager.close()


MakeTier = Callable[[int], Tier]


@pytest.fixture(params=["memory", "disk"])
def make_tier(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeTier]:
    """Builds the tier under test with a given capacity (at most one per test)."""
    factory = {"memory": _memory, "disk": _disk}[request.param]
    opened: list[Iterator[Tier]] = []

    def make(capacity: int = CAPACITY) -> Tier:
        gen = factory(tmp_path, capacity)
        opened.append(gen)
        return next(gen)

    yield make
    for gen in opened:
        next(gen, None)


@pytest.fixture
def tier(make_tier: MakeTier) -> Tier:
    return make_tier(CAPACITY)


def body_of(size: int, seed: int = 0) -> bytes:
    return bytes((i * 31 + seed) % 251 for i in range(size))


def put(store: Store, key: bytes, meta: bytes, body: bytes, chunk: int = 7000) -> Entry | None:
    writer = store.begin(key, meta, len(body))
    for at in range(0, len(body), chunk):
        writer.write(body[at : at + chunk])
    return writer.commit()


def stored(store: Store, key: bytes) -> tuple[bytes, bytes] | None:
    entry = store.get(key)
    if entry is None:
        return None
    with entry:
        assert entry.key == key and entry.length == len(entry.read())
        return entry.meta, entry.read()


@pytest.mark.parametrize("size", [0, 1, 1000, BIG])
def test_round_trip(tier: Tier, size: int) -> None:
    """What was committed comes back: key, meta, length and body, small and large."""
    body = body_of(size)
    entry = put(tier.store, b"https://a.test/x", b"meta-1", body)
    assert entry is not None and entry.length == size
    entry.close()
    assert stored(tier.store, b"https://a.test/x") == (b"meta-1", body)
    assert stored(tier.store, b"https://a.test/y") is None


def test_commit_without_expected_length(tier: Tier) -> None:
    """A body of unknown length (chunked from the origin) is stored with the length written."""
    writer = tier.store.begin(b"k", b"m", None)
    for part in (b"ab", b"", b"cdef"):
        writer.write(part)
    entry = writer.commit()
    assert entry is not None and entry.length == 6
    entry.close()
    assert stored(tier.store, b"k") == (b"m", b"abcdef")


def test_commit_returns_a_readable_entry(tier: Tier) -> None:
    """The entry `commit` returns serves the body it just stored."""
    body = body_of(BIG, 3)
    entry = put(tier.store, b"k", b"m", body)
    assert entry is not None
    with entry:
        assert entry.meta == b"m" and entry.read(5, 9) == body[5:9]


def test_replace(tier: Tier) -> None:
    """A second commit under one key replaces meta and body; the tier holds one object."""
    put(tier.store, b"k", b"old", body_of(BIG, 1))
    put(tier.store, b"k", b"new", b"short")
    tier.settle()
    assert stored(tier.store, b"k") == (b"new", b"short")
    assert len(tier.store) == 1


def test_remove(tier: Tier) -> None:
    """remove() drops the object and says whether there was one."""
    put(tier.store, b"k", b"m", b"body")
    put(tier.store, b"other", b"m", b"body")
    assert tier.store.remove(b"k") is True
    assert tier.store.remove(b"k") is False
    tier.settle()
    assert stored(tier.store, b"k") is None and stored(tier.store, b"other") is not None
    assert len(tier.store) == 1


def test_abort_leaves_nothing(tier: Tier) -> None:
    """An aborted write, or one left by an exception, stores nothing."""
    writer = tier.store.begin(b"k", b"m", 10)
    writer.write(b"12345")
    writer.abort()
    assert writer.commit() is None
    with pytest.raises(RuntimeError), tier.store.begin(b"j", b"m", None) as w:
        w.write(b"partial")
        raise RuntimeError("origin went away")
    tier.settle()
    assert stored(tier.store, b"k") is None and stored(tier.store, b"j") is None
    assert len(tier.store) == 0 and tier.store.used_bytes == 0


@pytest.mark.parametrize("written", [b"", b"short", b"much too long a body"])
def test_length_mismatch_is_refused(tier: Tier, written: bytes) -> None:
    """A body shorter or longer than announced is refused and the previous copy stays."""
    put(tier.store, b"k", b"old", b"0123456789")
    writer = tier.store.begin(b"k", b"new", 10)
    writer.write(written)
    assert writer.commit() is None
    assert stored(tier.store, b"k") == (b"old", b"0123456789")


def test_object_bigger_than_the_tier_is_refused(make_tier: MakeTier) -> None:
    """An object over the tier's limit is refused, announced or found out while streaming."""
    tier = make_tier(64 * 1024)
    writer = tier.store.begin(b"a", b"m", 65 * 1024)
    writer.write(b"x" * 1000)
    assert writer.commit() is None
    writer = tier.store.begin(b"b", b"m", None)
    for _ in range(70):
        writer.write(b"x" * 1024)
    assert writer.commit() is None
    assert stored(tier.store, b"a") is None and stored(tier.store, b"b") is None


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (0, None),
        (0, 1),
        (10, 20),
        (BIG - 5, None),
        (BIG - 5, BIG + 100),
        (7, 7),
        (9, 3),
        (BIG, None),
    ],
)
@pytest.mark.parametrize("size", [100, BIG])
def test_ranges(tier: Tier, size: int, start: int, end: int | None) -> None:
    """read(start, end) returns body[start:end], clamped to the body."""
    body = body_of(size, 5)
    put(tier.store, b"k", b"m", body)
    entry = tier.store.get(b"k")
    assert entry is not None
    with entry:
        assert entry.read(start, end) == body[start:end]


def revalidate(store: Store, key: bytes, meta: bytes) -> bool:
    """What the cache layer does on a 304: read the entry, store merged meta for it."""
    entry = store.get(key)
    assert entry is not None
    with entry:
        return store.update_meta(entry, meta)


def test_update_meta(tier: Tier) -> None:
    """update_meta replaces the meta (also when it grows a lot) and keeps the body."""
    body = body_of(BIG, 9)
    put(tier.store, b"k", b"m1", body)
    assert revalidate(tier.store, b"k", b"m2") is True
    assert stored(tier.store, b"k") == (b"m2", body)
    assert revalidate(tier.store, b"k", b"M" * 5000) is True
    assert stored(tier.store, b"k") == (b"M" * 5000, body)
    assert revalidate(tier.store, b"k", b"m3") is True
    assert stored(tier.store, b"k") == (b"m3", body)


def test_update_meta_refuses_a_replaced_or_removed_object(tier: Tier) -> None:
    """Meta derived from one response is never pasted onto another one's body."""
    put(tier.store, b"k", b"m1", b"first body")
    entry = tier.store.get(b"k")
    assert entry is not None
    with entry:
        put(tier.store, b"k", b"m2", b"second body")
        assert tier.store.update_meta(entry, b"m1-revalidated") is False
        assert stored(tier.store, b"k") == (b"m2", b"second body")
        tier.store.remove(b"k")
        assert tier.store.update_meta(entry, b"m1-revalidated") is False
    assert stored(tier.store, b"k") is None


def test_entry_outlives_replace_and_remove(tier: Tier) -> None:
    """An entry being served stays whole while the key is replaced and then removed."""
    body = body_of(BIG, 11)
    put(tier.store, b"k", b"m", body)
    entry = tier.store.get(b"k")
    assert entry is not None
    with entry:
        put(tier.store, b"k", b"m2", body_of(BIG, 12))
        tier.store.remove(b"k")
        tier.settle()
        assert entry.meta == b"m" and entry.read() == body


def test_budget_respected_after_many_inserts(make_tier: MakeTier) -> None:
    """Many inserts never leave the tier over its capacity; the newest objects stay."""
    tier = make_tier(256 * 1024)
    for i in range(300):
        put(tier.store, b"key-%d" % i, b"meta", body_of(4000, i))
        if i % 50 == 49:
            tier.settle()
    tier.settle()
    assert 0 < tier.store.used_bytes <= tier.store.capacity
    assert 20 < len(tier.store) < 300
    assert stored(tier.store, b"key-299") == (b"meta", body_of(4000, 299))
    assert stored(tier.store, b"key-0") is None


def test_hits_protect_an_object(make_tier: MakeTier) -> None:
    """A hit reaches the policy: an object read often outlives colder ones (LRU here)."""
    tier = make_tier(64 * 1024)
    for i in range(200):
        put(tier.store, b"key-%d" % i, b"meta", body_of(1000, i))
        assert stored(tier.store, b"key-0") is not None
        tier.settle()
    assert stored(tier.store, b"key-0") is not None
    assert stored(tier.store, b"key-1") is None
