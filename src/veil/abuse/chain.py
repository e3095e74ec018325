"""The abuse desk's audit log: append-only, hash-chained.

Theory of operation. Every entry is stored with the hash of the entry before it (`prev_hash`;
the first one links to `GENESIS`) and its own hash,

    hash = sha256( prev_hash || "\\n" || canonical_json(entry) )   (lowercase hex)

where canonical JSON is sorted keys, no whitespace, UTF-8 (not ASCII-escaped), no NaN or
Infinity. `verify` walks the rows in order, recomputing each link and each hash, and reports the
index of the first row that does not match, so any edit, deletion, insertion or reordering of
rows is found at (or, for a well-forged insertion, just after) the point where it was made.

What it protects against: changes to stored rows by anyone who does not also rewrite every row
after them — a mistaken UPDATE, a deleted row, a row restored from an old backup, a row spliced
in with a hand-edited hash.

What it does NOT protect against, on its own:
- Someone who can rewrite the whole log can recompute every hash from the changed row onwards
  and forge a chain that verifies. Only an anchor outside the log stops that: publish the head
  hash (the last row's `hash`) where the operator cannot quietly change it — Veil's
  transparency report should print it, with the row count and date — and pass a known head to
  `verify(…, head=…)`; a rewrite then no longer matches the published value.
- Truncation (rows cut off the end) leaves a valid shorter chain; again only a known head (or
  row count) reveals it.
- It says nothing about whether an entry was true when written; it proves only that what was
  written has not changed since. Nor does it hide anything: entries are plain, so the log must
  not hold what the reporter's disclosure rules withhold unless access to it is controlled.

Entries must be JSON values (str, int, float, bool, None, lists, string-keyed mappings);
timestamps go in as ISO 8601 strings. Pure: no I/O, no clock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64  # the predecessor of the first entry


def canonical(entry: Mapping[str, object]) -> bytes:
    """The canonical JSON bytes of an entry: sorted keys, no whitespace, UTF-8, finite numbers."""
    text = json.dumps(
        entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def entry_hash(prev_hash: str, entry: Mapping[str, object]) -> str:
    """sha256 hex over the predecessor's hash, a newline, and the entry's canonical JSON."""
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(entry)).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainedEntry:
    """One row of the log: the entry (a JSON object), its predecessor's hash, its own hash."""

    entry: Mapping[str, Any]
    prev_hash: str
    hash: str

    def to_record(self) -> dict[str, object]:
        """The row as a JSON object, for storage (e.g. one line of a JSON-lines file)."""
        return {"entry": dict(self.entry), "prev_hash": self.prev_hash, "hash": self.hash}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> ChainedEntry:
        """Read a stored row back; a row missing a field or of the wrong type is refused."""
        entry, prev_hash, own = record.get("entry"), record.get("prev_hash"), record.get("hash")
        if not isinstance(entry, Mapping):
            raise ValueError("a log row needs `entry`, a JSON object")
        if not (isinstance(prev_hash, str) and isinstance(own, str)):
            raise ValueError("a log row needs `prev_hash` and `hash`, strings")
        return cls(entry, prev_hash, own)


def head(chain: Sequence[ChainedEntry]) -> str:
    """The hash to publish: the last row's hash, or GENESIS for an empty log."""
    return chain[-1].hash if chain else GENESIS


def append(chain: list[ChainedEntry], entry: Mapping[str, object]) -> ChainedEntry:
    """Link `entry` after the chain's head, add it to `chain`, and return the new row.

    The stored entry is a copy made from the canonical form, so later changes to the caller's
    mapping do not change the log.
    """
    frozen = json.loads(canonical(entry))
    prev = head(chain)
    row = ChainedEntry(frozen, prev, entry_hash(prev, frozen))
    chain.append(row)
    return row


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """ok, or the index of the first bad row and why ("link", "hash" or "head")."""

    ok: bool
    first_bad: int | None = None
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


def verify(entries: Sequence[ChainedEntry], *, head: str | None = None) -> VerifyResult:
    """Recompute every link and hash in order; report the first row that does not match.

    "link": the row's `prev_hash` is not the previous row's hash (a row deleted, inserted or
    moved before it). "hash": the row's hash does not match its contents (the row was edited).
    With `head` (a published head hash), a log whose last hash differs — rewritten or truncated
    — is bad at index `len(entries)`, the first row that should be there and is not.
    """
    expected_prev = GENESIS
    for index, row in enumerate(entries):
        if row.prev_hash != expected_prev:
            return VerifyResult(False, index, "link")
        try:
            recomputed = entry_hash(row.prev_hash, row.entry)
        except (TypeError, ValueError):
            return VerifyResult(False, index, "hash")
        if row.hash != recomputed:
            return VerifyResult(False, index, "hash")
        expected_prev = row.hash
    if head is not None and expected_prev != head:
        return VerifyResult(False, len(entries), "head")
    return VerifyResult(True)
