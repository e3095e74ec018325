"""Appending to and reading the desk's hash-chained log (`abuse_log`, `veil.abuse.chain`).

Appends are serialised: on PostgreSQL by a transaction-scoped advisory lock, on SQLite by the
write transaction (`BEGIN IMMEDIATE`) every desk write runs in. The entry is linked to the
newest row read inside that lock, so two writers can never chain to the same predecessor (and
the unique `hash` column would refuse it if they did)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from veil.abuse.chain import GENESIS, ChainedEntry, entry_hash, verify
from veil.abuse.chain import VerifyResult as VerifyResult
from veil.control.store.models import AbuseLogEntry

_LOCK_KEY = 0x7665696C_6162  # "veil" "ab": the advisory lock of the abuse log


def append_log(*, session: Session, entry: Mapping[str, object]) -> AbuseLogEntry:
    """Chain `entry` after the newest row, in the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    session.flush()
    prev = session.scalars(
        select(AbuseLogEntry.hash).order_by(AbuseLogEntry.id.desc()).limit(1)
    ).first()
    prev_hash = prev or GENESIS
    row = AbuseLogEntry(
        entry=dict(entry), prev_hash=prev_hash, hash=entry_hash(prev_hash, dict(entry))
    )
    session.add(row)
    session.flush()
    return row


def read_log(*, session: Session) -> list[ChainedEntry]:
    """Every row, oldest first, as chain entries."""
    rows = session.scalars(select(AbuseLogEntry).order_by(AbuseLogEntry.id)).all()
    return [ChainedEntry(entry=row.entry, prev_hash=row.prev_hash, hash=row.hash) for row in rows]


def verify_log(*, session: Session, head: str | None = None) -> VerifyResult:
    """Recompute the chain; see `veil.abuse.chain.verify`."""
    return verify(read_log(session=session), head=head)
