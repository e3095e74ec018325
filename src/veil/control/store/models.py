"""The tables, modelled after Cloudflare's objects (SQLAlchemy 2 typed models).

The schema itself is owned by the Alembic migrations in `migrations/versions`; these models
must match them (a test compares the two on SQLite and PostgreSQL).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from veil.control.store.types import UTCDateTime


def new_id() -> str:
    """A 32-hex identifier, like Cloudflare's."""
    return uuid.uuid4().hex


JSONValue = sa.JSON(none_as_null=True)


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    contact_email: Mapped[str] = mapped_column(sa.String(320))
    contact_email_verified: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_on: Mapped[datetime] = mapped_column(UTCDateTime)


class Zone(Base):
    __tablename__ = "zones"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(253), unique=True)
    account_id: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("accounts.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(sa.String(16))
    paused: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_on: Mapped[datetime] = mapped_column(UTCDateTime)
    modified_on: Mapped[datetime] = mapped_column(UTCDateTime)


class DnsRecord(Base):
    __tablename__ = "dns_records"
    __table_args__ = (sa.Index("ix_dns_records_zone_id_name", "zone_id", "name"),)

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    zone_id: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("zones.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(sa.String(10))
    name: Mapped[str] = mapped_column(sa.String(253))
    content: Mapped[str] = mapped_column(sa.Text)
    ttl: Mapped[int] = mapped_column(sa.Integer)
    proxied: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    priority: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    comment: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_on: Mapped[datetime] = mapped_column(UTCDateTime)
    modified_on: Mapped[datetime] = mapped_column(UTCDateTime)


class ZoneSetting(Base):
    __tablename__ = "zone_settings"

    zone_id: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("zones.id", ondelete="CASCADE"), primary_key=True
    )
    setting_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONValue)
    modified_on: Mapped[datetime] = mapped_column(UTCDateTime)


class CachePurge(Base):
    """One purge_cache item. `version` is the snapshot version that first carries it (for a
    compaction's `everything` row: the newest version it replaces)."""

    __tablename__ = "cache_purges"
    __table_args__ = (sa.Index("ix_cache_purges_zone_id_version", "zone_id", "version"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    zone_id: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("zones.id", ondelete="CASCADE")
    )
    request_id: Mapped[str] = mapped_column(sa.String(32))
    version: Mapped[int] = mapped_column(sa.BigInteger)
    kind: Mapped[str] = mapped_column(sa.String(16))
    value: Mapped[str] = mapped_column(sa.Text)
    soft: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    headers: Mapped[list[list[str]]] = mapped_column(JSONValue)
    created_on: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    last4: Mapped[str] = mapped_column(sa.String(4))
    permissions: Mapped[list[str]] = mapped_column(JSONValue)
    zone_ids: Mapped[list[str] | None] = mapped_column(JSONValue, nullable=True)
    created_by: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    expires_on: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_on: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_on: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_on: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    actor_name: Mapped[str] = mapped_column(sa.String(255))
    action: Mapped[str] = mapped_column(sa.String(64))
    resource_type: Mapped[str] = mapped_column(sa.String(32))
    resource_id: Mapped[str] = mapped_column(sa.String(64))
    before: Mapped[Any] = mapped_column(JSONValue, nullable=True)
    after: Mapped[Any] = mapped_column(JSONValue, nullable=True)


class ConfigVersion(Base):
    """One row (id 1): bumped in the same transaction as every change the edge can see."""

    __tablename__ = "config_version"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(sa.BigInteger)
    changed_on: Mapped[datetime] = mapped_column(UTCDateTime)
