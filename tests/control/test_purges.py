"""Purge request validation and compaction: pure functions, table-driven."""

from __future__ import annotations

import pytest

from veil.control.purges import (
    EVERYTHING,
    PurgeEntry,
    PurgeItem,
    PurgePolicy,
    PurgeRefused,
    compact,
    drop_superseded,
    purge_items,
)

ZONE = "example.com"
DAY = 86400.0


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"files": ["https://Example.COM/a?b=1"]}, [PurgeItem("url", "https://example.com/a?b=1")]),
        ({"files": ["http://www.example.com"]}, [PurgeItem("url", "http://www.example.com/")]),
        (
            {"files": ["https://example.com:8443/x"]},
            [PurgeItem("url", "https://example.com:8443/x")],
        ),
        (
            {"files": ["https://example.com/caf\u00e9"]},
            [PurgeItem("url", "https://example.com/caf%C3%A9")],
        ),
        (
            {"files": [("https://example.com/v", {"Accept-Language": " de "})]},
            [PurgeItem("url", "https://example.com/v", headers=(("accept-language", "de"),))],
        ),
        ({"prefixes": ["WWW.example.com/img"]}, [PurgeItem("prefix", "www.example.com/img")]),
        ({"prefixes": ["example.com"]}, [PurgeItem("prefix", "example.com")]),
        ({"hosts": ["Static.Example.com"]}, [PurgeItem("host", "static.example.com")]),
        ({"tags": [" product-7 ", "product-7"]}, [PurgeItem("tag", "product-7")]),
        ({"everything": True, "soft": True}, [PurgeItem(EVERYTHING, "", soft=True)]),
    ],
)
def test_purge_items_normalise(kwargs: dict[str, object], expected: list[PurgeItem]) -> None:
    """Valid members become normalised items (host lower-cased, non-ASCII percent-encoded)."""
    assert purge_items(zone_name=ZONE, **kwargs) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of"),
        ({"files": ["https://example.com/"], "tags": ["a"]}, "exactly one of"),
        ({"everything": True, "hosts": ["example.com"]}, "exactly one of"),
        ({"everything": False}, "purge_everything: must be true"),
        ({"files": []}, "files: give 1 to 500"),
        ({"tags": ["t"] * 501}, "tags: give 1 to 500"),
        (
            {"files": ["https://other.example/a"]},
            "files[0]: other.example is not in zone example.com",
        ),
        ({"files": ["https://notexample.com/a"]}, "not in zone"),
        ({"files": ["ftp://example.com/a"]}, "is not an http:// or https:// URL"),
        ({"files": ["example.com/a"]}, "is not an http:// or https:// URL"),
        ({"files": ["https://u:p@example.com/a"]}, "credentials"),
        ({"files": ["https://example.com/a b"]}, "no spaces"),
        ({"files": ["https://example.com:99999/"]}, "not a valid URL"),
        ({"files": [("https://example.com/", {"bad name": "x"})]}, "files[0].headers"),
        ({"files": [("https://example.com/", {"x": "a\nb"})]}, "line breaks"),
        ({"prefixes": ["https://example.com/a"]}, "has a scheme; write it as host/path"),
        ({"prefixes": ["example.com/a?x=1"]}, "query string"),
        ({"prefixes": ["other.example/a"]}, "prefixes[0]: other.example is not in zone"),
        ({"hosts": ["example.com", "evil.example"]}, "hosts[1]: evil.example is not in zone"),
        ({"hosts": ["bad_host!"]}, "not a valid host name"),
        ({"tags": [""]}, "tags[0]: a tag has 1 to 1024 bytes"),
        ({"tags": ["a,b"]}, "commas"),
        ({"tags": ["x" * 1025]}, "1 to 1024 bytes"),
    ],
)
def test_purge_items_refuse(kwargs: dict[str, object], message: str) -> None:
    """Invalid requests raise PurgeRefused naming the member and the reason."""
    with pytest.raises(PurgeRefused) as info:
        purge_items(zone_name=ZONE, **kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)


