"""S3-FIFO in bytes: the queue mechanics, and random operation sequences against a model."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from veil.cache.eviction import EvictionPolicy
from veil.cache.s3fifo import S3FIFO


def queues(policy: S3FIFO[str]) -> tuple[list[str], list[str], list[str]]:
    """The small, main and ghost queues' keys, oldest first (white-box, for mechanics)."""
    return list(policy._small), list(policy._main), list(policy._ghost)


def filled(*hit: str) -> S3FIFO[str]:
    """A 100-byte cache (small queue 20 bytes) holding k0..k9 at 10 bytes each, `hit` hit once."""
    policy: S3FIFO[str] = S3FIFO(100, small_ratio=0.2)
    for i in range(10):
        assert policy.insert(f"k{i}", 10) == []
    for key in hit:
        policy.access(key)
    return policy


def test_s3fifo_is_an_eviction_policy() -> None:
    """S3FIFO satisfies the EvictionPolicy protocol the stores code against."""
    policy: EvictionPolicy[str] = S3FIFO(10)
    assert policy.capacity == 10 and policy.used == 0 and "a" not in policy


def test_nothing_is_evicted_until_the_cache_is_full() -> None:
    """The small queue may run over its share while the tier as a whole has room."""
    policy = filled()
    assert policy.used == 100 and len(policy) == 10


def test_one_hit_wonders_leave_from_the_small_queue_into_the_ghost() -> None:
    """An unhit key is dropped from the small queue's old end and remembered in the ghost."""
    policy = filled()
    assert policy.insert("new", 10) == ["k0"]
    small, main, ghost = queues(policy)
    assert main == [] and ghost == ["k0"] and small[-1] == "new"


def test_a_key_hit_in_the_small_queue_is_promoted_to_main() -> None:
    """A key hit while in the small queue moves to main when it reaches the old end."""
    policy = filled("k0")
    assert policy.insert("new", 10) == ["k1"]
    _, main, ghost = queues(policy)
    assert main == ["k0"] and ghost == ["k1"]


def test_a_promoted_key_survives_a_flood_of_one_hit_wonders() -> None:
    """Scans of new keys churn the small queue only; main keeps its key (LRU would not)."""
    policy = filled("k0")
    for i in range(50):
        policy.insert(f"scan{i}", 10)
    assert "k0" in policy and policy.used <= 100


def test_a_ghost_hit_inserts_into_main() -> None:
    """A key missed again while in the ghost goes straight to main, and leaves the ghost."""
    policy = filled()
    policy.insert("new", 10)
    assert policy.insert("k0", 10) == ["k1"]
    _, main, ghost = queues(policy)
    assert main == ["k0"] and "k0" not in ghost
    for i in range(50):
        policy.insert(f"scan{i}", 10)
    assert "k0" in policy


def test_main_gives_hit_keys_another_round_and_drops_unhit_ones() -> None:
    """Main evicts its oldest unhit key; a hit key is re-queued with its counter spent."""
    policy: S3FIFO[str] = S3FIFO(40, small_ratio=0.25)
    for key in ("a", "b", "c"):
        policy.insert(key, 10)
        policy.access(key)
    policy.insert("d", 10)
    policy.insert("e", 10)  # small over 10 bytes: a, b, c move to main, d is ghosted
    assert queues(policy)[1] == ["a", "b", "c"]
    policy.access("a")
    policy.access("a")
    policy.access("c")
    assert policy.insert("d", 10) == ["b"]  # a ghost hit: main must make room, small is at 10
    assert queues(policy)[1] == ["c", "d", "a"]
    assert policy._entries["a"].freq == 1 and policy._entries["c"].freq == 1


def test_counters_saturate_at_three() -> None:
    """Four or more hits buy at most three extra rounds in main."""
    policy = filled()
    for _ in range(10):
        policy.access("k3")
    assert policy._entries["k3"].freq == 3


def test_an_object_bigger_than_the_small_queue_is_admitted_on_its_second_miss() -> None:
    """A large object is ghosted on first sight (no small-queue flush) and enters main next time."""
    policy = filled()
    assert policy.insert("big", 30) == ["big"]
    assert "big" not in policy and policy.used == 100 and queues(policy)[2] == ["big"]
    victims = policy.insert("big", 30)
    assert "big" in policy and queues(policy)[1] == ["big"] and len(victims) == 3


def test_an_object_bigger_than_the_tier_is_refused_and_evicts_nothing() -> None:
    """Bigger than the capacity: the key itself is the only victim."""
    policy = filled()
    assert policy.insert("huge", 101) == ["huge"]
    assert policy.used == 100 and len(policy) == 10


def test_a_ghost_entry_bigger_than_the_ghost_budget_is_still_remembered() -> None:
    """The newest ghost key is always kept, so an object over the budget can come back."""
    policy: S3FIFO[str] = S3FIFO(100, small_ratio=0.1, ghost_ratio=0.1)
    assert policy.insert("big", 50) == ["big"]
    assert policy.insert("big", 50) == [] and "big" in policy


