"""The snapshot long-poll, edge status and the audit log."""

from __future__ import annotations

import asyncio
import time

from tests.control.harness import Api
from veil.snapshot import snapshot_from_dict


async def test_snapshot_contains_unpaused_proxied_hosts(api: Api) -> None:
    """Only proxied A/AAAA/CNAME names of unpaused zones, with origin settings and body limit."""
    zone = await api.zone("example.com")
    paused = await api.zone("paused.example")
    records = f"/zones/{zone['id']}/dns_records"
    await api.ok(
        "POST", records, json={"type": "A", "name": "@", "content": "8.8.8.8", "proxied": True}
    )
    await api.ok(
        "POST", records, json={"type": "A", "name": "@", "content": "8.8.4.4", "proxied": True}
    )
    await api.ok(
        "POST",
        records,
        json={"type": "CNAME", "name": "*.w", "content": "o.example.net", "proxied": True},
    )
    await api.ok("POST", records, json={"type": "A", "name": "dns-only", "content": "1.1.1.1"})
    await api.ok("POST", records, json={"type": "TXT", "name": "@", "content": "x"})
    await api.ok("PATCH", f"/zones/{zone['id']}/settings/origin", json={"value": {"port": 8080}})
    await api.ok("PATCH", f"/zones/{zone['id']}/settings/max_upload", json={"value": 2})
    await api.ok(
        "POST",
        f"/zones/{paused['id']}/dns_records",
        json={"type": "A", "name": "@", "content": "8.8.8.8", "proxied": True},
    )
    await api.ok("PATCH", f"/zones/{paused['id']}", json={"paused": True})
    async with api.as_token(api.edge_token) as edge:
        response = await edge.get("/veil/edge/snapshot")
    body = response.json()
    assert response.status_code == 200 and body["success"] is True
    snapshot = snapshot_from_dict(body["result"])
    status = await api.ok("GET", "/veil/status")
    assert snapshot.version == status["version"] > 0
    assert [z.name for z in snapshot.zones] == ["example.com"]
    route = snapshot.route_for("example.com")
    assert route is not None and route.addresses == ("8.8.4.4", "8.8.8.8")
    assert route.zone.origin.port == 8080 and route.zone.max_body_bytes == 2 * 1024 * 1024
    wild = snapshot.route_for("anything.w.example.com")
    assert wild is not None and wild.addresses == ("o.example.net",)
    assert snapshot.route_for("dns-only.example.com") is None
    assert snapshot.route_for("paused.example") is None


async def test_every_edge_visible_change_bumps_the_version(api: Api) -> None:
    """Zone, record and setting changes bump config_version; token/account changes do not."""

    async def version() -> int:
        status = await api.ok("GET", "/veil/status")
        return int(status["version"])

    start = await version()
    zone = await api.zone("example.com")
    assert await version() == start + 1
    record = await api.ok(
        "POST",
        f"/zones/{zone['id']}/dns_records",
        json={"type": "A", "name": "@", "content": "8.8.8.8", "proxied": True},
    )
    assert await version() == start + 2
    await api.ok(
        "PATCH", f"/zones/{zone['id']}/dns_records/{record['id']}", json={"proxied": False}
    )
    await api.ok("PATCH", f"/zones/{zone['id']}/settings/origin", json={"value": {"port": 81}})
    assert await version() == start + 4
    await api.token(["zone:read"])
    await api.ok("POST", "/accounts", json={"name": "A", "contact_email": "a@b.example"})
    assert await version() == start + 4
    failed = await api.client.post("/zones", json={"name": "example.com"})
    assert failed.status_code == 400 and await version() == start + 4


async def test_long_poll_returns_null_when_nothing_changes(api: Api) -> None:
    """after = current version and a short wait: 200 with result null after about `wait`."""
    async with api.as_token(api.edge_token) as edge:
        current = (await edge.get("/veil/edge/snapshot")).json()["result"]["version"]
        started = time.monotonic()
        response = await edge.get(
            "/veil/edge/snapshot", params={"after": current, "wait": 0.3, "node": "edge-a"}
        )
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "errors": [],
        "messages": [],
        "result": None,
        "result_info": None,
    }
    assert 0.25 <= elapsed < 2


