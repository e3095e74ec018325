"""Tier (a): the snapshot contract between control and edge."""

from __future__ import annotations

import pytest

from veil.snapshot import (
    CacheSettings,
    OriginSettings,
    Purge,
    Snapshot,
    SnapshotError,
    ZoneConfig,
    build_snapshot,
    snapshot_from_dict,
    snapshot_from_json,
    snapshot_to_dict,
    snapshot_to_json,
)

ZONE = ZoneConfig(
    id="z",
    name="a.test",
    account_id="acc",
    origin=OriginSettings(port=8080),
    cache=CacheSettings(level="cache_everything", edge_ttl=60, query="allow", query_allow=("q",)),
    purges=(
        Purge(version=2, kind="url", value="a.test/x", headers=(("accept-encoding", "gzip"),)),
        Purge(version=3, kind="tag", value="news", soft=True),
    ),
)


def _snap() -> Snapshot:
    return build_snapshot(
        version=3,
        created_at=1.0,
        zones={
            ZONE: {
                "a.test": ("192.0.2.1",),
                "*.a.test": ("origin.example",),
                "WWW.a.test.": ("192.0.2.2",),
            }
        },
    )


def test_round_trip() -> None:
    """to_json then from_json gives an equal snapshot."""
    snap = _snap()
    again = snapshot_from_json(snapshot_to_json(snap))
    assert snapshot_to_dict(again) == snapshot_to_dict(snap)


def test_cache_settings_and_purges_travel_and_default() -> None:
    """Cache settings and purges survive the wire; a snapshot without them gets defaults."""
    again = snapshot_from_json(snapshot_to_json(_snap()))
    assert again.zones[0].cache == ZONE.cache and again.zones[0].purges == ZONE.purges
    doc = snapshot_to_dict(_snap())
    del doc["zones"][0]["cache"], doc["zones"][0]["purges"]
    old = snapshot_from_dict(doc)
    assert old.zones[0].cache == CacheSettings() and old.zones[0].purges == ()


def test_routing_exact_wildcard_and_case() -> None:
    """Exact names win; wildcards cover deeper names; names are lower-cased."""
    snap = snapshot_from_json(snapshot_to_json(_snap()))

    def addresses(host: str) -> tuple[str, ...] | None:
        route = snap.route_for(host)
        return None if route is None else route.addresses

    assert addresses("a.test") == ("192.0.2.1",)
    assert addresses("www.a.test") == ("192.0.2.2",)
    assert addresses("x.y.a.test") == ("origin.example",)
    assert snap.route_for("b.test") is None
    route = snap.route_for("a.test")
    assert route is not None and route.zone.origin.port == 8080


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(format=99),
        lambda d: d.update(version="1"),
        lambda d: d["zones"][0]["origin"].update(scheme="ftp"),
        lambda d: d["zones"][0]["origin"].update(port=0),
        lambda d: d["zones"][0]["hosts"][0].update(addresses=[]),
        lambda d: d["zones"][0].update(max_body_bytes=True),
        lambda d: d.update(zones="x"),
        lambda d: d["zones"][0]["cache"].update(level="aggressive-ish"),
        lambda d: d["zones"][0]["cache"].update(edge_ttl=-1),
        lambda d: d["zones"][0]["cache"].update(query_allow="q"),
        lambda d: d["zones"][0]["purges"][0].update(kind="regex"),
        lambda d: d["zones"][0]["purges"][0].update(version="2"),
        lambda d: d["zones"][0]["purges"][1].update(soft="yes"),
    ],
)
def test_invalid_documents_are_refused(mutate: object) -> None:
    """A malformed snapshot raises SnapshotError, so the edge keeps its current one."""
    doc = snapshot_to_dict(_snap())
    mutate(doc)
    with pytest.raises(SnapshotError):
        snapshot_from_dict(doc)


def test_not_json() -> None:
    """Garbage bytes are a SnapshotError, not a crash."""
    with pytest.raises(SnapshotError):
        snapshot_from_json(b"{nope")
