"""The control API application: `create_app(settings)`.

The database must already be migrated (`veil.control.bootstrap.prepare` or
`veil.control.store.db.migrate`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from veil import __version__
from veil.clock import SYSTEM_CLOCK, Clock
from veil.control.desk.background import run_desk
from veil.control.desk.context import DeskContext
from veil.control.desk.lookup import build_finder
from veil.control.envelope import install_handlers
from veil.control.publish import FanOut, SnapshotHub, SnapshotPublisher
from veil.control.purges import PurgePolicy
from veil.control.records import OriginPolicy
from veil.control.routers import api_router
from veil.control.schemas.common import ErrorEnvelope
from veil.control.state import ControlState
from veil.control.store.db import open_database
from veil.control.web import web_router
from veil.settings import ControlSettings, format_hostport

API_PREFIX = "/client/v4"
_ERROR_STATUSES = {
    "400": "Invalid request (validation errors, one message per field; malformed JSON)",
    "401": "Missing, invalid, expired or revoked token",
    "403": "The token lacks a permission",
    "404": "Not found (also for zones outside a token's scope)",
}


def control_state(app: FastAPI) -> ControlState:
    state: ControlState = app.state.veil
    return state


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with our 400 envelope in place of its 422."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = FastAPI.openapi(app)
    ref = {"$ref": "#/components/schemas/ErrorEnvelope"}
    schema.setdefault("components", {}).setdefault("schemas", {})["ErrorEnvelope"] = (
        ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for status, description in _ERROR_STATUSES.items():
                responses.setdefault(
                    status,
                    {"description": description, "content": {"application/json": {"schema": ref}}},
                )
    app.openapi_schema = schema
    return schema


def build_state(
    settings: ControlSettings,
    *,
    clock: Clock = SYSTEM_CLOCK,
    publishers: Sequence[SnapshotPublisher] = (),
    purge_policy: PurgePolicy | None = None,
) -> ControlState:
    """Everything a running API holds: database, long-poll hub, publishers, SSRF policy,
    purge retention."""
    hub = SnapshotHub(clock=clock)
    publisher = FanOut([hub, *publishers])
    db = open_database(settings.effective_database_url, on_commit=publisher.publish)
    return ControlState(
        settings=settings,
        clock=clock,
        db=db,
        hub=hub,
        publisher=publisher,
        policy=OriginPolicy.from_addresses(
            allow_private=settings.allow_private_origins, addresses=settings.edge_addresses
        ),
        purge_policy=purge_policy or PurgePolicy(),
        desk=DeskContext.from_settings(
            settings.abuse,
            public_url=settings.abuse.public_url or f"http://{format_hostport(*settings.listen)}",
            finder=build_finder(settings.abuse),
        ),
    )


def create_app(
    settings: ControlSettings,
    *,
    clock: Clock = SYSTEM_CLOCK,
    publishers: Sequence[SnapshotPublisher] = (),
    purge_policy: PurgePolicy | None = None,
) -> FastAPI:
    """The API application. `publishers` receive every committed config version (e.g. a
    future NATS JetStream publisher) besides the built-in long-poll hub."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with run_desk(control_state(app)) as desk:  # SMTP intake, mailer, timers
            app.state.desk = desk
            yield
        state = control_state(app)
        state.hub.close()
        state.db.dispose()

    app = FastAPI(
        title="Veil control API",
        version=__version__,
        description="Cloudflare v4-shaped API of a self-hosted Veil CDN (see docs/api.md).",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.veil = build_state(
        settings, clock=clock, publishers=publishers, purge_policy=purge_policy
    )
    install_handlers(app)
    app.include_router(api_router, prefix=API_PREFIX)
    app.include_router(web_router)  # the abuse desk's public pages (no account, no schema)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
