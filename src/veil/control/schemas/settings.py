"""Zone settings in Cloudflare's `{id, value, editable, modified_on}` shape."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from veil.control.names import InvalidName, normalize_hostname
from veil.snapshot import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT

DEFAULT_MAX_UPLOAD_MB = 100
MAX_MAX_UPLOAD_MB = 5000
MAX_CONNECT_TIMEOUT = 60.0
MAX_READ_TIMEOUT = 6000.0


def _host_header(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalize_hostname(value)
    except InvalidName as exc:
        raise ValueError(str(exc)) from None


class OriginValue(BaseModel):
    """How the edge reaches the zone's origin (docs/origin-settings.md)."""

    scheme: Literal["http", "https"] = "http"
    port: int = Field(default=80, ge=1, le=65535)
    host_header: str | None = Field(default=None, max_length=253)
    connect_timeout: float = Field(default=DEFAULT_CONNECT_TIMEOUT, gt=0, le=MAX_CONNECT_TIMEOUT)
    read_timeout: float = Field(default=DEFAULT_READ_TIMEOUT, gt=0, le=MAX_READ_TIMEOUT)

    @field_validator("host_header")
    @classmethod
    def _check_host(cls, value: str | None) -> str | None:
        return _host_header(value)


class OriginValueUpdate(BaseModel):
    scheme: Literal["http", "https"] | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    host_header: str | None = Field(default=None, max_length=253)
    connect_timeout: float | None = Field(default=None, gt=0, le=MAX_CONNECT_TIMEOUT)
    read_timeout: float | None = Field(default=None, gt=0, le=MAX_READ_TIMEOUT)

    @field_validator("host_header")
    @classmethod
    def _check_host(cls, value: str | None) -> str | None:
        return _host_header(value)


class OriginSettingUpdate(BaseModel):
    value: OriginValueUpdate


class MaxUploadUpdate(BaseModel):
    value: int = Field(ge=1, le=MAX_MAX_UPLOAD_MB)


class OriginSettingPublic(BaseModel):
    id: Literal["origin"] = "origin"
    value: OriginValue
    editable: bool = True
    modified_on: datetime | None


class MaxUploadPublic(BaseModel):
    id: Literal["max_upload"] = "max_upload"
    value: int
    editable: bool = True
    modified_on: datetime | None