async def test_long_poll_wakes_within_a_second_of_a_change(api: Api) -> None:
    """A change committed through the API wakes a waiting long-poll at once."""
    async with api.as_token(api.edge_token) as edge:
        current = (await edge.get("/veil/edge/snapshot")).json()["result"]["version"]

        async def poll() -> tuple[float, dict[str, object]]:
            response = await edge.get(
                "/veil/edge/snapshot", params={"after": current, "wait": 20, "node": "edge-a"}
            )
            return time.monotonic(), response.json()

        waiter = asyncio.create_task(poll())
        await asyncio.sleep(0.3)
        assert not waiter.done()
        changed_at = time.monotonic()
        await api.zone("wake.example")
        woke_at, body = await asyncio.wait_for(waiter, 5)
    assert woke_at - changed_at < 1.0
    result = body["result"]
    assert isinstance(result, dict) and result["version"] == current + 1
    assert [z["name"] for z in result["zones"]] == ["wake.example"]


async def test_long_poll_notices_changes_from_another_process(api: Api) -> None:
    """A version bumped behind the app's back (another control process) is seen by re-checking."""
    from veil.control.app import control_state
    from veil.control.store.db import open_database
    from veil.control.store.repo.version import bump_version

    state = control_state(api.app)
    async with api.as_token(api.edge_token) as edge:
        current = (await edge.get("/veil/edge/snapshot")).json()["result"]["version"]
        waiter = asyncio.create_task(
            edge.get("/veil/edge/snapshot", params={"after": current, "wait": 10})
        )
        await asyncio.sleep(0.2)
        other = open_database(state.settings.effective_database_url)  # no publisher: silent
        try:
            with other.write() as session:
                bump_version(session=session, now=state.now())
                session.commit()
        finally:
            other.dispose()
        started = time.monotonic()
        response = await asyncio.wait_for(waiter, 5)
    assert time.monotonic() - started < 1.5
    assert response.json()["result"]["version"] == current + 1


async def test_status_lists_polling_edges(api: Api) -> None:
    """Each polling node's applied version and last-seen time appear in /veil/status."""
    await api.zone("example.com")
    async with api.as_token(api.edge_token) as edge:
        await edge.get("/veil/edge/snapshot", params={"after": 0, "node": "edge-7"})
        status = await edge.get("/veil/status")
    result = status.json()["result"]
    assert result["zones"] == 1 and result["records"] == 0
    [node] = result["edges"]
    assert node["node"] == "edge-7" and node["version"] == 0 and node["lag"] == result["version"]


async def test_snapshot_parameters_are_validated(api: Api) -> None:
    """wait is 0..30 and node a short identifier; violations are 400 envelopes."""
    async with api.as_token(api.edge_token) as edge:
        assert (await edge.get("/veil/edge/snapshot", params={"wait": 31})).status_code == 400
        assert (await edge.get("/veil/edge/snapshot", params={"after": -1})).status_code == 400
        bad_node = await edge.get("/veil/edge/snapshot", params={"node": "a b"})
        assert bad_node.status_code == 400


async def test_audit_log_records_who_did_what(api: Api) -> None:
    """Every change is audited with actor, action, resource and before/after."""
    zone = await api.zone("audited.example")
    await api.ok("PATCH", f"/zones/{zone['id']}", json={"paused": True})
    entries = await api.ok("GET", "/veil/audit", params={"resource_id": zone["id"]})
    assert [e["action"] for e in entries] == ["zone.update", "zone.create"]
    update = entries[0]
    assert update["actor"]["name"] == "operator" and update["actor"]["id"]
    assert update["before"]["paused"] is False and update["after"]["paused"] is True
    everything = await api.ok("GET", "/veil/audit", params={"per_page": 100})
    assert {"account.create", "token.create", "token.rotate"} <= {e["action"] for e in everything}
