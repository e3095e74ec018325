"""DNS records. Name and content rules that need the zone are checked in the router."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

RecordType = Literal["A", "AAAA", "CNAME", "TXT", "MX", "NS", "PTR"]


class DnsRecordCreate(BaseModel):
    type: RecordType
    name: str = Field(min_length=1, max_length=255)
    content: str = Field(min_length=1, max_length=4096)
    ttl: int = Field(default=1, ge=1, le=86400)
    proxied: bool = False
    priority: int | None = Field(default=None, ge=0, le=65535)
    comment: str | None = Field(default=None, max_length=500)


class DnsRecordUpdate(BaseModel):
    type: RecordType | None = None
    name: str | None = Field(default=None, min_length=1, max_length=255)
    content: str | None = Field(default=None, min_length=1, max_length=4096)
    ttl: int | None = Field(default=None, ge=1, le=86400)
    proxied: bool | None = None
    priority: int | None = Field(default=None, ge=0, le=65535)
    comment: str | None = Field(default=None, max_length=500)


class DnsRecordPublic(BaseModel):
    id: str
    zone_id: str
    zone_name: str
    name: str
    type: str
    content: str
    proxiable: bool
    proxied: bool
    ttl: int
    priority: int | None = None
    locked: bool = False
    comment: str | None
    tags: list[str] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)
    created_on: datetime
    modified_on: datetime
