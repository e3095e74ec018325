"""Zones and accounts through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.control.harness import Api


async def test_create_list_get_zone(api: Api) -> None:
    """A zone is created in the default account and read back in Cloudflare's shape."""
    zone = await api.zone("Example.COM")
    assert zone["name"] == "example.com" and len(zone["id"]) == 32
    assert zone["status"] == "active" and zone["paused"] is False
    assert zone["account"]["name"] == "default"
    got = await api.ok("GET", f"/zones/{zone['id']}")
    assert got == zone
    listed = await api.client.get("/zones", params={"name": "example.com"})
    body = listed.json()
    assert [z["id"] for z in body["result"]] == [zone["id"]]
    assert body["result_info"] == {
        "page": 1,
        "per_page": 20,
        "count": 1,
        "total_count": 1,
        "total_pages": 1,
    }


async def test_duplicate_zone_is_1061(api: Api) -> None:
    """Creating an existing zone (any case) answers 400 with code 1061 'already exists'."""
    await api.zone("dup.example")
    response = await api.client.post("/zones", json={"name": "DUP.example."})
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and body["result"] is None
    assert body["errors"] == [{"code": 1061, "message": "dup.example already exists"}]


async def test_zone_name_validation_is_a_400_with_the_field(api: Api) -> None:
    """An invalid zone name answers 400 naming the field."""
    response = await api.client.post("/zones", json={"name": "not a domain"})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == 1004 and error["message"].startswith("name:")


async def test_zone_in_explicit_account(api: Api) -> None:
    """`account.id` places the zone; an unknown account is a 400."""
    account = await api.ok(
        "POST", "/accounts", json={"name": "Acme", "contact_email": "ops@acme.example"}
    )
    zone = await api.ok("POST", "/zones", json={"name": "acme.example", "account": account})
    assert zone["account"] == {"id": account["id"], "name": "Acme"}
    bad = await api.client.post(
        "/zones", json={"name": "other.example", "account": {"id": "0" * 32}}
    )
    assert bad.status_code == 400
    filtered = await api.ok("GET", "/zones", params={"account.id": account["id"]})
    assert [z["name"] for z in filtered] == ["acme.example"]


async def test_zone_list_filters_order_and_pages(api: Api) -> None:
    """name (exact and contains:), status, order/direction and page/per_page work like CF."""
    for name in ["a.example", "b.example", "c.test", "d.example"]:
        await api.zone(name)
    names = [z["name"] for z in await api.ok("GET", "/zones", params={"name": "contains:example"})]
    assert names == ["a.example", "b.example", "d.example"]
    desc = await api.ok("GET", "/zones", params={"direction": "desc"})
    assert [z["name"] for z in desc] == ["d.example", "c.test", "b.example", "a.example"]
    page2 = await api.client.get("/zones", params={"per_page": 3, "page": 2})
    body = page2.json()
    assert [z["name"] for z in body["result"]] == ["d.example"]
    assert body["result_info"]["total_count"] == 4 and body["result_info"]["total_pages"] == 2
    beyond = await api.client.get("/zones", params={"per_page": 3, "page": 9})
    assert beyond.json()["result"] == []
    assert (await api.ok("GET", "/zones", params={"status": "pending"})) == []
    too_big = await api.client.get("/zones", params={"per_page": 51})
    assert too_big.status_code == 400


async def test_pause_and_delete_zone(api: Api) -> None:
    """PATCH paused toggles the zone; DELETE returns its id and removes its records."""
    zone = await api.zone("gone.example")
    paused = await api.ok("PATCH", f"/zones/{zone['id']}", json={"paused": True})
    assert paused["paused"] is True
    await api.ok(
        "POST",
        f"/zones/{zone['id']}/dns_records",
        json={"type": "A", "name": "www", "content": "8.8.8.8"},
    )
    assert await api.ok("DELETE", f"/zones/{zone['id']}") == {"id": zone["id"]}
    missing = await api.client.get(f"/zones/{zone['id']}")
    assert missing.status_code == 404 and missing.json()["success"] is False
    records = await api.client.get(f"/zones/{zone['id']}/dns_records")
    assert records.status_code == 404


async def test_accounts_create_patch_list(api: Api) -> None:
    """Operator additions: create and patch accounts with contact fields."""
    created = await api.ok(
        "POST", "/accounts", json={"name": "Shop", "contact_email": "a@shop.example"}
    )
    assert created["contact_email_verified"] is False and created["type"] == "standard"
    patched = await api.ok(
        "PATCH", f"/accounts/{created['id']}", json={"contact_email_verified": True}
    )
    assert patched["contact_email_verified"] is True and patched["name"] == "Shop"
    names = {a["name"] for a in await api.ok("GET", "/accounts")}
    assert names == {"default", "Shop"}
    assert (await api.ok("GET", f"/accounts/{created['id']}"))["id"] == created["id"]
    bad = await api.client.post("/accounts", json={"name": "X", "contact_email": "nope"})
    assert bad.status_code == 400
