"""Eviction bookkeeping: the LRU baseline."""

from __future__ import annotations

from veil.cache.eviction import LRU


def test_lru_drops_least_recently_used_first() -> None:
    """A hit protects a key; the oldest untouched key goes first."""
    lru: LRU[str] = LRU(30)
    assert lru.insert("a", 10) == []
    assert lru.insert("b", 10) == []
    assert lru.insert("c", 10) == []
    lru.access("a")
    assert lru.insert("d", 10) == ["b"]
    assert lru.used == 30 and "a" in lru and "b" not in lru


def test_lru_refuses_an_object_bigger_than_the_tier() -> None:
    """An object larger than the capacity is not stored and evicts nothing."""
    lru: LRU[str] = LRU(10)
    lru.insert("a", 5)
    assert lru.insert("big", 11) == ["big"]
    assert "a" in lru and lru.used == 5


def test_lru_replacing_a_key_counts_its_new_size() -> None:
    """Re-inserting a key replaces its size rather than adding to it."""
    lru: LRU[str] = LRU(100)
    lru.insert("a", 40)
    lru.insert("a", 60)
    assert lru.used == 60
    lru.remove("a")
    assert lru.used == 0
