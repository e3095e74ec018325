"""Accounts. `POST`/`PATCH` and the contact fields are Veil additions for the operator."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from veil.control.schemas.common import Email, Label


class AccountCreate(BaseModel):
    name: Label
    contact_email: Email
    contact_email_verified: bool = False


class AccountUpdate(BaseModel):
    name: Label | None = None
    contact_email: Email | None = None
    contact_email_verified: bool | None = None


class AccountRef(BaseModel):
    id: str
    name: str


class AccountPublic(BaseModel):
    id: str
    name: str
    type: Literal["standard"] = "standard"
    contact_email: str
    contact_email_verified: bool
    created_on: datetime
    settings: dict[str, Any] = Field(default_factory=dict)
