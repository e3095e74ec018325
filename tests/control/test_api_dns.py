"""DNS records through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.control.harness import Api


@pytest.fixture
async def zone(api: Api) -> dict[str, Any]:
    return await api.zone("example.com")


async def test_record_crud(api: Api, zone: dict[str, Any]) -> None:
    """Create, get, patch, put, list and delete a record; names become FQDNs."""
    path = f"/zones/{zone['id']}/dns_records"
    record = await api.ok(
        "POST",
        path,
        json={"type": "A", "name": "WWW", "content": "8.8.8.8", "proxied": True, "ttl": 300},
    )
    assert record["name"] == "www.example.com" and record["ttl"] == 1
    assert record["proxied"] is True and record["proxiable"] is True
    assert record["zone_id"] == zone["id"] and record["zone_name"] == "example.com"
    assert await api.ok("GET", f"{path}/{record['id']}") == record
    patched = await api.ok("PATCH", f"{path}/{record['id']}", json={"content": "1.1.1.1"})
    assert patched["content"] == "1.1.1.1" and patched["name"] == "www.example.com"
    put = await api.ok(
        "PUT",
        f"{path}/{record['id']}",
        json={"type": "CNAME", "name": "www", "content": "origin.example.net", "ttl": 120},
    )
    assert put["type"] == "CNAME" and put["proxied"] is False and put["ttl"] == 120
    assert [r["id"] for r in await api.ok("GET", path)] == [record["id"]]
    assert await api.ok("DELETE", f"{path}/{record['id']}") == {"id": record["id"]}
    gone = await api.client.get(f"{path}/{record['id']}")
    assert gone.status_code == 404 and gone.json()["errors"][0]["code"] == 81044


async def test_record_filters(api: Api, zone: dict[str, Any]) -> None:
    """type, name, content and proxied filter the list."""
    path = f"/zones/{zone['id']}/dns_records"
    await api.ok(
        "POST", path, json={"type": "A", "name": "a", "content": "8.8.8.8", "proxied": True}
    )
    await api.ok("POST", path, json={"type": "A", "name": "b", "content": "8.8.4.4"})
    await api.ok("POST", path, json={"type": "TXT", "name": "a", "content": "hello"})
    await api.ok(
        "POST", path, json={"type": "MX", "name": "@", "content": "mx.example.net", "priority": 10}
    )
    assert len(await api.ok("GET", path, params={"type": "A"})) == 2
    assert len(await api.ok("GET", path, params={"name": "a.example.com"})) == 2
    assert len(await api.ok("GET", path, params={"content": "hello"})) == 1
    proxied = await api.ok("GET", path, params={"proxied": "true"})
    assert [r["name"] for r in proxied] == ["a.example.com"]
    mx = await api.ok("GET", path, params={"type": "MX"})
    assert mx[0]["priority"] == 10 and mx[0]["name"] == "example.com"
    paged = await api.client.get(path, params={"per_page": 2, "page": 2})
    assert paged.json()["result_info"]["total_count"] == 4


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"type": "A", "name": "x", "content": "::1"}, 1004),
        ({"type": "AAAA", "name": "x", "content": "1.2.3.4"}, 1004),
        ({"type": "CNAME", "name": "x", "content": "1.2.3.4"}, 1004),
        ({"type": "TXT", "name": "x", "content": "hi", "proxied": True}, 9004),
        ({"type": "A", "name": "x", "content": "127.0.0.1", "proxied": True}, 9021),
        ({"type": "A", "name": "x", "content": "169.254.169.254", "proxied": True}, 9021),
        ({"type": "CNAME", "name": "x", "content": "foo.localhost", "proxied": True}, 9021),
        ({"type": "A", "name": "x", "content": "8.8.8.8", "ttl": 5}, 1004),
        ({"type": "SPF", "name": "x", "content": "x"}, 1004),
        ({"type": "A", "name": "bad name", "content": "8.8.8.8"}, 1004),
    ],
)
async def test_invalid_records_are_400(
    api: Api, zone: dict[str, Any], body: dict[str, Any], code: int
) -> None:
    """Bad contents, unproxiable types and SSRF targets answer 400 with a code."""
    response = await api.client.post(f"/zones/{zone['id']}/dns_records", json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == code


async def test_ssrf_message_does_not_echo_internal_data(api: Api, zone: dict[str, Any]) -> None:
    """The refusal names the kind of range only."""
    response = await api.client.post(
        f"/zones/{zone['id']}/dns_records",
        json={"type": "A", "name": "x", "content": "10.20.30.40", "proxied": True},
    )
    message = response.json()["errors"][0]["message"]
    assert "private" in message and "10.20.30.40" not in message


async def test_edge_own_address_is_refused_even_with_private_allowed(tmp_path: Any) -> None:
    """--allow-private-origins never allows the edge's own listening addresses."""
    from tests.control.harness import open_api

    url = f"sqlite:///{tmp_path / 'v.db'}"
    async with open_api(
        url, tmp_path, allow_private_origins=True, edge_addresses=("192.0.2.10",)
    ) as api:
        zone = await api.zone("example.com")
        path = f"/zones/{zone['id']}/dns_records"
        ok = await api.client.post(
            path, json={"type": "A", "name": "a", "content": "10.0.0.5", "proxied": True}
        )
        assert ok.status_code == 200
        refused = await api.client.post(
            path, json={"type": "A", "name": "b", "content": "192.0.2.10", "proxied": True}
        )
        assert refused.status_code == 400
        assert "own addresses" in refused.json()["errors"][0]["message"]


async def test_cname_conflicts_and_duplicates(api: Api, zone: dict[str, Any]) -> None:
    """A CNAME shares its name with nothing; an identical record is refused."""
    path = f"/zones/{zone['id']}/dns_records"
    await api.ok("POST", path, json={"type": "A", "name": "www", "content": "8.8.8.8"})
    dup = await api.client.post(path, json={"type": "A", "name": "www", "content": "8.8.8.8"})
    assert dup.status_code == 400 and dup.json()["errors"][0]["code"] == 81058
    cname = await api.client.post(
        path, json={"type": "CNAME", "name": "www", "content": "x.example.net"}
    )
    assert cname.status_code == 400 and cname.json()["errors"][0]["code"] == 81053
    second = await api.client.post(path, json={"type": "A", "name": "www", "content": "8.8.4.4"})
    assert second.status_code == 200


async def test_record_of_another_zone_is_404(api: Api, zone: dict[str, Any]) -> None:
    """A record id is only found under its own zone."""
    other = await api.zone("other.example")
    record = await api.ok(
        "POST",
        f"/zones/{zone['id']}/dns_records",
        json={"type": "A", "name": "www", "content": "8.8.8.8"},
    )
    response = await api.client.get(f"/zones/{other['id']}/dns_records/{record['id']}")
    assert response.status_code == 404
