"""The hash-chained audit log: canonical hashing, append, and tamper detection by index."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil.abuse.chain import (
    GENESIS,
    ChainedEntry,
    append,
    canonical,
    entry_hash,
    head,
    verify,
)

EVENTS = [
    {"event": "notice_received", "case": f"c{i}", "at": f"2025-06-0{i + 1}"} for i in range(5)
]


def build(entries: list[dict[str, object]]) -> list[ChainedEntry]:
    chain: list[ChainedEntry] = []
    for entry in entries:
        append(chain, entry)
    return chain


def test_canonical_form_is_sorted_compact_utf8() -> None:
    """Key order and spacing do not matter; non-ASCII text is UTF-8, not \\u-escaped."""
    assert canonical({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()
    assert entry_hash(GENESIS, {"b": 1, "a": 2}) == entry_hash(GENESIS, {"a": 2, "b": 1})


def test_entry_hash_is_sha256_of_prev_newline_canonical() -> None:
    """The hash is pinned: sha256 hex of the predecessor, a newline, and the canonical JSON."""
    expected = hashlib.sha256((GENESIS + '\n{"a":1}').encode()).hexdigest()
    assert entry_hash(GENESIS, {"a": 1}) == expected


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"x": float("nan")}, id="nan"),
        pytest.param({"x": object()}, id="not-json"),
    ],
)
def test_non_json_entries_are_refused(bad: dict[str, object]) -> None:
    """Only finite JSON values can be hashed canonically; anything else is refused."""
    with pytest.raises((TypeError, ValueError)):
        append([], bad)


def test_append_links_each_row_to_the_one_before() -> None:
    """The first row links to GENESIS, each later row to its predecessor's hash."""
    chain = build(EVENTS[:3])
    assert [r.prev_hash for r in chain] == [GENESIS, chain[0].hash, chain[1].hash]
    assert head(chain) == chain[-1].hash
    assert head([]) == GENESIS


def test_append_copies_the_entry() -> None:
    """Changing the caller's dict after appending does not change the log."""
    entry: dict[str, object] = {"event": "x", "tags": ["a"]}
    chain: list[ChainedEntry] = []
    append(chain, entry)
    entry["event"] = "y"
    assert chain[0].entry["event"] == "x"
    assert verify(chain).ok


def test_untouched_chain_verifies() -> None:
    """A chain built by append verifies, also against its own head."""
    chain = build(EVENTS)
    assert verify(chain).ok
    assert verify(chain, head=head(chain))
    assert verify([]).ok


def _edit(chain: list[ChainedEntry]) -> list[ChainedEntry]:
    chain[2] = replace(chain[2], entry={**chain[2].entry, "case": "c99"})
    return chain


def _edit_and_rehash(chain: list[ChainedEntry]) -> list[ChainedEntry]:
    entry = {**chain[2].entry, "case": "c99"}
    chain[2] = replace(chain[2], entry=entry, hash=entry_hash(chain[2].prev_hash, entry))
    return chain


def _delete(chain: list[ChainedEntry]) -> list[ChainedEntry]:
    del chain[2]
    return chain


def _delete_first(chain: list[ChainedEntry]) -> list[ChainedEntry]:
    del chain[0]
    return chain


def _swap(chain: list[ChainedEntry]) -> list[ChainedEntry]:
    chain[2], chain[3] = chain[3], chain[2]
    return chain


def _insert_naive(chain: list[ChainedEntry]) -> list[ChainedEntry]:
    chain.insert(2, ChainedEntry({"event": "forged"}, "f" * 64, "e" * 64))
    return chain


def _insert_forged(chain: list[ChainedEntry]) -> list[ChainedEntry]:
    entry = {"event": "forged"}
    prev = chain[1].hash
    chain.insert(2, ChainedEntry(entry, prev, entry_hash(prev, entry)))
    return chain


def _edit_prev(chain: list[ChainedEntry]) -> list[ChainedEntry]:
    chain[0] = replace(chain[0], prev_hash="1" * 64)
    return chain


@pytest.mark.parametrize(
    ("tamper", "index", "reason"),
    [
        pytest.param(_edit, 2, "hash", id="edit-one-field"),
        pytest.param(_edit_and_rehash, 3, "link", id="edit-and-rehash-row"),
        pytest.param(_delete, 2, "link", id="delete-middle-row"),
        pytest.param(_delete_first, 0, "link", id="delete-first-row"),
        pytest.param(_swap, 2, "link", id="swap-two-rows"),
        pytest.param(_insert_naive, 2, "link", id="insert-naive-row"),
        pytest.param(_insert_forged, 3, "link", id="insert-well-forged-row"),
        pytest.param(_edit_prev, 0, "link", id="first-row-not-from-genesis"),
    ],
)
def test_tampering_is_found_at_the_right_index(
    tamper: Callable[[list[ChainedEntry]], list[ChainedEntry]], index: int, reason: str
) -> None:
    """Each edit, deletion, insertion or reordering is reported at the first row it breaks."""
    result = verify(tamper(build(EVENTS)))
    assert not result.ok
    assert (result.first_bad, result.reason) == (index, reason)


def test_truncation_and_rewrite_are_found_only_with_a_published_head() -> None:
    """Cutting the tail or rewriting the whole chain verifies alone, but not against the head."""
    chain = build(EVENTS)
    published = head(chain)
    truncated = chain[:-1]
    assert verify(truncated).ok
    assert verify(truncated, head=published) == verify(truncated, head="0" * 63 + "1")
    assert verify(truncated, head=published).first_bad == 4
    rewritten = build([{**e, "case": "rewritten"} for e in EVENTS])
    assert verify(rewritten).ok
    result = verify(rewritten, head=published)
    assert (result.ok, result.first_bad, result.reason) == (False, 5, "head")


def test_records_round_trip() -> None:
    """A row stored as a JSON object reads back to an equal row that still verifies."""
    chain = build(EVENTS)
    back = [ChainedEntry.from_record(r.to_record()) for r in chain]
    assert back == chain
    assert verify(back).ok


@pytest.mark.parametrize(
    "record",
    [
        pytest.param({"prev_hash": GENESIS, "hash": GENESIS}, id="no-entry"),
        pytest.param({"entry": {}, "prev_hash": 1, "hash": GENESIS}, id="prev-not-str"),
        pytest.param({"entry": {}, "prev_hash": GENESIS}, id="no-hash"),
    ],
)
def test_malformed_records_are_refused(record: dict[str, object]) -> None:
    """A stored row missing a field, or with a field of the wrong type, is refused."""
    with pytest.raises(ValueError):
        ChainedEntry.from_record(record)


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10,
)
ENTRIES = st.lists(st.dictionaries(st.text(), JSON, max_size=5), max_size=12)


@given(ENTRIES)
def test_any_appended_entries_verify(entries: list[dict[str, object]]) -> None:
    """Whatever JSON objects are appended, the chain verifies and its head is the last hash."""
    chain = build(entries)
    assert verify(chain, head=head(chain)).ok
    assert len(chain) == len(entries)
