"""Eviction policies behind one small interface, and plain LRU as the baseline.

A policy only does bookkeeping: it knows keys and their sizes in bytes, never the objects.
The store asks it what to drop and drops it. `insert` may refuse the new key itself (an
admission policy): then the key is among the victims it returns and must not be stored.
LRU is what nginx and Varnish use; `veil.cache.s3fifo` is Veil's default.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar

K = TypeVar("K", bound=Hashable)


class EvictionPolicy(Protocol[K]):
    """Capacity bookkeeping for one cache tier, in bytes."""

    @property
    def capacity(self) -> int: ...

    @property
    def used(self) -> int: ...

    def __contains__(self, key: object) -> bool: ...

    def insert(self, key: K, size: int) -> list[K]:
        """Account for a new (or replaced) key; return the keys to drop, maybe `key` itself."""
        ...

    def access(self, key: K) -> None:
        """Record a hit on a key the policy holds (unknown keys are ignored)."""
        ...

    def remove(self, key: K) -> None:
        """Forget a key dropped for another reason (purge, expiry, failed write)."""
        ...


class LRU(Generic[K]):
    """Least recently used: a hit moves a key to the young end, the old end is dropped."""

    __slots__ = ("_capacity", "_order", "_used")

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._used = 0
        self._order: OrderedDict[K, int] = OrderedDict()

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def used(self) -> int:
        return self._used

    def __contains__(self, key: object) -> bool:
        return key in self._order

    def insert(self, key: K, size: int) -> list[K]:
        self.remove(key)
        if size > self._capacity:
            return [key]
        self._order[key] = size
        self._used += size
        victims: list[K] = []
        while self._used > self._capacity:
            old, old_size = self._order.popitem(last=False)
            self._used -= old_size
            victims.append(old)
        return victims

    def access(self, key: K) -> None:
        if key in self._order:
            self._order.move_to_end(key)

    def remove(self, key: K) -> None:
        size = self._order.pop(key, None)
        if size is not None:
            self._used -= size
