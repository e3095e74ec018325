"""Cache purges: one row per purge_cache item, with the snapshot version that first carries it.

Zone cache settings need no table of their own: they are `zone_settings` rows
(`cache_level`, `browser_cache_ttl`, `edge_cache_ttl`, `development_mode`, `cache_key`).

Revision ID: r0002
Revises: r0001
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from veil.control.store.types import UTCDateTime

revision: str = "r0002"
down_revision: str | None = "r0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cache_purges",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "zone_id",
            sa.String(32),
            sa.ForeignKey("zones.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("request_id", sa.String(32), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("soft", sa.Boolean, nullable=False),
        sa.Column("headers", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("created_on", UTCDateTime, nullable=False),
    )
    op.create_index("ix_cache_purges_zone_id_version", "cache_purges", ["zone_id", "version"])


def downgrade() -> None:
    op.drop_index("ix_cache_purges_zone_id_version", table_name="cache_purges")
    op.drop_table("cache_purges")
