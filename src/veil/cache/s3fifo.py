"""S3-FIFO eviction, counted in bytes: Veil's default policy for a cache tier.

Theory of operation (Yang et al., "FIFO queues are all you need for cache eviction",
SOSP 2023), adapted from object counts to byte sizes:

- A new key enters the *small* FIFO, which gets 5% of the bytes (the paper's 10% is for
  object counts; in bytes, 5% measured better on the traces of `bench/cache_trace.py`).
  Most objects in a CDN trace are requested once ("one-hit wonders"); they leave from the
  small queue's old end quickly, without ever disturbing the main queue. Their keys (not
  their bytes) go to the *ghost* FIFO.
- A hit only bumps a 2-bit frequency counter (0..3) on the key: no list surgery, so the hot
  path stays a dict lookup and an add.
- When the small queue is over its share, its oldest key is moved to the *main* FIFO if it
  was hit while in the small queue, and dropped (ghosted) otherwise.
- When the main queue must give up bytes, its oldest key is re-inserted at the young end
  with its counter decremented if the counter is above zero ("lazy promotion", like CLOCK),
  and dropped otherwise. Every re-insertion spends one unit of a counter that only hits
  raise, so eviction is O(1) amortised.
- A miss on a key still in the ghost means the small queue evicted it too soon: it goes
  straight into the main queue. The ghost remembers keys whose sizes add up to at most
  half the capacity (and at most `ghost_entries` keys), oldest forgotten first; the newest
  key is always kept, so an object bigger than the budget can still come back. (The
  paper's ghost is as big as the main queue; in bytes, a smaller ghost measured better:
  it sends fewer lukewarm objects straight to the main queue.)
- An object bigger than the small queue's share would flush the whole small queue on
  its way through, so it is not admitted on first sight: its key goes to the ghost, and a
  second request while it is remembered stores it in the main queue.
- A key re-inserted while held (a refresh) keeps its queue and its counter, at its new size
  (unless it grew too big for the small queue it was in).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Final, Generic, TypeVar

K = TypeVar("K", bound=Hashable)

_MAX_FREQ: Final = 3


class _Entry:
    """One held key: its size, its hit counter and which queue holds it."""

    __slots__ = ("freq", "main", "size")

    def __init__(self, size: int, main: bool, freq: int = 0) -> None:
        self.size = size
        self.main = main
        self.freq = freq


class S3FIFO(Generic[K]):
    """Small FIFO + main FIFO with a 2-bit hit counter + ghost FIFO, sized in bytes."""

    __slots__ = (
        "_capacity",
        "_entries",
        "_ghost",
        "_ghost_budget",
        "_ghost_bytes",
        "_ghost_entries",
        "_main",
        "_main_used",
        "_small",
        "_small_target",
        "_small_used",
    )

    def __init__(
        self,
        capacity: int,
        *,
        small_ratio: float = 0.05,
        ghost_ratio: float = 0.5,
        ghost_entries: int = 1 << 16,
    ) -> None:
        if capacity < 0 or not 0.0 < small_ratio < 1.0 or ghost_ratio < 0 or ghost_entries < 0:
            raise ValueError("need capacity >= 0, 0 < small_ratio < 1, ghost_* >= 0")
        self._capacity = capacity
        self._small_target = int(capacity * small_ratio)
        self._ghost_budget = int(capacity * ghost_ratio)
        self._ghost_entries = ghost_entries
        self._entries: dict[K, _Entry] = {}
        self._small: OrderedDict[K, _Entry] = OrderedDict()
        self._main: OrderedDict[K, _Entry] = OrderedDict()
        self._ghost: OrderedDict[K, int] = OrderedDict()
        self._small_used = 0
        self._main_used = 0
        self._ghost_bytes = 0

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def used(self) -> int:
        return self._small_used + self._main_used

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def access(self, key: K) -> None:
        entry = self._entries.get(key)
        if entry is not None and entry.freq < _MAX_FREQ:
            entry.freq += 1

    def insert(self, key: K, size: int) -> list[K]:
        old = self._entries.get(key)
        if old is not None:
            self.remove(key)
        ghosted = self._ghost.pop(key, None)
        if ghosted is not None:
            self._ghost_bytes -= ghosted
        if size > self._capacity:
            return [key]
        if old is not None and (old.main or size <= self._small_target):
            entry = _Entry(size, old.main, old.freq)
        elif ghosted is not None:
            entry = _Entry(size, True)
        elif size > self._small_target:
            self._remember(key, size)
            return [key]
        else:
            entry = _Entry(size, False)
        self._entries[key] = entry
        if entry.main:
            self._main[key] = entry
            self._main_used += size
        else:
            self._small[key] = entry
            self._small_used += size
        if self._small_used + self._main_used <= self._capacity:
            return []
        return self._make_room()

    def remove(self, key: K) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            size = self._ghost.pop(key, None)
            if size is not None:
                self._ghost_bytes -= size
        elif entry.main:
            del self._main[key]
            self._main_used -= entry.size
        else:
            del self._small[key]
            self._small_used -= entry.size

    def _make_room(self) -> list[K]:
        victims: list[K] = []
        while self._small_used + self._main_used > self._capacity:
            if self._small_used > self._small_target or not self._main:
                self._evict_small(victims)
            else:
                self._evict_main(victims)
        return victims

    def _evict_small(self, victims: list[K]) -> None:
        key, entry = self._small.popitem(last=False)
        self._small_used -= entry.size
        if entry.freq > 0:
            entry.main = True
            entry.freq = 0
            self._main[key] = entry
            self._main_used += entry.size
        else:
            del self._entries[key]
            self._remember(key, entry.size)
            victims.append(key)

    def _evict_main(self, victims: list[K]) -> None:
        key, entry = self._main.popitem(last=False)
        if entry.freq > 0:
            entry.freq -= 1
            self._main[key] = entry
        else:
            self._main_used -= entry.size
            del self._entries[key]
            victims.append(key)

    def _remember(self, key: K, size: int) -> None:
        self._ghost[key] = size
        self._ghost_bytes += size
        ghost = self._ghost
        while len(ghost) > 1 and (
            self._ghost_bytes > self._ghost_budget or len(ghost) > self._ghost_entries
        ):
            _, old_size = ghost.popitem(last=False)
            self._ghost_bytes -= old_size
