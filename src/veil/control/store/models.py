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


# --- The abuse desk (issue 4; docs/abuse.md) -------------------------------------------------


class AccountHost(Base):
    """The hosting provider an account declares for its origins (wins over the ASN/RDAP
    lookup): who is told about notices and whose name the reporter's receipt carries."""

    __tablename__ = "account_hosts"

    account_id: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(sa.String(255))
    abuse_email: Mapped[str] = mapped_column(sa.String(320))
    modified_on: Mapped[datetime] = mapped_column(UTCDateTime)


class AbuseReporter(Base):
    """Someone who files notices: by e-mail address, optionally with a reporter token.
    `trusted_*`: vetted by the operator (agreement recorded), lapsing after inactivity."""

    __tablename__ = "abuse_reporters"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    token_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    trusted: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    trusted_agreement: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    trusted_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    valid_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    invalid_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_active_on: Mapped[datetime] = mapped_column(UTCDateTime)
    created_on: Mapped[datetime] = mapped_column(UTCDateTime)


class AbuseCase(Base):
    """One notice (and the duplicates that joined it) from intake to closure.

    `notice` holds the fields as the reporter sent them (Cloudflare's names); `problems` the
    validation's repair list; `host` the hosting provider found for the origin (name, abuse
    e-mail, ASN, how it was found) — the origin IP itself is `origin_ip`, never shown to the
    reporter. `state` is a `veil.abuse.cases.CaseState`."""

    __tablename__ = "abuse_cases"
    __table_args__ = (
        sa.Index("ix_abuse_cases_state_deadline", "state", "deadline_on"),
        sa.Index("ix_abuse_cases_account_id", "account_id"),
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    category: Mapped[str] = mapped_column(sa.String(32))
    channel: Mapped[str] = mapped_column(sa.String(16))  # form | api | email | xarf | order
    source: Mapped[str] = mapped_column(sa.String(16))  # trusted | ordinary | voluntary | authority
    state: Mapped[str] = mapped_column(sa.String(40))
    validation: Mapped[str] = mapped_column(sa.String(40))
    problems: Mapped[list[dict[str, str]]] = mapped_column(JSONValue)
    notice: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    reporter_id: Mapped[str | None] = mapped_column(
        sa.String(32), sa.ForeignKey("abuse_reporters.id", ondelete="SET NULL"), nullable=True
    )
    reporter_email: Mapped[str] = mapped_column(sa.String(320))
    status_key: Mapped[str] = mapped_column(sa.String(64))  # the secret in the status link
    account_id: Mapped[str | None] = mapped_column(
        sa.String(32), sa.ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    zone_id: Mapped[str | None] = mapped_column(
        sa.String(32), sa.ForeignKey("zones.id", ondelete="SET NULL"), nullable=True
    )
    domain: Mapped[str] = mapped_column(sa.String(253), default="")
    origin_ip: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    host: Mapped[dict[str, Any] | None] = mapped_column(JSONValue, nullable=True)
    order: Mapped[dict[str, Any] | None] = mapped_column(JSONValue, nullable=True)
    received_on: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    deadline_on: Mapped[datetime] = mapped_column(UTCDateTime)
    forwarded_on: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    customer_replied_on: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acted_on: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    escalated_on: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_on: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    modified_on: Mapped[datetime] = mapped_column(UTCDateTime)


class AbuseCaseUrl(Base):
    """A reported URL in canonical form (`veil.abuse.urls`), the zone it is on (None: not on
    our network). Duplicate detection and actions look URLs up here."""

    __tablename__ = "abuse_case_urls"
    __table_args__ = (sa.Index("ix_abuse_case_urls_url", "url"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("abuse_cases.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(sa.Text)
    zone_id: Mapped[str | None] = mapped_column(
        sa.String(32), sa.ForeignKey("zones.id", ondelete="SET NULL"), nullable=True
    )


class AbuseAction(Base):
    """A mitigation (Cloudflare's word): `type` a `veil.abuse.actions.ActionType`, `status` a
    `veil.abuse.actions.Status`; `targets` canonical URLs; `countries` empty = worldwide;
    `statement` the DSA Art. 17(3) statement of reasons."""

    __tablename__ = "abuse_actions"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("abuse_cases.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True, index=True)
    zone_id: Mapped[str | None] = mapped_column(
        sa.String(32), sa.ForeignKey("zones.id", ondelete="CASCADE"), nullable=True, index=True
    )
    type: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(16))
    effective_on: Mapped[datetime] = mapped_column(UTCDateTime)
    targets: Mapped[list[str]] = mapped_column(JSONValue)
    countries: Mapped[list[str]] = mapped_column(JSONValue)
    statement: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    created_on: Mapped[datetime] = mapped_column(UTCDateTime)
    modified_on: Mapped[datetime] = mapped_column(UTCDateTime)


class AbuseMessage(Base):
    """Correspondence on a case: notices forwarded, receipts, replies, contests."""

    __tablename__ = "abuse_messages"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("abuse_cases.id", ondelete="CASCADE"), index=True
    )
    party: Mapped[str] = mapped_column(sa.String(16))  # reporter|customer|host|operator
    direction: Mapped[str] = mapped_column(sa.String(3))  # in | out
    kind: Mapped[str] = mapped_column(sa.String(32))
    body: Mapped[str] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AbuseDisclosure(Base):
    """Who was told what about a case (origin IP, reporter identity); shown to the customer."""

    __tablename__ = "abuse_disclosures"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("abuse_cases.id", ondelete="CASCADE"), index=True
    )
    party: Mapped[str] = mapped_column(sa.String(16))
    recipient: Mapped[str] = mapped_column(sa.String(320))
    what: Mapped[str] = mapped_column(sa.String(32))  # origin_ip | reporter_identity | notice
    reason: Mapped[str] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AbuseCounterNotice(Base):
    """A §512(g)(3) counter-notice; `restore_due_on` is when the material comes back unless
    the reporter shows a filed action first (`lawsuit_on`)."""

    __tablename__ = "abuse_counter_notices"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("abuse_cases.id", ondelete="CASCADE"), index=True
    )
    fields: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    valid: Mapped[bool] = mapped_column(sa.Boolean)
    received_on: Mapped[datetime] = mapped_column(UTCDateTime)
    restore_due_on: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lawsuit_on: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    restored_on: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AbuseStrike(Base):
    """One strike of the repeat-infringer ledger (`veil.abuse.strikes`)."""

    __tablename__ = "abuse_strikes"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("abuse_cases.id", ondelete="CASCADE")
    )
    issued_on: Mapped[datetime] = mapped_column(UTCDateTime)
    reversed_on: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AbuseLogEntry(Base):
    """The desk's append-only, hash-chained log (`veil.abuse.chain`): `entry` is the event,
    `prev_hash` the hash of the row before, `hash` this row's. Never updated or deleted."""

    __tablename__ = "abuse_log"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    entry: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)


class MailOutbox(Base):
    """Mail waiting to go out (written in the same transaction as the change that causes it,
    sent by the mailer with retries), so a crash or an SMTP outage loses nothing."""

    __tablename__ = "mail_outbox"
    __table_args__ = (sa.Index("ix_mail_outbox_pending", "sent_on", "next_attempt_on"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True, index=True)
    party: Mapped[str] = mapped_column(sa.String(16))
    kind: Mapped[str] = mapped_column(sa.String(32))
    to_addr: Mapped[str] = mapped_column(sa.String(320))
    subject: Mapped[str] = mapped_column(sa.String(998))
    body: Mapped[str] = mapped_column(sa.Text)
    created_on: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_on: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    sent_on: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
