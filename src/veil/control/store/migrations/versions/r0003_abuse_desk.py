"""The abuse desk: cases, reported URLs, actions, correspondence, disclosures,
counter-notices, strikes, reporters, declared hosts, the hash-chained log and the mail outbox.

Revision ID: r0003
Revises: r0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from veil.control.store.types import UTCDateTime

revision: str = "r0003"
down_revision: str | None = "r0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True)


def upgrade() -> None:
    op.create_table(
        "abuse_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entry", _json(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hash"),
    )
    op.create_table(
        "abuse_reporters",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("token_id", sa.String(length=32), nullable=True),
        sa.Column("trusted", sa.Boolean(), nullable=False),
        sa.Column("trusted_agreement", sa.Text(), nullable=True),
        sa.Column("trusted_since", UTCDateTime, nullable=True),
        sa.Column("valid_count", sa.Integer(), nullable=False),
        sa.Column("invalid_count", sa.Integer(), nullable=False),
        sa.Column("last_active_on", UTCDateTime, nullable=False),
        sa.Column("created_on", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=True),
        sa.Column("party", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("to_addr", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=998), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_on", UTCDateTime, nullable=False),
        sa.Column("next_attempt_on", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_on", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_mail_outbox_case_id"), "mail_outbox", ["case_id"], unique=False)
    op.create_index(
        "ix_mail_outbox_pending", "mail_outbox", ["sent_on", "next_attempt_on"], unique=False
    )
    op.create_table(
        "account_hosts",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("abuse_email", sa.String(length=320), nullable=False),
        sa.Column("modified_on", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "abuse_cases",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("validation", sa.String(length=40), nullable=False),
        sa.Column("problems", _json(), nullable=False),
        sa.Column("notice", _json(), nullable=False),
        sa.Column("reporter_id", sa.String(length=32), nullable=True),
        sa.Column("reporter_email", sa.String(length=320), nullable=False),
        sa.Column("status_key", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=True),
        sa.Column("zone_id", sa.String(length=32), nullable=True),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("origin_ip", sa.String(length=64), nullable=True),
        sa.Column("host", _json(), nullable=True),
        sa.Column("order", _json(), nullable=True),
        sa.Column("received_on", UTCDateTime, nullable=False),
        sa.Column("deadline_on", UTCDateTime, nullable=False),
        sa.Column("forwarded_on", UTCDateTime, nullable=True),
        sa.Column("customer_replied_on", UTCDateTime, nullable=True),
        sa.Column("acted_on", UTCDateTime, nullable=True),
        sa.Column("escalated_on", UTCDateTime, nullable=True),
        sa.Column("closed_on", UTCDateTime, nullable=True),
        sa.Column("modified_on", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["reporter_id"], ["abuse_reporters.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["zone_id"], ["zones.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_abuse_cases_account_id", "abuse_cases", ["account_id"], unique=False)
    op.create_index(
        op.f("ix_abuse_cases_received_on"), "abuse_cases", ["received_on"], unique=False
    )
    op.create_index(
        "ix_abuse_cases_state_deadline", "abuse_cases", ["state", "deadline_on"], unique=False
    )
    op.create_table(
        "abuse_actions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=True),
        sa.Column("zone_id", sa.String(length=32), nullable=True),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("effective_on", UTCDateTime, nullable=False),
        sa.Column("targets", _json(), nullable=False),
        sa.Column("countries", _json(), nullable=False),
        sa.Column("statement", _json(), nullable=False),
        sa.Column("created_on", UTCDateTime, nullable=False),
        sa.Column("modified_on", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["abuse_cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["zone_id"], ["zones.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_abuse_actions_account_id"), "abuse_actions", ["account_id"], unique=False
    )
    op.create_index(op.f("ix_abuse_actions_case_id"), "abuse_actions", ["case_id"], unique=False)
    op.create_index(op.f("ix_abuse_actions_zone_id"), "abuse_actions", ["zone_id"], unique=False)
    op.create_table(
        "abuse_case_urls",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("zone_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["abuse_cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["zone_id"], ["zones.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_abuse_case_urls_case_id"), "abuse_case_urls", ["case_id"], unique=False
    )
    op.create_index("ix_abuse_case_urls_url", "abuse_case_urls", ["url"], unique=False)
    op.create_table(
        "abuse_counter_notices",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("fields", _json(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("received_on", UTCDateTime, nullable=False),
        sa.Column("restore_due_on", UTCDateTime, nullable=True),
        sa.Column("lawsuit_on", UTCDateTime, nullable=True),
        sa.Column("restored_on", UTCDateTime, nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["abuse_cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_abuse_counter_notices_case_id"), "abuse_counter_notices", ["case_id"], unique=False
    )
    op.create_table(
        "abuse_disclosures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("party", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("what", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["abuse_cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_abuse_disclosures_case_id"), "abuse_disclosures", ["case_id"], unique=False
    )
    op.create_table(
        "abuse_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("party", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["abuse_cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_abuse_messages_case_id"), "abuse_messages", ["case_id"], unique=False)
    op.create_table(
        "abuse_strikes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("issued_on", UTCDateTime, nullable=False),
        sa.Column("reversed_on", UTCDateTime, nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_id"], ["abuse_cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_abuse_strikes_account_id"), "abuse_strikes", ["account_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_abuse_strikes_account_id"), table_name="abuse_strikes")
    op.drop_table("abuse_strikes")
    op.drop_index(op.f("ix_abuse_messages_case_id"), table_name="abuse_messages")
    op.drop_table("abuse_messages")
    op.drop_index(op.f("ix_abuse_disclosures_case_id"), table_name="abuse_disclosures")
    op.drop_table("abuse_disclosures")
    op.drop_index(op.f("ix_abuse_counter_notices_case_id"), table_name="abuse_counter_notices")
    op.drop_table("abuse_counter_notices")
    op.drop_index("ix_abuse_case_urls_url", table_name="abuse_case_urls")
    op.drop_index(op.f("ix_abuse_case_urls_case_id"), table_name="abuse_case_urls")
    op.drop_table("abuse_case_urls")
    op.drop_index(op.f("ix_abuse_actions_zone_id"), table_name="abuse_actions")
    op.drop_index(op.f("ix_abuse_actions_case_id"), table_name="abuse_actions")
    op.drop_index(op.f("ix_abuse_actions_account_id"), table_name="abuse_actions")
    op.drop_table("abuse_actions")
    op.drop_index("ix_abuse_cases_state_deadline", table_name="abuse_cases")
    op.drop_index(op.f("ix_abuse_cases_received_on"), table_name="abuse_cases")
    op.drop_index("ix_abuse_cases_account_id", table_name="abuse_cases")
    op.drop_table("abuse_cases")
    op.drop_table("account_hosts")
    op.drop_index("ix_mail_outbox_pending", table_name="mail_outbox")
    op.drop_index(op.f("ix_mail_outbox_case_id"), table_name="mail_outbox")
    op.drop_table("mail_outbox")
    op.drop_table("abuse_reporters")
    op.drop_table("abuse_log")
