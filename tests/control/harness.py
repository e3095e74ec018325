"""Test harness: the control app behind httpx's ASGI transport, plus small API helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from veil.control.app import build_state, control_state, create_app
from veil.control.bootstrap import prepare
from veil.settings import ControlSettings

BASE = "http://control.test/client/v4"


@dataclass
class Api:
    app: FastAPI
    client: httpx.AsyncClient
    settings: ControlSettings
    admin_token: str
    edge_token: str

    def as_token(self, token: str) -> httpx.AsyncClient:
        """Another client on the same app, authenticated with `token`."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url=BASE,
            headers={"Authorization": f"Bearer {token}"},
        )

    async def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call as admin and return `result`, asserting a successful envelope."""
        response = await self.client.request(method, path, **kwargs)
        body = response.json()
        assert response.status_code == 200, (response.status_code, body)
        assert body["success"] is True and body["errors"] == []
        return body["result"]

    async def zone(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.ok("POST", "/zones", json={"name": name})
        return result

    async def token(self, permissions: list[str], zones: list[str] | None = None) -> str:
        body: dict[str, Any] = {"name": "test", "permissions": permissions}
        if zones is not None:
            body["zones"] = zones
        result = await self.ok("POST", "/user/tokens", json=body)
        value: str = result["value"]
        return value


_shared_app: FastAPI | None = None


def _app_for(config: ControlSettings) -> FastAPI:
    """One FastAPI app for the whole session (its routes warm up once); each test gets fresh
    state (database, hub, policy) swapped in."""
    global _shared_app
    if _shared_app is None:
        _shared_app = create_app(config)
    else:
        _shared_app.state.veil = build_state(config)
    return _shared_app


@asynccontextmanager
async def open_api(db_url: str, data_dir: Path, **settings: Any) -> AsyncIterator[Api]:
    config = ControlSettings(data_dir=data_dir, database_url=db_url, **settings)
    boot = prepare(config)
    assert boot.operator_token is not None
    app = _app_for(config)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=BASE,
        headers={"Authorization": f"Bearer {boot.operator_token}"},
    )
    try:
        yield Api(
            app=app,
            client=client,
            settings=config,
            admin_token=boot.operator_token,
            edge_token=boot.edge_token,
        )
    finally:
        await client.aclose()
        control_state(app).db.dispose()
