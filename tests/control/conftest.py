"""Fixtures for the control plane: every store and API test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.control.harness import Api, open_api
from tests.control.pg import require_pg, reset_schema, throwaway_schema, url_for_schema
from veil.control.store.db import migrate

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """A migrated PostgreSQL schema shared by this session's tests (reset before each)."""
    require_pg()
    with throwaway_schema() as schema:
        migrate(url_for_schema(schema))
        yield schema


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "veil.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a SQLite file, or the session's PostgreSQL schema."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, tmp_path / "veil.db")
        return f"sqlite:///{tmp_path / 'veil.db'}"
    schema: str = request.getfixturevalue("pg_schema")
    reset_schema(schema)
    return url_for_schema(schema)


@pytest.fixture
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The control API in process (httpx over ASGI) with a bootstrapped admin token."""
    async with open_api(db_url, tmp_path) as harness:
        yield harness
