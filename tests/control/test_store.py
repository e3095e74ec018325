"""The store on SQLite and PostgreSQL: migrations, models, version, repositories."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from tests.control.pg import require_pg, throwaway_schema, url_for_schema
from veil.control.records import RecordSpec
from veil.control.schemas.accounts import AccountCreate
from veil.control.store.db import migrate, open_database
from veil.control.store.models import Base
from veil.control.store.repo import accounts, dns_records, zones
from veil.control.store.repo.version import bump_version, current_version

NOW = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
TABLES = {
    "accounts",
    "zones",
    "dns_records",
    "zone_settings",
    "cache_purges",
    "api_tokens",
    "audit_log",
    "config_version",
    "alembic_version",
    "account_hosts",
    "abuse_reporters",
    "abuse_cases",
    "abuse_case_urls",
    "abuse_actions",
    "abuse_messages",
    "abuse_disclosures",
    "abuse_counter_notices",
    "abuse_strikes",
    "abuse_log",
    "mail_outbox",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: object) -> object:
    """An EMPTY database (nothing migrated yet)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/fresh.db"
        return
    require_pg()
    with throwaway_schema("veil_migrate") as schema:
        yield url_for_schema(schema)


def test_migrations_upgrade_from_empty_and_are_idempotent(fresh_url: str) -> None:
    """Upgrading an empty database creates every table; a second upgrade is a no-op."""
    migrate(fresh_url)
    migrate(fresh_url)
    db = open_database(fresh_url)
    try:
        assert set(inspect(db.engine).get_table_names()) == TABLES
        with db.read() as session:
            assert current_version(session=session) == 0
            revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
            assert revision == "r0003"
    finally:
        db.dispose()


def test_migrations_match_the_models(fresh_url: str) -> None:
    """Autogenerate finds no difference between the migrated schema and the models."""
    migrate(fresh_url)
    db = open_database(fresh_url)
    try:
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        db.dispose()


def test_downgrade_to_base_and_back(fresh_url: str) -> None:
    """Every migration downgrades cleanly to an empty database and upgrades again."""
    from alembic import command

    from veil.control.store.db import alembic_config, make_engine

    migrate(fresh_url)
    engine = make_engine(fresh_url)
    try:
        with engine.connect() as connection:
            config = alembic_config(fresh_url)
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    migrate(fresh_url)


def test_timestamps_round_trip_as_utc(db_url: str) -> None:
    """Datetimes come back timezone-aware UTC with microseconds, whatever zone went in."""
    db = open_database(db_url)
    try:
        with db.write() as session:
            local = NOW.astimezone(timezone(timedelta(hours=5)))
            account = accounts.create_account(
                session=session,
                account_in=AccountCreate(name="t", contact_email="t@t.example"),
                now=local,
            )
            session.commit()
            account_id = account.id
        with db.read() as session:
            loaded = accounts.get_account(session=session, account_id=account_id)
            assert loaded is not None and loaded.created_on == NOW
            assert loaded.created_on.tzinfo is not None
    finally:
        db.dispose()


def test_version_bumps_are_monotonic_under_concurrent_writers(db_url: str) -> None:
    """Concurrent writers each get a distinct, consecutive version; commits wake the publisher."""
    seen: list[int] = []
    lock = threading.Lock()

    def published(version: int) -> None:
        with lock:
            seen.append(version)

    db = open_database(db_url, on_commit=published)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(10):
                with db.write() as session:
                    current_version(session=session)  # read first, then write
                    bump_version(session=session, now=NOW)
                    session.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert sorted(seen) == list(range(1, 41))
        with db.read() as session:
            assert current_version(session=session) == 40
    finally:
        db.dispose()


def test_rolled_back_bump_does_not_publish(db_url: str) -> None:
    """A bump in a transaction that rolls back never reaches the publisher."""
    seen: list[int] = []
    db = open_database(db_url, on_commit=seen.append)
    try:
        with db.write() as session:
            bump_version(session=session, now=NOW)
            session.rollback()
        with db.write() as session:
            session.commit()
        assert seen == []
        with db.read() as session:
            assert current_version(session=session) == 0
    finally:
        db.dispose()


def test_deleting_a_zone_cascades_to_records(db_url: str) -> None:
    """Records go with their zone (ON DELETE CASCADE on both databases)."""
    db = open_database(db_url)
    try:
        with db.write() as session:
            account = accounts.create_account(
                session=session,
                account_in=AccountCreate(name="a", contact_email="a@a.example"),
                now=NOW,
            )
            zone = zones.create_zone(
                session=session, name="c.example", account_id=account.id, now=NOW
            )
            spec = RecordSpec("A", "c.example", "8.8.8.8", 1, True, None, None)
            dns_records.create_record(session=session, zone_id=zone.id, spec=spec, now=NOW)
            session.commit()
            assert dns_records.count_records(session=session) == 1
            zones.delete_zone(session=session, zone=zone)
            session.commit()
            assert dns_records.count_records(session=session) == 0
    finally:
        db.dispose()


def test_zone_names_are_unique_in_the_database(db_url: str) -> None:
    """create_zone refuses a second zone with the same name."""
    db = open_database(db_url)
    try:
        with db.write() as session:
            account = accounts.create_account(
                session=session,
                account_in=AccountCreate(name="a", contact_email="a@a.example"),
                now=NOW,
            )
            zones.create_zone(session=session, name="u.example", account_id=account.id, now=NOW)
            with pytest.raises(zones.ZoneExists):
                zones.create_zone(session=session, name="u.example", account_id=account.id, now=NOW)
    finally:
        db.dispose()
