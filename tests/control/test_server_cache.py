"""A real control process: the official Cloudflare SDK purges and sets cache settings, and a
long-polling edge receives a purge's snapshot well within 100 ms."""

from __future__ import annotations

import signal
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cloudflare import Cloudflare

from tests.control.live import LiveControl, start_control
from tests.control.pg import require_pg, throwaway_schema, url_for_schema
from veil.snapshot import Purge, snapshot_from_dict

pytestmark = pytest.mark.slow
ROUNDS = 20


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveControl]:
    """One control process (SQLite) for the module."""
    control = start_control(tmp_path_factory.mktemp("live-cache"))
    yield control
    assert control.stop(signal.SIGINT) == 0


def sdk(live: LiveControl) -> Cloudflare:
    return Cloudflare(api_token=live.admin_token, base_url=f"{live.url}/client/v4", max_retries=0)


def edge_snapshot(live: LiveControl, **params: object) -> httpx.Response:
    return httpx.get(
        f"{live.url}/client/v4/veil/edge/snapshot",
        params=params,
        headers={"Authorization": f"Bearer {live.edge_token}"},
        timeout=40,
    )


def test_cloudflare_sdk_purges_every_kind(live: LiveControl) -> None:
    """client.cache.purge with files (plain and with headers), tags, prefixes, hosts and
    purge_everything: each answers an id and lands in the next snapshot."""
    client = sdk(live)
    try:
        account = next(a.id for a in client.accounts.list() if a.name == "default")
        zone = client.zones.create(account={"id": account}, name="purge-sdk.example")
        assert zone is not None
        calls = [
            {"files": ["https://purge-sdk.example/a.css"]},
            {"files": [{"url": "https://purge-sdk.example/v", "headers": {"Origin": "https://x"}}]},
            {"tags": ["t1", "t2"]},
            {"prefixes": ["www.purge-sdk.example/img"]},
            {"hosts": ["cdn.purge-sdk.example"]},
        ]
        ids = set()
        for kwargs in calls:
            result = client.cache.purge(zone_id=zone.id, **kwargs)  # type: ignore[arg-type]
            assert result is not None and len(result.id) == 32
            ids.add(result.id)
        assert len(ids) == len(calls)
        doc = edge_snapshot(live).json()["result"]
        [config] = [z for z in snapshot_from_dict(doc).zones if z.id == zone.id]
        assert [(p.kind, p.value) for p in config.purges] == [
            ("url", "https://purge-sdk.example/a.css"),
            ("url", "https://purge-sdk.example/v"),
            ("tag", "t1"),
            ("tag", "t2"),
            ("prefix", "www.purge-sdk.example/img"),
            ("host", "cdn.purge-sdk.example"),
        ]
        assert config.purges[1].headers == (("origin", "https://x"),)
        everything = client.cache.purge(zone_id=zone.id, purge_everything=True)
        assert everything is not None
        doc = edge_snapshot(live).json()["result"]
        [config] = [z for z in snapshot_from_dict(doc).zones if z.id == zone.id]
        assert config.purges == (Purge(doc["version"], "everything"),)
    finally:
        client.close()


def test_cloudflare_sdk_reads_and_edits_cache_settings(live: LiveControl) -> None:
    """zones.settings.edit/get for cache_level, browser_cache_ttl and development_mode."""
    client = sdk(live)
    try:
        account = next(a.id for a in client.accounts.list() if a.name == "default")
        zone = client.zones.create(account={"id": account}, name="settings-sdk.example")
        assert zone is not None
        level = client.zones.settings.edit(
            setting_id="cache_level", zone_id=zone.id, value="simplified"
        )
        assert level is not None and level.value == "simplified"
        ttl = client.zones.settings.edit(
            setting_id="browser_cache_ttl", zone_id=zone.id, value=14400
        )
        assert ttl is not None and ttl.value == 14400
        dev = client.zones.settings.edit(setting_id="development_mode", zone_id=zone.id, value="on")
        assert dev is not None and dev.value == "on"
        got = client.zones.settings.get(setting_id="cache_level", zone_id=zone.id)
        assert got is not None and got.value == "simplified"
        doc = edge_snapshot(live).json()["result"]
        [config] = [z for z in snapshot_from_dict(doc).zones if z.id == zone.id]
        assert config.cache.level == "ignore_query" and config.cache.browser_ttl == 14400
        assert config.cache.development_mode_until > time.time() + 3 * 3600 - 60
    finally:
        client.close()


def poll(live: LiveControl, after: int, answers: list[tuple[float, httpx.Response]]) -> None:
    """Long-poll like an edge; note when the answer arrived."""
    response = edge_snapshot(live, after=after, wait=25, node="latency")
    answers.append((time.perf_counter(), response))


def purge_to_poll_latencies(live: LiveControl, zone_name: str) -> list[float]:
    """Seconds from sending a purge to a waiting long-poll holding the snapshot with it."""
    headers = {"Authorization": f"Bearer {live.admin_token}"}
    api = f"{live.url}/client/v4"
    zone = httpx.post(f"{api}/zones", json={"name": zone_name}, headers=headers).json()["result"]
    latencies: list[float] = []
    with httpx.Client(headers=headers, timeout=10) as admin:
        for round_ in range(ROUNDS):
            version = edge_snapshot(live).json()["result"]["version"]
            answers: list[tuple[float, httpx.Response]] = []

            poller = threading.Thread(target=poll, args=(live, version, answers))
            poller.start()
            time.sleep(0.15)  # the poll is now waiting
            started = time.perf_counter()
            admin.post(f"{api}/zones/{zone['id']}/purge_cache", json={"tags": [f"r{round_}"]})
            poller.join(10)
            [(received, response)] = answers
            doc = response.json()["result"]
            assert doc["version"] == version + 1
            [config] = [z for z in doc["zones"] if z["id"] == zone["id"]]
            assert config["purges"][-1]["value"] == f"r{round_}"
            latencies.append(received - started)
    return latencies


def report(name: str, latencies: list[float]) -> None:
    ms = sorted(x * 1000 for x in latencies)
    print(
        f"\npurge -> long-poll snapshot ({name}, {len(ms)} rounds): median "
        f"{statistics.median(ms):.1f} ms, max {ms[-1]:.1f} ms"
    )
    assert statistics.median(ms) < 100


def test_purge_reaches_a_long_polling_edge_within_100_ms(live: LiveControl) -> None:
    """From the purge call to the waiting long-poll's answer: median well under 100 ms."""
    report("sqlite", purge_to_poll_latencies(live, "latency.example"))


def test_purge_latency_on_postgresql(tmp_path: Path) -> None:
    """The same measurement with control on PostgreSQL."""
    require_pg()
    with throwaway_schema("veil_latency") as schema:
        control = start_control(tmp_path / "pg", url_for_schema(schema))
        try:
            report("postgresql", purge_to_poll_latencies(control, "latency-pg.example"))
        finally:
            control.stop()
