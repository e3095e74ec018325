"""The abuse desk's part of the snapshot: which zones are live (KYC) and their enforced actions.

Live zones. A zone goes live only when its account has a verified abuse contact
(`Account.contact_email_verified`): the desk must be able to reach the customer before their
site is served (issue 4's know-your-customer minimum). Others are left out of the snapshot,
exactly like paused zones; the API shows them as `status: "pending"`.

Enforced actions. `abuse_blocks` reads the `abuse_actions` of the snapshot's zones and
compiles those the edge must enforce (docs/abuse.md, "Enforcement at the edge"):

- `active` ones, from the epoch (`effective_at` 0: an edge whose clock is a little behind
  control's still enforces what control says is active);
- `pending` ones with their effective date: the edge enforces them from then on by itself
  (veil.abuse.actions.effective), so no job needs to publish at that instant;
- never `in_review`, `cancelled` or `removed` ones, nor `cache_purge` (carried by the purges).

An action with no `zone_id` covers every zone of its `account_id` (an `account_suspend`
normally; the targets of any other kind only match their own hosts anyway). A row the edge
could not parse is left out with an error in the log rather than failing the whole snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from urllib.parse import quote

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from veil.abuse.actions import Status
from veil.abuse.urls import normalise_url
from veil.control.store.models import AbuseAction, Account, Zone
from veil.snapshot import ABUSE_KINDS, AbuseBlock

log = logging.getLogger("veil.control.publish")
ENFORCED_STATUSES = (Status.ACTIVE.value, Status.PENDING.value)
STATEMENT_PATH = "/abuse/statements/"
URL_SAFE = "/?#[]@!$&'()*+,;=:%-._~"  # RFC 3986 reserved and unreserved characters


def live_zones(*, session: Session, zones: Sequence[Zone]) -> list[Zone]:
    """The zones whose account has a verified abuse contact (the others are not live)."""
    account_ids = {zone.account_id for zone in zones}
    verified = set(
        session.scalars(
            select(Account.id).where(
                Account.id.in_(list(account_ids)), Account.contact_email_verified.is_(True)
            )
        )
    )
    return [zone for zone in zones if zone.account_id in verified]


def statement_url(base: str, action_id: str) -> str:
    """The public statement page of an action (`{public_url}/abuse/statements/{id}`), escaped
    to what a `Link` field may carry (the snapshot refuses anything else)."""
    return quote(f"{base.rstrip('/')}{STATEMENT_PATH}{action_id}", safe=URL_SAFE)


def _block(row: AbuseAction, statement_base: str) -> AbuseBlock | None:
    """The snapshot entry of one action row, or None (logged) when it is malformed."""
    targets = tuple(t for t in row.targets or [] if isinstance(t, str))
    canonical = tuple(n.canonical for t in targets if (n := normalise_url(t)) is not None)
    countries = tuple(sorted({str(c).strip().upper() for c in row.countries or []}))
    malformed = (
        not (row.id.isascii() and row.id.isalnum())
        or len(canonical) != len(targets)
        or not all(len(c) == 2 and c.isascii() and c.isalpha() for c in countries)
        or (countries and row.type != "legal_block")
        or (not canonical and row.type != "account_suspend")
    )
    if malformed:
        log.error("abuse action %s is malformed and is not enforced at the edge", row.id)
        return None
    pending = row.status == Status.PENDING.value
    return AbuseBlock(
        id=row.id,
        kind=row.type,
        targets=canonical,
        countries=countries,
        effective_at=row.effective_on.timestamp() if pending else 0.0,
        statement_url=statement_url(statement_base, row.id)
        if statement_base.startswith(("http://", "https://"))
        else "",
    )


def abuse_blocks(
    *, session: Session, zones: Collection[Zone], statement_base: str
) -> dict[str, tuple[AbuseBlock, ...]]:
    """Zone id -> the actions the edge enforces there (zones without any are absent)."""
    zone_ids = [zone.id for zone in zones]
    account_ids = list({zone.account_id for zone in zones})
    rows = session.scalars(
        select(AbuseAction)
        .where(
            AbuseAction.status.in_(ENFORCED_STATUSES),
            AbuseAction.type.in_(ABUSE_KINDS),
            or_(
                AbuseAction.zone_id.in_(zone_ids),
                AbuseAction.zone_id.is_(None) & AbuseAction.account_id.in_(account_ids),
            ),
        )
        .order_by(AbuseAction.created_on, AbuseAction.id)
    ).all()
    by_zone: dict[str, list[AbuseBlock]] = {}
    for row in rows:
        block = _block(row, statement_base)
        if block is None:
            continue
        covered = (
            [row.zone_id]
            if row.zone_id is not None
            else [zone.id for zone in zones if zone.account_id == row.account_id]
        )
        for zone_id in covered:
            by_zone.setdefault(zone_id, []).append(block)
    return {zone_id: tuple(blocks) for zone_id, blocks in by_zone.items()}
