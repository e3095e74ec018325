"""Initial schema: accounts, zones, DNS records, zone settings, API tokens, audit log, version.

Revision ID: r0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from veil.control.store.types import UTCDateTime

revision: str = "r0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("contact_email", sa.String(320), nullable=False),
        sa.Column("contact_email_verified", sa.Boolean, nullable=False),
        sa.Column("created_on", UTCDateTime, nullable=False),
    )
    op.create_table(
        "zones",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(253), nullable=False, unique=True),
        sa.Column(
            "account_id",
            sa.String(32),
            sa.ForeignKey("accounts.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("created_on", UTCDateTime, nullable=False),
        sa.Column("modified_on", UTCDateTime, nullable=False),
    )
    op.create_index("ix_zones_account_id", "zones", ["account_id"])
    op.create_table(
        "dns_records",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "zone_id",
            sa.String(32),
            sa.ForeignKey("zones.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("type", sa.String(10), nullable=False),
        sa.Column("name", sa.String(253), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("ttl", sa.Integer, nullable=False),
        sa.Column("proxied", sa.Boolean, nullable=False),
        sa.Column("priority", sa.Integer, nullable=True),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("created_on", UTCDateTime, nullable=False),
        sa.Column("modified_on", UTCDateTime, nullable=False),
    )
    op.create_index("ix_dns_records_zone_id_name", "dns_records", ["zone_id", "name"])
    op.create_table(
        "zone_settings",
        sa.Column(
            "zone_id",
            sa.String(32),
            sa.ForeignKey("zones.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("setting_id", sa.String(64), primary_key=True),
        sa.Column("value", _json(), nullable=False),
        sa.Column("modified_on", UTCDateTime, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("permissions", _json(), nullable=False),
        sa.Column("zone_ids", _json(), nullable=True),
        sa.Column("created_by", sa.String(32), nullable=True),
        sa.Column("expires_on", UTCDateTime, nullable=True),
        sa.Column("revoked_on", UTCDateTime, nullable=True),
        sa.Column("created_on", UTCDateTime, nullable=False),
        sa.Column("last_used_on", UTCDateTime, nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor_id", sa.String(32), nullable=True),
        sa.Column("actor_name", sa.String(255), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("resource_type", sa.String(32), nullable=False),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("before", _json(), nullable=True),
        sa.Column("after", _json(), nullable=True),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    version = op.create_table(
        "config_version",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("changed_on", UTCDateTime, nullable=False),
    )
    op.execute(version.insert().values(id=1, version=0, changed_on=sa.func.current_timestamp()))


def downgrade() -> None:
    op.drop_table("config_version")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("api_tokens")
    op.drop_table("zone_settings")
    op.drop_index("ix_dns_records_zone_id_name", table_name="dns_records")
    op.drop_table("dns_records")
    op.drop_index("ix_zones_account_id", table_name="zones")
    op.drop_table("zones")
    op.drop_table("accounts")
