"""`prepare()`: data dir, migrations, default account, operator and edge tokens, demo zone."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx

from veil.control.app import control_state, create_app
from veil.control.bootstrap import prepare
from veil.settings import ControlSettings


def _settings(tmp_path: Path, db_url: str) -> ControlSettings:
    return ControlSettings(data_dir=tmp_path / "data", database_url=db_url)


async def _get(settings: ControlSettings, token: str, path: str) -> httpx.Response:
    app = create_app(settings)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://c/client/v4",
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            return await client.get(path)
    finally:
        control_state(app).db.dispose()


async def test_first_start_creates_tokens_with_private_files(tmp_path: Path, db_url: str) -> None:
    """The operator token is returned once and written 0600; the edge token too."""
    settings = _settings(tmp_path, db_url)
    boot = prepare(settings)
    assert boot.operator_token is not None
    admin_file = settings.data_dir / "admin.token"
    edge_file = settings.data_dir / "edge.token"
    assert admin_file.read_text().strip() == boot.operator_token
    assert edge_file.read_text().strip() == boot.edge_token
    for path in (admin_file, edge_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    accounts = (await _get(settings, boot.operator_token, "/accounts")).json()["result"]
    assert [(a["name"], a["contact_email"], a["contact_email_verified"]) for a in accounts] == [
        ("default", "operator@localhost", True)
    ]
    edge = await _get(settings, boot.edge_token, "/veil/status")
    assert edge.status_code == 200


async def test_restart_keeps_operator_and_edge_tokens(tmp_path: Path, db_url: str) -> None:
    """A second start returns no operator token and keeps the still-valid edge token, so edges
    started apart keep following a restarted control."""
    settings = _settings(tmp_path, db_url)
    first = prepare(settings)
    second = prepare(settings)
    assert second.operator_token is None
    assert second.edge_token == first.edge_token
    assert first.operator_token is not None
    assert (await _get(settings, first.operator_token, "/zones")).status_code == 200
    assert (await _get(settings, second.edge_token, "/veil/status")).status_code == 200


async def test_revoked_or_lost_edge_token_is_replaced(tmp_path: Path, db_url: str) -> None:
    """A start after edge.token was lost mints a new one and revokes the old."""
    settings = _settings(tmp_path, db_url)
    first = prepare(settings)
    (settings.data_dir / "edge.token").unlink()
    second = prepare(settings)
    assert second.edge_token != first.edge_token
    assert (await _get(settings, first.edge_token, "/veil/status")).status_code == 401
    assert (await _get(settings, second.edge_token, "/veil/status")).status_code == 200


async def test_demo_zone_is_idempotent_and_follows_the_port(tmp_path: Path, db_url: str) -> None:
    """demo.localhost is proxied to the demo origin; a new port updates it, nothing duplicates."""
    settings = _settings(tmp_path, db_url)
    boot = prepare(settings, demo_origin=("127.0.0.1", 9001))
    prepare(settings, demo_origin=("127.0.0.1", 9001))
    prepare(settings, demo_origin=("127.0.0.1", 9002))
    assert boot.operator_token is not None
    snapshot = (await _get(settings, boot.operator_token, "/veil/edge/snapshot")).json()["result"]
    [zone] = snapshot["zones"]
    assert zone["name"] == "demo.localhost" and zone["origin"]["port"] == 9002
    assert zone["hosts"] == [{"name": "demo.localhost", "addresses": ["127.0.0.1"]}]
    zones = (await _get(settings, boot.operator_token, "/zones")).json()["result"]
    assert [(z["name"], z["account"]["name"]) for z in zones] == [("demo.localhost", "Demo")]


async def test_lost_admin_token_file_gets_a_new_operator_token(tmp_path: Path, db_url: str) -> None:
    """If admin.token was deleted, the next start mints and writes a new operator token."""
    settings = _settings(tmp_path, db_url)
    first = prepare(settings)
    (settings.data_dir / "admin.token").unlink()
    second = prepare(settings)
    assert second.operator_token is not None and second.operator_token != first.operator_token
    assert (settings.data_dir / "admin.token").read_text().strip() == second.operator_token
    assert (await _get(settings, second.operator_token, "/zones")).status_code == 200
    assert prepare(settings).operator_token is None


def test_invalid_edge_address_is_a_clear_error(tmp_path: Path) -> None:
    """A bad edge address is refused by prepare() with a one-line ValueError."""
    import pytest

    settings = ControlSettings(data_dir=tmp_path, edge_addresses=("192.0.2.1", "not-an-ip"))
    with pytest.raises(ValueError, match="invalid edge address 'not-an-ip'"):
        prepare(settings)
