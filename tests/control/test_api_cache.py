"""Zone cache settings through the API, and how they reach the snapshot."""

from __future__ import annotations

from typing import Any

from tests.control.harness import Api
from veil.control.app import control_state
from veil.snapshot import CacheSettings, Snapshot, snapshot_from_dict


async def snapshot(api: Api) -> Snapshot:
    async with api.as_token(api.edge_token) as edge:
        response = await edge.get("/veil/edge/snapshot")
    return snapshot_from_dict(response.json()["result"])


async def zone_cache(api: Api, zone_id: str) -> CacheSettings:
    [config] = [z for z in (await snapshot(api)).zones if z.id == zone_id]
    return config.cache


async def test_defaults_match_the_snapshot_defaults(api: Api) -> None:
    """An untouched zone reports standard, 0 TTLs, development mode off, the default key."""
    zone = await api.zone("example.com")
    base = f"/zones/{zone['id']}/settings"
    values = {s["id"]: s["value"] for s in await api.ok("GET", base)}
    assert values["cache_level"] == "standard"
    assert values["browser_cache_ttl"] == 0 and values["edge_cache_ttl"] == 0
    assert values["development_mode"] == "off"
    assert values["cache_key"] == {"query": "all", "query_allow": [], "headers": [], "cookies": []}
    dev = await api.ok("GET", f"{base}/development_mode")
    assert dev["time_remaining"] == 0 and dev["modified_on"] is None
    assert await zone_cache(api, zone["id"]) == CacheSettings()


async def test_cloudflare_levels_map_to_veil_levels(api: Api) -> None:
    """aggressive = standard, basic = standard without query string, simplified =
    ignore_query; the stored name is read back as written."""
    zone = await api.zone("example.com")
    path = f"/zones/{zone['id']}/settings/cache_level"
    expected = {
        "aggressive": ("standard", "all"),
        "basic": ("standard", "none"),
        "simplified": ("ignore_query", "all"),
        "bypass": ("bypass", "all"),
        "cache_everything": ("cache_everything", "all"),
        "ignore_query": ("ignore_query", "all"),
    }
    for name, (level, query) in expected.items():
        assert (await api.ok("PATCH", path, json={"value": name}))["value"] == name
        assert (await api.ok("GET", path))["value"] == name
        cache = await zone_cache(api, zone["id"])
        assert (cache.level, cache.query) == (level, query), name


async def test_ttls_zero_means_the_origin_decides(api: Api) -> None:
    """edge/browser TTLs reach the snapshot in seconds; 0 or null become None there."""
    zone = await api.zone("example.com")
    base = f"/zones/{zone['id']}/settings"
    assert (await api.ok("PATCH", f"{base}/edge_cache_ttl", json={"value": 7200}))["value"] == 7200
    await api.ok("PATCH", f"{base}/browser_cache_ttl", json={"value": 600})
    cache = await zone_cache(api, zone["id"])
    assert (cache.edge_ttl, cache.browser_ttl) == (7200, 600)
    assert (await api.ok("PATCH", f"{base}/edge_cache_ttl", json={"value": None}))["value"] == 0
    await api.ok("PATCH", f"{base}/browser_cache_ttl", json={"value": 0})
    cache = await zone_cache(api, zone["id"])
    assert (cache.edge_ttl, cache.browser_ttl) == (None, None)


async def test_development_mode_lasts_three_hours(api: Api) -> None:
    """`on` bypasses the cache for 3 h (the snapshot carries the end); `off` ends it."""
    zone = await api.zone("example.com")
    path = f"/zones/{zone['id']}/settings/development_mode"
    now = control_state(api.app).clock.now()
    on = await api.ok("PATCH", path, json={"value": "on"})
    assert on["value"] == "on" and 3 * 3600 - 5 <= on["time_remaining"] <= 3 * 3600
    until = (await zone_cache(api, zone["id"])).development_mode_until
    assert now + 3 * 3600 - 5 <= until <= now + 3 * 3600 + 5
    off = await api.ok("PATCH", path, json={"value": "off"})
    assert off == {**off, "value": "off", "time_remaining": 0}
    assert (await zone_cache(api, zone["id"])).development_mode_until == 0.0


