"""Tokens, permissions and zone scoping through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.control.harness import Api
from veil.control.tokens import generate_token


async def test_verify_and_missing_or_bad_tokens(api: Api) -> None:
    """verify answers for a good token; none, garbage or an unknown token is a 401 envelope."""
    result = await api.ok("GET", "/user/tokens/verify")
    assert result["status"] == "active"
    async with api.as_token(generate_token()) as unknown:
        response = await unknown.get("/user/tokens/verify")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == 10000
    assert response.headers["www-authenticate"] == "Bearer"
    bare = await api.client.get("/zones", headers={"Authorization": ""})
    assert bare.status_code == 401 and bare.json()["success"] is False
    basic = await api.client.get("/zones", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert basic.status_code == 401


async def test_create_token_returns_value_once(api: Api) -> None:
    """The value is in the create result only; lists show a hint, never the hash or value."""
    created = await api.ok(
        "POST", "/user/tokens", json={"name": "ci", "permissions": ["zone:read", "dns:read"]}
    )
    value = created["value"]
    assert value.startswith("veil_") and created["permissions"] == ["dns:read", "zone:read"]
    listed = await api.client.get("/user/tokens")
    assert value not in listed.text and "token_hash" not in listed.text
    ours = next(t for t in listed.json()["result"] if t["id"] == created["id"])
    assert ours["hint"] == f"{value[:9]}…{value[-4:]}"
    async with api.as_token(value) as client:
        verify = await client.get("/user/tokens/verify")
    assert verify.json()["result"]["id"] == created["id"]


async def test_permissions_are_enforced_with_403(api: Api) -> None:
    """A token without the permission gets 403; with it, 200."""
    reader = await api.token(["zone:read"])
    async with api.as_token(reader) as client:
        assert (await client.get("/zones")).status_code == 200
        denied = await client.post("/zones", json={"name": "x.example"})
        assert denied.status_code == 403 and denied.json()["errors"][0]["code"] == 9109
        assert (await client.get("/accounts")).status_code == 403
        assert (await client.get("/veil/audit")).status_code == 403
        assert (await client.get("/veil/edge/snapshot")).status_code == 403


async def test_zone_scoped_token_gets_404_for_other_zones(api: Api) -> None:
    """BOLA: a token limited to one zone sees 404, not 403, for every other zone."""
    mine = await api.zone("mine.example")
    theirs = await api.zone("theirs.example")
    token = await api.token(["zone:read", "dns:edit"], zones=["mine.example"])
    async with api.as_token(token) as client:
        assert (await client.get(f"/zones/{mine['id']}")).status_code == 200
        for method, path in [
            ("GET", f"/zones/{theirs['id']}"),
            ("GET", f"/zones/{theirs['id']}/dns_records"),
            ("POST", f"/zones/{theirs['id']}/dns_records"),
            ("GET", f"/zones/{theirs['id']}/settings/origin"),
            ("GET", f"/zones/{'f' * 32}"),
        ]:
            body = {"type": "A", "name": "x", "content": "8.8.8.8"} if method == "POST" else None
            response = await client.request(method, path, json=body)
            assert response.status_code == 404, (method, path)
        nonexistent = await client.get(f"/zones/{'f' * 32}")
        other = await client.get(f"/zones/{theirs['id']}")
        assert nonexistent.json() == other.json()  # no existence oracle
        listed = await client.get("/zones")
        assert [z["name"] for z in listed.json()["result"]] == ["mine.example"]
        created = await client.post(
            f"/zones/{mine['id']}/dns_records",
            json={"type": "A", "name": "www", "content": "8.8.8.8"},
        )
        assert created.status_code == 200


async def test_revoked_token_is_refused_on_the_very_next_request(api: Api) -> None:
    """Revocation is checked on every request: the next call after DELETE is a 401."""
    token = await api.token(["zone:read"])
    async with api.as_token(token) as client:
        verify = await client.get("/user/tokens/verify")
        assert verify.status_code == 200
        token_id = verify.json()["result"]["id"]
        await api.ok("DELETE", f"/user/tokens/{token_id}")
        again = await client.get("/zones")
    assert again.status_code == 401
    assert again.json()["errors"][0]["message"] == "API token has been revoked"
    status = await api.ok("GET", f"/user/tokens/{token_id}")
    assert status["status"] == "revoked" and status["revoked_on"] is not None


async def test_a_token_may_revoke_itself(api: Api) -> None:
    """DELETE on one's own token id works without token:edit."""
    token = await api.token(["zone:read"])
    async with api.as_token(token) as client:
        token_id = (await client.get("/user/tokens/verify")).json()["result"]["id"]
        assert (await client.delete(f"/user/tokens/{token_id}")).status_code == 200
        assert (await client.get("/user/tokens/verify")).status_code == 401


async def test_expired_token_is_refused(api: Api) -> None:
    """expires_on in the past is refused at creation; once passed, the token is a 401."""
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    response = await api.client.post(
        "/user/tokens", json={"name": "old", "permissions": ["zone:read"], "expires_on": past}
    )
    assert response.status_code == 400
    soon = datetime.now(UTC) + timedelta(seconds=2)
    created = await api.ok(
        "POST",
        "/user/tokens",
        json={"name": "brief", "permissions": ["zone:read"], "expires_on": soon.isoformat()},
    )
    from veil.control.app import control_state
    from veil.control.store.repo.tokens import get_token

    state = control_state(api.app)
    with state.db.write() as session:
        token = get_token(session=session, token_id=created["id"])
        assert token is not None
        token.expires_on = datetime.now(UTC) - timedelta(seconds=1)
        session.commit()
    async with api.as_token(created["value"]) as client:
        expired = await client.get("/zones")
    assert expired.status_code == 401
    assert expired.json()["errors"][0]["message"] == "API token has expired"


async def test_no_privilege_escalation_through_tokens(api: Api) -> None:
    """A token:edit holder cannot mint admin, other permissions, or wider zones."""
    zone = await api.zone("scoped.example")
    minter = await api.token(["token:edit", "dns:read"], zones=[zone["id"]])
    async with api.as_token(minter) as client:
        for body in [
            {"name": "x", "permissions": ["admin"], "zones": [zone["id"]]},
            {"name": "x", "permissions": ["dns:edit"], "zones": [zone["id"]]},
            {"name": "x", "permissions": ["dns:read"]},
        ]:
            response = await client.post("/user/tokens", json=body)
            assert response.status_code == 403, body
        weaker = await client.post(
            "/user/tokens", json={"name": "x", "permissions": ["dns:read"], "zones": [zone["id"]]}
        )
        assert weaker.status_code == 200
        listed = await client.get("/user/tokens")
        names = {t["name"] for t in listed.json()["result"]}
        assert "operator" not in names  # cannot see more powerful tokens
        unknown_zone = await client.post(
            "/user/tokens",
            json={"name": "x", "permissions": ["dns:read"], "zones": ["nope.example"]},
        )
        assert unknown_zone.status_code == 400


async def test_token_create_validation(api: Api) -> None:
    """Unknown permissions and empty names are per-field 400s."""
    response = await api.client.post("/user/tokens", json={"name": "", "permissions": ["root"]})
    assert response.status_code == 400
    messages = [e["message"] for e in response.json()["errors"]]
    assert any(m.startswith("name:") for m in messages)
    assert any(m.startswith("permissions.0:") for m in messages)
