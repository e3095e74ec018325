"""An account's declared hosting provider through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.control.harness import Api
from veil.control.app import control_state
from veil.control.desk.hosting import HostingProvider, NoLookup, hosting_provider

HOST = {"name": "Example Hosting GmbH", "abuse_email": "abuse@hosting.example"}


async def account(api: Api, name: str = "Shop") -> dict[str, Any]:
    result: dict[str, Any] = await api.ok(
        "POST", "/accounts", json={"name": name, "contact_email": f"ops@{name.lower()}.example"}
    )
    return result


async def test_declare_read_replace_delete(api: Api) -> None:
    """PUT declares, GET reads, PUT again replaces, DELETE removes (then GET is a 404)."""
    acct = await account(api)
    path = f"/accounts/{acct['id']}/hosting_provider"
    missing = await api.client.get(path)
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["message"] == "declared hosting provider not found"
    put = await api.ok("PUT", path, json=HOST)
    assert {k: put[k] for k in ("account_id", "name", "abuse_email", "source")} == {
        "account_id": acct["id"],
        **HOST,
        "source": "declared",
    }
    assert (await api.ok("GET", path))["name"] == HOST["name"]
    replaced = await api.ok("PUT", path, json={**HOST, "name": "Other Host"})
    assert replaced["name"] == "Other Host"
    assert await api.ok("DELETE", path) == {"id": acct["id"]}
    assert (await api.client.get(path)).status_code == 404
    assert (await api.client.delete(path)).status_code == 404


async def test_declared_host_wins_for_the_desk(api: Api) -> None:
    """What the API stores is what the desk names as the host (source "declared")."""
    acct = await account(api)
    await api.ok("PUT", f"/accounts/{acct['id']}/hosting_provider", json=HOST)
    state = control_state(api.app)
    with state.db.read() as session:
        found = hosting_provider(
            session=session, finder=NoLookup(), account_id=acct["id"], origin="192.0.2.1"
        )
    assert found == HostingProvider(
        name=HOST["name"], abuse_email=HOST["abuse_email"], source="declared"
    )


async def test_changes_are_audited(api: Api) -> None:
    """Declaring and removing are in the audit log with before and after."""
    acct = await account(api)
    path = f"/accounts/{acct['id']}/hosting_provider"
    await api.ok("PUT", path, json=HOST)
    await api.ok("DELETE", path)
    entries = await api.ok("GET", "/veil/audit", params={"resource_id": acct["id"]})
    hosts = [e for e in entries if e["resource"]["type"] == "account_host"]
    assert [e["action"] for e in hosts] == ["account_host.delete", "account_host.update"]
    assert hosts[1]["before"] is None and hosts[1]["after"]["name"] == HOST["name"]
    assert hosts[0]["before"]["abuse_email"] == HOST["abuse_email"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"name": "X", "abuse_email": "not an address"}, "abuse_email", id="email"),
        pytest.param(
            {"name": "X", "abuse_email": "a@b.example\r\nBcc: c@d.example"},
            "abuse_email",
            id="header-injection",
        ),
        pytest.param(
            {"name": "X", "abuse_email": "Abuse <a@b.example>"}, "abuse_email", id="display-name"
        ),
        pytest.param({"name": "X", "abuse_email": "abuse@localhost"}, "abuse_email", id="no-dot"),
        pytest.param({"name": "", "abuse_email": "a@b.example"}, "name", id="empty-name"),
        pytest.param({"name": "X\nY", "abuse_email": "a@b.example"}, "name", id="name-newline"),
        pytest.param({"abuse_email": "a@b.example"}, "name", id="missing-name"),
    ],
)
async def test_bad_bodies_get_field_errors(api: Api, body: dict[str, Any], field: str) -> None:
    """A bad name or e-mail is a 400 naming the field; nothing is stored."""
    acct = await account(api)
    path = f"/accounts/{acct['id']}/hosting_provider"
    response = await api.client.put(path, json=body)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == 1004 and error["message"].startswith(f"{field}:")
    assert (await api.client.get(path)).status_code == 404


async def test_unknown_account_is_404(api: Api) -> None:
    """An account that does not exist (or an overlong id) is a 404 on every method."""
    for account_id in ("0" * 32, "x" * 100):
        path = f"/accounts/{account_id}/hosting_provider"
        assert (await api.client.get(path)).status_code == 404
        assert (await api.client.put(path, json=HOST)).status_code == 404
        assert (await api.client.delete(path)).status_code == 404


async def test_permissions_follow_the_account(api: Api) -> None:
    """account:read may read but not write; a zone-limited token sees only its zones' account."""
    mine = await account(api, "Mine")
    other = await account(api, "Other")
    zone = await api.ok("POST", "/zones", json={"name": "mine.example", "account": mine})
    for acct in (mine, other):
        await api.ok("PUT", f"/accounts/{acct['id']}/hosting_provider", json=HOST)
    reader = await api.token(["account:read"])
    async with api.as_token(reader) as client:
        path = f"/accounts/{mine['id']}/hosting_provider"
        assert (await client.get(path)).status_code == 200
        assert (await client.put(path, json=HOST)).status_code == 403
        assert (await client.delete(path)).status_code == 403
    limited = await api.token(["account:read", "account:edit"], zones=[zone["id"]])
    async with api.as_token(limited) as client:
        ok = await client.put(f"/accounts/{mine['id']}/hosting_provider", json=HOST)
        assert ok.status_code == 200
        hidden = f"/accounts/{other['id']}/hosting_provider"
        assert (await client.get(hidden)).status_code == 404
        assert (await client.put(hidden, json=HOST)).status_code == 404
    zone_only = await api.token(["zone:read"])
    async with api.as_token(zone_only) as client:
        assert (await client.get(f"/accounts/{mine['id']}/hosting_provider")).status_code == 403