def entry(
    id: int, version: int, kind: str = "url", soft: bool = False, at: float = 0.0
) -> PurgeEntry:
    return PurgeEntry(id=id, version=version, kind=kind, soft=soft, created_at=at)


def test_hard_everything_supersedes_all_older_purges() -> None:
    """A hard everything at V drops every purge at a version <= V, soft or hard, and older
    everything purges; newer purges stay."""
    entries = [
        entry(1, 1),
        entry(2, 2, soft=True),
        entry(3, 3, EVERYTHING, soft=True),
        entry(4, 4, EVERYTHING),
        entry(5, 5),
    ]
    assert [e.id for e in drop_superseded(entries)] == [4, 5]


def test_soft_everything_supersedes_only_soft_purges() -> None:
    """A soft everything keeps older hard purges (they must still drop their objects)."""
    entries = [entry(1, 1), entry(2, 2, soft=True), entry(3, 3, EVERYTHING, soft=True)]
    assert [e.id for e in drop_superseded(entries)] == [1, 3]


def test_aged_purges_fold_into_one_everything_at_their_newest_version() -> None:
    """Purges older than the retention become one everything purge carrying their newest
    version (hard if any was hard), so nothing stored before them is ever served again."""
    policy = PurgePolicy(retention_seconds=7 * DAY)
    now = 100 * DAY
    entries = [entry(1, 10, at=now - 9 * DAY), entry(2, 11, soft=True, at=now - 8 * DAY)]
    entries.append(entry(3, 12, at=now - DAY))
    kept = compact(entries, now=now, policy=policy)
    assert kept == [
        PurgeEntry(id=None, version=11, kind=EVERYTHING, soft=False, created_at=now - 8 * DAY),
        entries[2],
    ]
    assert compact(
        [*kept[1:], PurgeEntry(7, 11, EVERYTHING, False, now - 8 * DAY)], now=now, policy=policy
    ) == [
        PurgeEntry(7, 11, EVERYTHING, False, now - 8 * DAY),
        entries[2],
    ]


def test_all_soft_aged_purges_fold_into_a_soft_everything() -> None:
    """Soft purges only ever mark stale, so their fold is soft too."""
    now = 100 * DAY
    entries = [entry(1, 1, soft=True, at=0.0), entry(2, 2, "tag", soft=True, at=0.0)]
    [folded] = compact(entries, now=now, policy=PurgePolicy())
    assert (folded.kind, folded.version, folded.soft) == (EVERYTHING, 2, True)


def test_cap_folds_the_oldest_into_one_everything() -> None:
    """Above max_per_zone, the oldest purges become one everything at the newest dropped
    version; the count ends at the cap."""
    policy = PurgePolicy(max_per_zone=5)
    entries = [entry(i, i, at=1000.0) for i in range(1, 9)]
    kept = compact(entries, now=1000.0, policy=policy)
    assert len(kept) == 5
    assert kept[0] == PurgeEntry(None, 4, EVERYTHING, False, 1000.0)
    assert [e.id for e in kept[1:]] == [5, 6, 7, 8]


def test_compaction_never_purges_less() -> None:
    """Every dropped purge is covered by a kept hard everything at a version >= its own (or a
    soft one, when it was soft)."""
    policy = PurgePolicy(retention_seconds=10.0, max_per_zone=4)
    entries = [
        entry(i, i // 2 + 1, kind=("url", "tag", EVERYTHING)[i % 3], soft=i % 4 == 0, at=float(i))
        for i in range(1, 30)
    ]
    kept = compact(entries, now=35.0, policy=policy)
    assert len(kept) <= 4
    for gone in (e for e in entries if e not in kept):
        assert any(
            k.kind == EVERYTHING and k.version >= gone.version and (gone.soft or not k.soft)
            for k in kept
        ), gone
