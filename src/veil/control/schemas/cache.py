"""Zone cache settings in Cloudflare's `{id, value, editable, modified_on}` shape, and the
`purge_cache` body (docs/cache.md)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

from veil.control.purges import MAX_ITEMS_PER_REQUEST, MAX_URL_LENGTH

# Cloudflare's names (aggressive, basic, simplified) and Veil's own.
CacheLevelName = Literal[
    "aggressive", "basic", "simplified", "bypass", "standard", "ignore_query", "cache_everything"
]
QueryModeName = Literal["all", "none", "sorted", "allow"]
MAX_TTL = 31_536_000  # one year, Cloudflare's largest browser_cache_ttl
MAX_KEY_NAMES = 20
MAX_QUERY_ALLOW = 100
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")  # RFC 9110 §5.6.2, RFC 6265 §4.1.1
_PARAM = re.compile(r"^[^\x00-\x20\x7f&=#]{1,256}$")


def _names(values: list[str], *, what: str, pattern: re.Pattern[str], limit: int) -> list[str]:
    if len(values) > limit:
        raise ValueError(f"at most {limit} {what}")
    for value in values:
        if not pattern.match(value):
            raise ValueError(f"{value!r} is not a valid {what[:-1]}")
    return list(dict.fromkeys(values))


def _headers(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    names = _names(values, what="header names", pattern=_TOKEN, limit=MAX_KEY_NAMES)
    lowered = list(dict.fromkeys(v.lower() for v in names))
    if "cookie" in lowered:
        raise ValueError("key on single cookies with `cookies`, not the whole Cookie header")
    return lowered


def _cookies(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return _names(values, what="cookie names", pattern=_TOKEN, limit=MAX_KEY_NAMES)


def _params(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return _names(values, what="query parameters", pattern=_PARAM, limit=MAX_QUERY_ALLOW)


class CacheLevelUpdate(BaseModel):
    value: CacheLevelName


class TtlUpdate(BaseModel):
    """Seconds; 0 (or null) means "as the origin says"."""

    value: int | None = Field(ge=0, le=MAX_TTL)


class DevelopmentModeUpdate(BaseModel):
    value: Literal["on", "off"]


class CacheKeyValue(BaseModel):
    """Veil's cache key: the query string mode, its allow list, request headers and cookies."""

    query: QueryModeName = "all"
    query_allow: list[str] = Field(default_factory=list)
    headers: list[str] = Field(default_factory=list)
    cookies: list[str] = Field(default_factory=list)


class CacheKeyValueUpdate(BaseModel):
    query: QueryModeName | None = None
    query_allow: list[str] | None = None
    headers: list[str] | None = None
    cookies: list[str] | None = None

    _check_params = field_validator("query_allow")(_params)
    _check_headers = field_validator("headers")(_headers)
    _check_cookies = field_validator("cookies")(_cookies)


class CacheKeyUpdate(BaseModel):
    value: CacheKeyValueUpdate


class CacheLevelPublic(BaseModel):
    id: Literal["cache_level"] = "cache_level"
    value: CacheLevelName
    editable: bool = True
    modified_on: datetime | None


class BrowserTtlPublic(BaseModel):
    id: Literal["browser_cache_ttl"] = "browser_cache_ttl"
    value: int
    editable: bool = True
    modified_on: datetime | None


class EdgeTtlPublic(BaseModel):
    id: Literal["edge_cache_ttl"] = "edge_cache_ttl"
    value: int
    editable: bool = True
    modified_on: datetime | None


class DevelopmentModePublic(BaseModel):
    id: Literal["development_mode"] = "development_mode"
    value: Literal["on", "off"]
    time_remaining: int  # seconds until development mode ends by itself
    editable: bool = True
    modified_on: datetime | None


class CacheKeyPublic(BaseModel):
    id: Literal["cache_key"] = "cache_key"
    value: CacheKeyValue
    editable: bool = True
    modified_on: datetime | None


PurgeText = Annotated[str, StringConstraints(max_length=MAX_URL_LENGTH)]


class PurgeFile(BaseModel):
    """A URL with the request headers that select one of its Vary variants."""

    url: PurgeText
    headers: dict[Annotated[str, StringConstraints(max_length=256)], PurgeText] = Field(
        default_factory=dict
    )


class PurgeRequest(BaseModel):
    """Cloudflare's purge_cache body: exactly one member, plus Veil's `soft`."""

    files: list[PurgeText | PurgeFile] | None = Field(
        default=None, max_length=MAX_ITEMS_PER_REQUEST
    )
    prefixes: list[PurgeText] | None = Field(default=None, max_length=MAX_ITEMS_PER_REQUEST)
    hosts: list[PurgeText] | None = Field(default=None, max_length=MAX_ITEMS_PER_REQUEST)
    tags: list[PurgeText] | None = Field(default=None, max_length=MAX_ITEMS_PER_REQUEST)
    purge_everything: bool | None = None
    soft: bool = False


class PurgeResult(BaseModel):
    id: str
