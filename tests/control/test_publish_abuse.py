"""The abuse desk's part of the snapshot on SQLite and PostgreSQL: enforced actions, KYC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tests.control.harness import Api
from veil.control.publish import compile_snapshot
from veil.control.store.db import open_database
from veil.control.store.models import AbuseAction, AbuseCase, Account, Zone, new_id
from veil.snapshot import AbuseBlock, snapshot_from_dict, snapshot_to_dict

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
BASE = "https://veil.example"


def _account(session: Session, *, verified: bool = True) -> Account:
    account = Account(
        id=new_id(),
        name="acct",
        contact_email="owner@example.com",
        contact_email_verified=verified,
        created_on=NOW,
    )
    session.add(account)
    return account


def _zone(session: Session, account: Account, name: str) -> Zone:
    zone = Zone(
        id=new_id(),
        name=name,
        account_id=account.id,
        status="active",
        paused=False,
        created_on=NOW,
        modified_on=NOW,
    )
    session.add(zone)
    return zone


def _case(session: Session, zone: Zone) -> AbuseCase:
    case = AbuseCase(
        id=new_id(),
        category="dmca",
        channel="api",
        source="ordinary",
        state="action_pending",
        validation="valid",
        problems=[],
        notice={},
        reporter_email="r@example.org",
        status_key="k",
        account_id=zone.account_id,
        zone_id=zone.id,
        received_on=NOW,
        deadline_on=NOW,
        modified_on=NOW,
    )
    session.add(case)
    session.flush()
    return case


def _action(session: Session, case: AbuseCase, **fields: Any) -> AbuseAction:
    row = AbuseAction(
        id=new_id(),
        case_id=case.id,
        account_id=case.account_id,
        zone_id=case.zone_id,
        type="legal_block",
        status="active",
        effective_on=NOW,
        targets=["https://shop.example/item"],
        countries=[],
        statement={},
        created_on=NOW,
        modified_on=NOW,
    )
    for key, value in fields.items():
        setattr(row, key, value)
    session.add(row)
    session.flush()
    return row


def test_compile_ships_active_and_pending_actions_only(db_url: str) -> None:
    """Active (from the epoch) and pending (with their date) ship; in_review, cancelled,
    removed and cache_purge do not; statement links point at the public statement page."""
    db = open_database(db_url)
    later = NOW + timedelta(days=2)
    with db.write() as session:
        account = _account(session)
        zone = _zone(session, account, "shop.example")
        session.flush()
        case = _case(session, zone)
        active = _action(session, case, targets=["HTTPS://Shop.Example:443/a/../item"])
        pending = _action(
            session, case, status="pending", effective_on=later, countries=["de", "FR"]
        )
        for status in ("in_review", "cancelled", "removed"):
            _action(session, case, status=status)
        _action(session, case, type="cache_purge")
        phish = _action(session, case, type="phishing_interstitial")
        session.commit()
    with db.read() as session:
        snap = compile_snapshot(session=session, created_at=0.0, statement_base=BASE + "/")
    db.dispose()
    assert set(snap.zones[0].abuse) == {
        AbuseBlock(
            id=active.id,
            kind="legal_block",
            targets=("https://shop.example/item",),
            effective_at=0.0,
            statement_url=f"{BASE}/abuse/statements/{active.id}",
        ),
        AbuseBlock(
            id=pending.id,
            kind="legal_block",
            targets=("https://shop.example/item",),
            countries=("DE", "FR"),
            effective_at=later.timestamp(),
            statement_url=f"{BASE}/abuse/statements/{pending.id}",
        ),
        AbuseBlock(
            id=phish.id,
            kind="phishing_interstitial",
            targets=("https://shop.example/item",),
            statement_url=f"{BASE}/abuse/statements/{phish.id}",
        ),
    }


def test_account_suspend_without_zone_covers_every_zone_of_the_account(db_url: str) -> None:
    """An account_suspend with no zone applies to all the account's zones, not to others'."""
    db = open_database(db_url)
    with db.write() as session:
        account = _account(session)
        other = _account(session)
        one, two = _zone(session, account, "one.example"), _zone(session, account, "two.example")
        third = _zone(session, other, "three.example")
        session.flush()
        case = _case(session, one)
        suspend = _action(session, case, type="account_suspend", zone_id=None, targets=[])
        session.commit()
        ids = {one.id, two.id, third.id}
    with db.read() as session:
        snap = compile_snapshot(session=session, created_at=0.0)
    db.dispose()
    by_zone = {z.name: z.abuse for z in snap.zones}
    assert len(ids) == 3 and by_zone["three.example"] == ()
    for name in ("one.example", "two.example"):
        assert [(b.id, b.kind, b.statement_url) for b in by_zone[name]] == [
            (suspend.id, "account_suspend", "")
        ]


def test_malformed_action_is_left_out_not_the_snapshot(db_url: str) -> None:
    """A row the edge could not parse (bad URL, bad country) is skipped; the rest ships."""
    db = open_database(db_url)
    with db.write() as session:
        zone = _zone(session, _account(session), "shop.example")
        session.flush()
        case = _case(session, zone)
        _action(session, case, targets=["ftp://shop.example/x"])
        _action(session, case, countries=["Germany"])
        good = _action(session, case)
        session.commit()
    with db.read() as session:
        snap = compile_snapshot(session=session, created_at=0.0)
    db.dispose()
    assert [b.id for b in snap.zones[0].abuse] == [good.id]


def test_zone_of_unverified_account_is_not_compiled(db_url: str) -> None:
    """KYC: a zone whose account's abuse contact is unverified is not in the snapshot."""
    db = open_database(db_url)
    with db.write() as session:
        _zone(session, _account(session, verified=False), "unverified.example")
        _zone(session, _account(session, verified=True), "verified.example")
        session.commit()
    with db.read() as session:
        snap = compile_snapshot(session=session, created_at=0.0)
    db.dispose()
    assert [z.name for z in snap.zones] == ["verified.example"]