async def test_cache_key_merges_and_reaches_the_snapshot(api: Api) -> None:
    """PATCH changes the given fields; headers are lower-cased, lists deduplicated."""
    zone = await api.zone("example.com")
    path = f"/zones/{zone['id']}/settings/cache_key"
    first = await api.ok(
        "PATCH",
        path,
        json={
            "value": {"query": "allow", "query_allow": ["id", "page", "id"], "headers": ["X-Tier"]}
        },
    )
    assert first["value"] == {
        "query": "allow",
        "query_allow": ["id", "page"],
        "headers": ["x-tier"],
        "cookies": [],
    }
    await api.ok("PATCH", path, json={"value": {"cookies": ["session_variant"]}})
    cache = await zone_cache(api, zone["id"])
    assert cache.query == "allow" and cache.query_allow == ("id", "page")
    assert cache.key_headers == ("x-tier",) and cache.key_cookies == ("session_variant",)
    sorted_ = await api.ok("PATCH", path, json={"value": {"query": "sorted"}})
    assert sorted_["value"]["query"] == "sorted" and sorted_["value"]["query_allow"] == []


async def test_validation_errors_are_400_with_clear_messages(api: Api) -> None:
    """Unknown levels, out-of-range TTLs and bad key fields answer 400 naming the field."""
    zone = await api.zone("example.com")
    base = f"/zones/{zone['id']}/settings"
    cases: list[tuple[str, Any, str]] = [
        ("cache_level", "turbo", "value: Input should be"),
        ("edge_cache_ttl", -1, "value: Input should be greater than or equal to 0"),
        ("browser_cache_ttl", 10**9, "value: Input should be less than or equal to 31536000"),
        ("development_mode", "maybe", "value: Input should be 'on' or 'off'"),
        ("cache_key", {"query": "allow"}, "value.query_allow: name at least one parameter"),
        ("cache_key", {"query_allow": ["a"]}, "value.query_allow: only used when query is allow"),
        ("cache_key", {"headers": ["bad header"]}, "value.headers: 'bad header' is not a valid"),
        ("cache_key", {"headers": ["Cookie"]}, "value.headers: key on single cookies"),
        ("cache_key", {"cookies": ["a=b"]}, "value.cookies:"),
        ("cache_key", {"query": "allow", "query_allow": ["a&b"]}, "value.query_allow:"),
    ]
    for setting, value, message in cases:
        response = await api.client.patch(f"{base}/{setting}", json={"value": value})
        body = response.json()
        assert response.status_code == 400, (setting, value, body)
        assert body["success"] is False and body["errors"][0]["code"] == 1004
        assert body["errors"][0]["message"].startswith(message), (setting, body)


async def test_reading_needs_zone_read_and_changing_zone_edit(api: Api) -> None:
    """zone:read reads but gets 403 on PATCH; a token for another zone gets 404."""
    zone = await api.zone("example.com")
    other = await api.zone("other.example")
    path = f"/zones/{zone['id']}/settings/cache_level"
    async with api.as_token(await api.token(["zone:read"])) as reader:
        assert (await reader.get(path)).status_code == 200
        denied = await reader.patch(path, json={"value": "bypass"})
        assert denied.status_code == 403 and denied.json()["errors"][0]["code"] == 9109
    async with api.as_token(await api.token(["zone:edit"], zones=[other["id"]])) as outsider:
        hidden = await outsider.patch(path, json={"value": "bypass"})
        assert hidden.status_code == 404 and hidden.json()["errors"][0]["code"] == 7003
    async with api.as_token(await api.token(["cache:purge"])) as purger:
        assert (await purger.get(path)).status_code == 403


async def test_every_change_is_audited_and_bumps_the_version(api: Api) -> None:
    """A setting change writes zone_setting.update with before/after and a new version."""
    zone = await api.zone("example.com")
    before = (await api.ok("GET", "/veil/status"))["version"]
    await api.ok("PATCH", f"/zones/{zone['id']}/settings/edge_cache_ttl", json={"value": 60})
    assert (await api.ok("GET", "/veil/status"))["version"] == before + 1
    [entry] = await api.ok(
        "GET", "/veil/audit", params={"resource_id": f"{zone['id']}/edge_cache_ttl"}
    )
    assert entry["action"] == "zone_setting.update"
    assert entry["before"]["value"] == 0 and entry["after"]["value"] == 60
