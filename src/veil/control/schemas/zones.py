"""Zones, in Cloudflare's zone object shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from veil.control.names import InvalidName, normalize_zone_name
from veil.control.schemas.accounts import AccountRef
from veil.control.schemas.common import ObjectId


class ZoneAccountIn(BaseModel):
    id: ObjectId


class ZoneCreate(BaseModel):
    name: str = Field(min_length=1, max_length=253)
    account: ZoneAccountIn | None = None
    type: Literal["full"] = "full"

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        try:
            return normalize_zone_name(value)
        except InvalidName as exc:
            raise ValueError(str(exc)) from None


class ZoneUpdate(BaseModel):
    paused: bool | None = None


class ZoneOwner(BaseModel):
    id: str | None = None
    type: str = "user"
    email: str | None = None


class ZonePlan(BaseModel):
    id: str = "veil"
    name: str = "Veil"
    price: float = 0
    currency: str = "USD"
    frequency: str = ""
    is_subscribed: bool = True
    can_subscribe: bool = False
    legacy_id: str = "free"
    legacy_discount: bool = False
    externally_managed: bool = False


class ZonePublic(BaseModel):
    id: str
    name: str
    status: Literal["active", "pending"]  # pending: the account's abuse contact is unverified
    paused: bool
    type: Literal["full"] = "full"
    development_mode: int = 0
    name_servers: list[str] = Field(default_factory=list)
    original_name_servers: list[str] | None = None
    original_registrar: str | None = None
    original_dnshost: str | None = None
    created_on: datetime
    modified_on: datetime
    activated_on: datetime | None
    account: AccountRef
    owner: ZoneOwner = Field(default_factory=ZoneOwner)
    meta: dict[str, Any] = Field(default_factory=dict)
    permissions: list[str] = Field(default_factory=list)
    plan: ZonePlan = Field(default_factory=ZonePlan)
