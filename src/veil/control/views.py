"""Rows to `XPublic` results (Cloudflare's object shapes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from veil.control.cache import DEFAULT_LEVEL, time_remaining
from veil.control.names import PROXIABLE_TYPES
from veil.control.publish import max_upload_mb
from veil.control.schemas.accounts import AccountPublic, AccountRef
from veil.control.schemas.audit import AuditActor, AuditPublic, AuditResource
from veil.control.schemas.cache import (
    BrowserTtlPublic,
    CacheKeyPublic,
    CacheKeyValue,
    CacheLevelPublic,
    DevelopmentModePublic,
    EdgeTtlPublic,
)
from veil.control.schemas.dns_records import DnsRecordPublic
from veil.control.schemas.settings import MaxUploadPublic, OriginSettingPublic, OriginValue
from veil.control.schemas.tokens import TokenPublic, TokenStatus
from veil.control.schemas.zones import ZonePublic
from veil.control.store.models import (
    Account,
    ApiToken,
    AuditEntry,
    DnsRecord,
    Zone,
    ZoneSetting,
)


def account_public(account: Account) -> AccountPublic:
    return AccountPublic(
        id=account.id,
        name=account.name,
        contact_email=account.contact_email,
        contact_email_verified=account.contact_email_verified,
        created_on=account.created_on,
    )


# KYC (issue 4): a zone goes live only once its account's abuse contact is verified.
PENDING_REASON = "account_contact_unverified"


def zone_public(zone: Zone, account: Account) -> ZonePublic:
    return ZonePublic(
        id=zone.id,
        name=zone.name,
        status="active" if account.contact_email_verified else "pending",
        paused=zone.paused,
        created_on=zone.created_on,
        modified_on=zone.modified_on,
        activated_on=zone.created_on if account.contact_email_verified else None,
        account=AccountRef(id=account.id, name=account.name),
        meta={} if account.contact_email_verified else {"pending_reason": PENDING_REASON},
    )


def record_public(record: DnsRecord, zone_name: str) -> DnsRecordPublic:
    return DnsRecordPublic(
        id=record.id,
        zone_id=record.zone_id,
        zone_name=zone_name,
        name=record.name,
        type=record.type,
        content=record.content,
        proxiable=record.type in PROXIABLE_TYPES,
        proxied=record.proxied,
        ttl=record.ttl,
        priority=record.priority,
        comment=record.comment,
        created_on=record.created_on,
        modified_on=record.modified_on,
    )


def token_status(token: ApiToken, now: datetime) -> TokenStatus:
    if token.revoked_on is not None:
        return "revoked"
    if token.expires_on is not None and token.expires_on <= now:
        return "expired"
    return "active"


def token_public(token: ApiToken, now: datetime) -> TokenPublic:
    return TokenPublic(
        id=token.id,
        name=token.name,
        status=token_status(token, now),
        permissions=list(token.permissions),
        zones=None if token.zone_ids is None else list(token.zone_ids),
        hint=f"{token.prefix}…{token.last4}",
        issued_on=token.created_on,
        modified_on=token.revoked_on or token.created_on,
        last_used_on=token.last_used_on,
        expires_on=token.expires_on,
        revoked_on=token.revoked_on,
    )


def origin_public(row: ZoneSetting | None) -> OriginSettingPublic:
    value: Any = row.value if row is not None else None
    return OriginSettingPublic(
        value=OriginValue.model_validate(value) if value is not None else OriginValue(),
        modified_on=row.modified_on if row is not None else None,
    )


def max_upload_public(row: ZoneSetting | None) -> MaxUploadPublic:
    return MaxUploadPublic(
        value=max_upload_mb(row.value if row is not None else None),
        modified_on=row.modified_on if row is not None else None,
    )


def audit_public(entry: AuditEntry) -> AuditPublic:
    return AuditPublic(
        id=entry.id,
        at=entry.at,
        actor=AuditActor(id=entry.actor_id, name=entry.actor_name),
        action=entry.action,
        resource=AuditResource(type=entry.resource_type, id=entry.resource_id),
        before=entry.before,
        after=entry.after,
    )


def _modified(row: ZoneSetting | None) -> datetime | None:
    return row.modified_on if row is not None else None


def _ttl_value(row: ZoneSetting | None) -> int:
    value = row.value if row is not None else 0
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def cache_level_public(row: ZoneSetting | None) -> CacheLevelPublic:
    value: Any = row.value if row is not None else DEFAULT_LEVEL
    return CacheLevelPublic.model_validate({"value": value, "modified_on": _modified(row)})


def browser_ttl_public(row: ZoneSetting | None) -> BrowserTtlPublic:
    return BrowserTtlPublic(value=_ttl_value(row), modified_on=_modified(row))


def edge_ttl_public(row: ZoneSetting | None) -> EdgeTtlPublic:
    return EdgeTtlPublic(value=_ttl_value(row), modified_on=_modified(row))


def development_mode_public(row: ZoneSetting | None, *, now: float) -> DevelopmentModePublic:
    remaining = time_remaining(row.value if row is not None else None, now)
    return DevelopmentModePublic(
        value="on" if remaining > 0 else "off",
        time_remaining=remaining,
        modified_on=_modified(row),
    )


def cache_key_public(row: ZoneSetting | None) -> CacheKeyPublic:
    value: Any = row.value if row is not None else None
    return CacheKeyPublic(
        value=CacheKeyValue.model_validate(value) if value is not None else CacheKeyValue(),
        modified_on=_modified(row),
    )