async def _snapshot_zones(api: Api) -> list[str]:
    async with api.as_token(api.edge_token) as edge:
        body = (await edge.get("/veil/edge/snapshot")).json()
    return [z.name for z in snapshot_from_dict(body["result"]).zones]


async def test_zone_is_pending_until_the_account_contact_is_verified(api: Api) -> None:
    """API: a zone of an unverified account shows status pending and is not live; verifying
    the contact bumps the config version and puts it live (status active)."""
    account = await api.ok(
        "POST", "/accounts", json={"name": "Shop", "contact_email": "owner@shop.example"}
    )
    zone = await api.ok(
        "POST", "/zones", json={"name": "shop.example", "account": {"id": account["id"]}}
    )
    assert zone["status"] == "pending" and zone["activated_on"] is None
    assert zone["meta"] == {"pending_reason": "account_contact_unverified"}
    await api.ok(
        "POST",
        f"/zones/{zone['id']}/dns_records",
        json={"type": "A", "name": "@", "content": "8.8.8.8", "proxied": True},
    )
    assert "shop.example" not in await _snapshot_zones(api)
    pending = await api.ok("GET", "/zones", params={"status": "pending"})
    assert [z["name"] for z in pending] == ["shop.example"]
    before = (await api.ok("GET", "/veil/status"))["version"]
    await api.ok("PATCH", f"/accounts/{account['id']}", json={"contact_email_verified": True})
    assert (await api.ok("GET", "/veil/status"))["version"] == before + 1
    assert "shop.example" in await _snapshot_zones(api)
    shown = await api.ok("GET", f"/zones/{zone['id']}")
    assert shown["status"] == "active" and shown["meta"] == {}
    assert await api.ok("GET", "/zones", params={"status": "pending"}) == []


def test_statement_links_are_escaped_for_the_link_field(db_url: str) -> None:
    """An odd public URL is escaped (or dropped when not http(s)): the edge never refuses it."""
    db = open_database(db_url)
    with db.write() as session:
        zone = _zone(session, _account(session), "shop.example")
        session.flush()
        row = _action(session, _case(session, zone))
        session.commit()
    with db.read() as session:
        spaced = compile_snapshot(session=session, created_at=0.0, statement_base="https://x/a b")
    with db.read() as session:
        bare = compile_snapshot(session=session, created_at=0.0, statement_base="veil.example")
    db.dispose()
    assert spaced.zones[0].abuse[0].statement_url == f"https://x/a%20b/abuse/statements/{row.id}"
    assert bare.zones[0].abuse[0].statement_url == ""
    for snap in (spaced, bare):
        assert snapshot_from_dict(snapshot_to_dict(snap)) == snap
