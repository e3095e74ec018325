"""Engines, sessions and migrations.

Theory of operation
-------------------
`migrate(url)` runs the Alembic migrations shipped in `migrations/` programmatically (never
autogenerate at run time). `open_database(url)` returns a `Database` with two session
factories over one engine:

* `read` — an ordinary (deferred) transaction;
* `write` — on SQLite `BEGIN IMMEDIATE`, so two writers queue on the busy timeout instead of
  failing when a read transaction later upgrades to a write. PostgreSQL needs no such care:
  the `config_version` row lock already serialises writers that touch the edge's view.

A commit that bumped the config version (see `repo.version.bump`) calls `on_commit(version)`
after it is durable, which is how waiting long-polls are woken.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
BUMPED_VERSION_KEY = "veil.bumped_version"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str, *, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision` (idempotent)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


@dataclass(frozen=True, slots=True)
class Database:
    engine: Engine
    read: sessionmaker[Session]
    write: sessionmaker[Session]

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str, *, on_commit: Callable[[int], None] | None = None) -> Database:
    engine = make_engine(url)
    read = sessionmaker(engine, expire_on_commit=False)
    write = sessionmaker(engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False)

    def after_commit(session: Session) -> None:
        version = session.info.pop(BUMPED_VERSION_KEY, None)
        if version is not None and on_commit is not None:
            on_commit(version)

    def after_rollback(session: Session) -> None:
        session.info.pop(BUMPED_VERSION_KEY, None)

    for factory in (read, write):
        event.listen(factory, "after_commit", after_commit)
        event.listen(factory, "after_rollback", after_rollback)
    return Database(engine=engine, read=read, write=write)
