"""PostgreSQL for the store tests: one throw-away schema per test session.

127.0.0.1:5432, trust auth, database `test`, user `postgres`. With CI=true a missing server
fails the tests; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

PG_DSN = os.environ.get("VEIL_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=test")
PG_URL_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
IN_CI = os.environ.get("CI", "").lower() == "true"


def pg_unavailable() -> str | None:
    try:
        with psycopg.connect(PG_DSN, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at 127.0.0.1:5432 ({type(exc).__name__})"


def require_pg() -> None:
    reason = pg_unavailable()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"{reason}; CI=true requires it")
    pytest.skip(reason)


def url_for_schema(schema: str) -> str:
    """A URL whose connections use `schema`; commits skip the WAL flush (tests only)."""
    return f"{PG_URL_BASE}?options=-csearch_path%3D{schema}%20-csynchronous_commit%3Doff"


@contextmanager
def throwaway_schema(prefix: str = "veil_test") -> Iterator[str]:
    """A fresh schema, dropped (with everything in it) afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# Children first. DELETE beats TRUNCATE by far on tables this small.
RESET_TABLES = (
    "mail_outbox",
    "abuse_log",
    "abuse_strikes",
    "abuse_counter_notices",
    "abuse_disclosures",
    "abuse_messages",
    "abuse_actions",
    "abuse_case_urls",
    "abuse_cases",
    "abuse_reporters",
    "account_hosts",
    "cache_purges",
    "dns_records",
    "zone_settings",
    "zones",
    "accounts",
    "api_tokens",
    "audit_log",
)


def reset_schema(schema: str) -> None:
    """Empty every table of a migrated schema, for the next test."""
    with psycopg.connect(PG_DSN) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        for table in RESET_TABLES:
            conn.execute(f"DELETE FROM {table}")
        conn.execute("UPDATE config_version SET version = 0")
        conn.commit()
