"""The snapshot's abuse blocks: wire form, defaults for old snapshots, validation."""

from __future__ import annotations

from typing import Any

import pytest

from veil.snapshot import (
    AbuseBlock,
    SnapshotError,
    ZoneConfig,
    build_snapshot,
    snapshot_from_dict,
    snapshot_from_json,
    snapshot_to_dict,
    snapshot_to_json,
)

BLOCKS = (
    AbuseBlock(
        id="a1",
        kind="legal_block",
        targets=("https://site.test/x", "http://site.test/y?q=1"),
        countries=("DE", "FR"),
        effective_at=1_800_000_000.5,
        statement_url="https://veil.example/abuse/statements/a1",
    ),
    AbuseBlock(id="a2", kind="account_suspend"),
    AbuseBlock(id="a3", kind="phishing_interstitial", targets=("https://site.test/login",)),
)


def _doc(blocks: tuple[AbuseBlock, ...] = BLOCKS) -> dict[str, Any]:
    zone = ZoneConfig(id="z1", name="site.test", account_id="acc", abuse=blocks)
    snap = build_snapshot(version=3, created_at=1.0, zones={zone: {"site.test": ("127.0.0.1",)}})
    return snapshot_to_dict(snap)


def test_abuse_blocks_round_trip() -> None:
    """Every field of every block survives the JSON wire form."""
    snap = snapshot_from_json(snapshot_to_json(snapshot_from_dict(_doc())))
    assert snap.zones[0].abuse == BLOCKS


def test_old_snapshot_without_abuse_loads() -> None:
    """A snapshot written before the abuse desk has no `abuse` field: no blocks."""
    doc = _doc()
    del doc["zones"][0]["abuse"]
    assert snapshot_from_dict(doc).zones[0].abuse == ()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "cache_purge"}, "abuse kind"),
        ({"targets": []}, "needs at least one target"),
        ({"targets": ["ftp://site.test/x"]}, r"http\(s\) URLs"),
        ({"targets": "https://site.test/x"}, "list of strings"),
        ({"countries": ["de"]}, "alpha-2"),
        ({"countries": ["DEU"]}, "alpha-2"),
        ({"effective_at": "soon"}, "effective_at"),
        ({"id": None}, "'id'"),
        ({"statement_url": 5}, "statement_url"),
        ({"statement_url": "https://x.example/a\r\nSet-Cookie: a=b"}, "Link field"),
        ({"statement_url": "https://x.example/a>; rel=x"}, "Link field"),
        ({"statement_url": "javascript:alert(1)"}, "Link field"),
        ({"id": "a;b"}, "abuse id"),
        ({"id": ""}, "abuse id"),
    ],
)
def test_bad_abuse_entries_are_refused(change: dict[str, Any], message: str) -> None:
    """A malformed block fails the whole snapshot with a message naming the problem."""
    doc = _doc()
    doc["zones"][0]["abuse"][0].update(change)
    with pytest.raises(SnapshotError, match=message):
        snapshot_from_dict(doc)


def test_only_legal_blocks_are_geo_scoped() -> None:
    """Countries on an interstitial are refused (veil.abuse.actions.GEO_SCOPABLE)."""
    doc = _doc()
    doc["zones"][0]["abuse"][2]["countries"] = ["DE"]
    with pytest.raises(SnapshotError, match="cannot be scoped"):
        snapshot_from_dict(doc)
