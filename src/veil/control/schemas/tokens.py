"""API tokens. Veil tokens carry a flat permission list rather than Cloudflare's policies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from veil.control.schemas.common import Label
from veil.control.tokens import Permission

TokenStatus = Literal["active", "revoked", "expired"]


class TokenCreate(BaseModel):
    name: Label
    permissions: list[Permission] = Field(min_length=1, max_length=len(Permission))
    zones: list[str] | None = Field(default=None, max_length=1000)
    expires_on: datetime | None = None


class TokenPublic(BaseModel):
    id: str
    name: str
    status: TokenStatus
    permissions: list[str]
    zones: list[str] | None
    hint: str
    issued_on: datetime
    modified_on: datetime
    last_used_on: datetime | None
    expires_on: datetime | None
    revoked_on: datetime | None
    not_before: datetime | None = None


class TokenCreated(TokenPublic):
    value: str


class TokenVerify(BaseModel):
    id: str
    status: TokenStatus
    expires_on: datetime | None
    not_before: datetime | None = None
