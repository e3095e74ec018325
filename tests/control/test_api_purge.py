"""POST /zones/{id}/purge_cache: storage, versions, compaction, validation, permissions."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tests.control.harness import Api, open_api
from veil.control.app import control_state
from veil.control.purges import PurgePolicy
from veil.snapshot import Purge, Snapshot, snapshot_from_dict


async def snapshot(api: Api) -> Snapshot:
    async with api.as_token(api.edge_token) as edge:
        response = await edge.get("/veil/edge/snapshot")
    return snapshot_from_dict(response.json()["result"])


async def purges(api: Api, zone_id: str) -> tuple[Purge, ...]:
    [config] = [z for z in (await snapshot(api)).zones if z.id == zone_id]
    return config.purges


async def purge(api: Api, zone_id: str, body: dict[str, object]) -> str:
    result = await api.ok("POST", f"/zones/{zone_id}/purge_cache", json=body)
    assert set(result) == {"id"} and len(result["id"]) == 32
    return str(result["id"])


async def test_each_purge_carries_the_version_that_first_carries_it(api: Api) -> None:
    """A purge request bumps the version once; the snapshot of that version holds its items
    with exactly that version, and every kind is stored normalised."""
    zone = await api.zone("example.com")
    zid = zone["id"]
    v0 = (await snapshot(api)).version
    await purge(api, zid, {"files": ["https://Example.com/a.css", "https://www.example.com/b"]})
    first = await snapshot(api)
    assert first.version == v0 + 1
    await purge(
        api,
        zid,
        {"files": [{"url": "https://example.com/v", "headers": {"Accept-Language": "de"}}]},
    )
    await purge(api, zid, {"prefixes": ["www.example.com/img"], "soft": True})
    await purge(api, zid, {"hosts": ["static.example.com"]})
    await purge(api, zid, {"tags": ["Product-7"]})
    assert await purges(api, zid) == (
        Purge(v0 + 1, "url", "https://example.com/a.css"),
        Purge(v0 + 1, "url", "https://www.example.com/b"),
        Purge(v0 + 2, "url", "https://example.com/v", headers=(("accept-language", "de"),)),
        Purge(v0 + 3, "prefix", "www.example.com/img", soft=True),
        Purge(v0 + 4, "host", "static.example.com"),
        Purge(v0 + 5, "tag", "Product-7"),
    )
    assert (await snapshot(api)).version == v0 + 5


async def test_purge_everything_supersedes_earlier_purges(api: Api) -> None:
    """After purge_everything the zone keeps only it (and what comes later)."""
    zone = await api.zone("example.com")
    other = await api.zone("other.example")
    zid = zone["id"]
    await purge(api, zid, {"tags": ["a", "b"]})
    await purge(api, other["id"], {"tags": ["kept"]})
    await purge(api, zid, {"purge_everything": True})
    version = (await snapshot(api)).version
    await purge(api, zid, {"hosts": ["example.com"]})
    assert await purges(api, zid) == (
        Purge(version, "everything"),
        Purge(version + 1, "host", "example.com"),
    )
    assert [p.value for p in await purges(api, other["id"])] == ["kept"]


async def test_over_the_cap_the_oldest_fold_into_everything(api: Api) -> None:
    """With max_per_zone 3, a fourth purge folds the two oldest into one everything purge
    carrying the newer of their versions."""
    state = control_state(api.app)
    api.app.state.veil = dataclasses.replace(state, purge_policy=PurgePolicy(max_per_zone=3))
    zone = await api.zone("example.com")
    zid = zone["id"]
    for tag in ("a", "b", "c", "d"):
        await purge(api, zid, {"tags": [tag]})
    v = (await snapshot(api)).version
    assert await purges(api, zid) == (
        Purge(v - 2, "everything"),
        Purge(v - 1, "tag", "c"),
        Purge(v, "tag", "d"),
    )


async def test_purges_survive_a_restart(db_url: str, tmp_path: Path) -> None:
    """Purges are rows: a new control on the same database serves them in its snapshot."""
    async with open_api(db_url, tmp_path / "one") as api:
        zone = await api.zone("example.com")
        await purge(api, zone["id"], {"files": ["https://example.com/gone"]})
        before = await purges(api, zone["id"])
    async with open_api(db_url, tmp_path / "two") as api:
        assert await purges(api, zone["id"]) == before


async def test_validation_errors_are_400_naming_the_item(api: Api) -> None:
    """Foreign hosts, schemes in prefixes, mixed members and over-long lists are refused."""
    zone = await api.zone("example.com")
    path = f"/zones/{zone['id']}/purge_cache"
    cases: list[tuple[dict[str, object], str]] = [
        (
            {"files": ["https://evil.example/x"]},
            "files[0]: evil.example is not in zone example.com",
        ),
        (
            {"prefixes": ["https://example.com/a"]},
            "prefixes[0]: 'https://example.com/a' has a scheme",
        ),
        ({"hosts": ["example.com", "x.other.test"]}, "hosts[1]: x.other.test is not in zone"),
        ({"tags": ["a"], "hosts": ["example.com"]}, "give exactly one of"),
        ({}, "give exactly one of"),
        ({"purge_everything": False}, "purge_everything: must be true"),
        ({"files": []}, "files: give 1 to 500 items"),
        ({"tags": ["t"] * 501}, "tags: List should have at most 500 items"),
        ({"files": [{"url": "https://example.com/", "headers": {"a b": "c"}}]}, "files[0].headers"),
        ({"files": [7]}, "files.0"),
    ]
    for body, message in cases:
        response = await api.client.post(path, json=body)
        answer = response.json()
        assert response.status_code == 400, (body, answer)
        assert answer["success"] is False and answer["errors"][0]["code"] == 1004
        assert answer["errors"][0]["message"].startswith(message), (body, answer)
    assert await purges(api, zone["id"]) == ()


async def test_purge_needs_cache_purge_and_the_zone_in_scope(api: Api) -> None:
    """zone:edit alone gets 403; a cache:purge token for another zone gets 404; a scoped
    cache:purge token works."""
    zone = await api.zone("example.com")
    other = await api.zone("other.example")
    path = f"/zones/{zone['id']}/purge_cache"
    body = {"purge_everything": True}
    async with api.as_token(await api.token(["zone:edit"])) as editor:
        denied = await editor.post(path, json=body)
        assert denied.status_code == 403 and denied.json()["errors"][0]["code"] == 9109
    async with api.as_token(await api.token(["cache:purge"], zones=[other["id"]])) as outsider:
        hidden = await outsider.post(path, json=body)
        assert hidden.status_code == 404 and hidden.json()["errors"][0]["code"] == 7003
    async with api.as_token(await api.token(["cache:purge"], zones=[zone["id"]])) as purger:
        allowed = await purger.post(path, json=body)
        assert allowed.status_code == 200 and allowed.json()["success"] is True
    assert [p.kind for p in await purges(api, zone["id"])] == ["everything"]


async def test_purge_is_audited(api: Api) -> None:
    """The audit log records cache.purge with the request id, version and items."""
    zone = await api.zone("example.com")
    request_id = await purge(api, zone["id"], {"tags": ["x"], "soft": True})
    [entry] = await api.ok("GET", "/veil/audit", params={"action": "cache.purge"})
    after = entry["after"]
    assert entry["resource"] == {"type": "zone", "id": zone["id"]}
    assert after["id"] == request_id and after["kind"] == "tag" and after["soft"] is True
    assert after["version"] == (await snapshot(api)).version
    assert after["items"] == [{"value": "x", "headers": []}]


async def test_a_waiting_long_poll_gets_the_purge_at_once(api: Api) -> None:
    """An edge long-polling with the current version is answered with the purge's snapshot."""
    import asyncio

    zone = await api.zone("example.com")
    version = (await snapshot(api)).version
    async with api.as_token(api.edge_token) as edge:
        poll = asyncio.create_task(
            edge.get("/veil/edge/snapshot", params={"after": version, "wait": 10})
        )
        await asyncio.sleep(0.1)
        await purge(api, zone["id"], {"hosts": ["example.com"]})
        response = await asyncio.wait_for(poll, 5)
    got = snapshot_from_dict(response.json()["result"])
    assert got.version == version + 1
    assert got.zones[0].purges == (Purge(version + 1, "host", "example.com"),)