@pytest.mark.parametrize(
    ("hit", "new_size", "used", "queue"),
    [
        ((), 5, 95, "small"),
        (("k0",), 5, 95, "main"),
    ],
)
def test_replacing_a_held_key_keeps_its_queue_at_the_new_size(
    hit: tuple[str, ...], new_size: int, used: int, queue: str
) -> None:
    """Re-inserting a held key (a refresh) re-counts its size and leaves it in its queue."""
    policy = filled(*hit)
    if hit:
        policy.insert("new", 10)  # k0 moves to main, k1 is ghosted
    assert policy.insert("k0", new_size) == []
    assert "k0" in policy and policy.used == used
    small, main, _ = queues(policy)
    assert ("k0" in main) == (queue == "main") and ("k0" in small) == (queue == "small")


def test_replacing_a_key_with_one_too_big_for_the_tier_drops_it() -> None:
    """A held key re-inserted over the capacity is returned as a victim and forgotten."""
    policy = filled()
    assert policy.insert("k5", 500) == ["k5"]
    assert "k5" not in policy and policy.used == 90


@pytest.mark.parametrize("where", ["small", "main", "ghost"])
def test_remove_forgets_a_key_in_any_queue(where: str) -> None:
    """remove() drops a key from the small queue, the main queue or the ghost."""
    policy = filled("k0")
    policy.insert("new", 10)  # k0 -> main, k1 -> ghost
    key = {"small": "k2", "main": "k0", "ghost": "k1"}[where]
    before = policy.used
    policy.remove(key)
    assert key not in policy and all(key not in q for q in queues(policy))
    assert policy.used == before - (0 if where == "ghost" else 10)
    policy.remove("never-seen")
    policy.insert(key, 10)
    assert key in queues(policy)[0]  # back as a new key: no ghost or main history left


def test_the_ghost_is_bounded_by_entries_and_bytes() -> None:
    """The ghost keeps at most ghost_entries keys, and sizes summing to its byte budget."""
    by_count: S3FIFO[int] = S3FIFO(100, ghost_entries=5)
    by_bytes: S3FIFO[int] = S3FIFO(100, ghost_ratio=0.3)
    for i in range(1000):
        by_count.insert(i, 1)
        by_bytes.insert(i, 10)
    assert len(by_count._ghost) == 5 and by_count._ghost_bytes == 5
    assert len(by_bytes._ghost) == 3 and by_bytes._ghost_bytes == 30


def test_bad_parameters_are_refused() -> None:
    """A negative capacity or a small share outside (0, 1) is a programming error."""
    for kwargs in ({"capacity": -1}, {"capacity": 10, "small_ratio": 1.0}):
        with pytest.raises(ValueError):
            S3FIFO(**kwargs)  # type: ignore[arg-type]


KEYS = st.sampled_from([f"k{i}" for i in range(12)])


class AgainstAModel(RuleBasedStateMachine):
    """Random insert/access/remove sequences; the model is the set of held keys and sizes."""

    def __init__(self) -> None:
        super().__init__()
        self.policy: S3FIFO[str] = S3FIFO(100, small_ratio=0.2, ghost_ratio=0.5, ghost_entries=4)
        self.held: dict[str, int] = {}

    @rule(key=KEYS, size=st.integers(0, 120))
    def insert(self, key: str, size: int) -> None:
        """Victims are distinct keys that were held (or the new key), and leave the model."""
        self.held.pop(key, None)
        self.held[key] = size
        victims = self.policy.insert(key, size)
        assert len(victims) == len(set(victims))
        for victim in victims:
            assert victim in self.held
            del self.held[victim]

    @rule(key=KEYS)
    def access(self, key: str) -> None:
        """A hit never changes what is held."""
        self.policy.access(key)

    @rule(key=KEYS)
    def remove(self, key: str) -> None:
        """remove() forgets exactly the one key."""
        self.policy.remove(key)
        self.held.pop(key, None)

    @invariant()
    def bookkeeping_matches_the_model(self) -> None:
        """used is the sum of held sizes, within capacity; membership matches the model."""
        policy = self.policy
        assert policy.used == sum(self.held.values()) <= policy.capacity
        assert {k for k in (f"k{i}" for i in range(12)) if k in policy} == set(self.held)
        small, main, ghost = queues(policy)
        assert sorted(small + main) == sorted(self.held)
        assert policy._small_used == sum(self.held[k] for k in small)
        assert len(ghost) <= 4 and not set(ghost) & set(self.held)
        assert policy._ghost_bytes == sum(policy._ghost.values())


AgainstAModel.TestCase.settings = settings(max_examples=300, stateful_step_count=60)
TestAgainstAModel = AgainstAModel.TestCase
