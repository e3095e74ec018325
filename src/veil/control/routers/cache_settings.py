"""`/zones/{zone_id}/settings/{cache_level, browser_cache_ttl, edge_cache_ttl,
development_mode, cache_key}` in Cloudflare's settings shape (docs/cache.md, "Settings").

Each is one `zone_settings` row (absent: the default); every change is audited and bumps the
config version, so the next snapshot carries it (`veil.control.cache.cache_settings`)."""

from __future__ import annotations

from typing import TypeVar

from fastapi import APIRouter
from pydantic import BaseModel

from veil.control.cache import (
    BROWSER_TTL,
    CACHE_KEY,
    CACHE_LEVEL,
    DEVELOPMENT_MODE,
    DEVELOPMENT_MODE_SECONDS,
    EDGE_TTL,
)
from veil.control.deps import SessionDep, StateDep, WriteSessionDep, ZoneEdit, ZoneRead
from veil.control.envelope import bad_request, ok
from veil.control.schemas.cache import (
    BrowserTtlPublic,
    CacheKeyPublic,
    CacheKeyUpdate,
    CacheKeyValue,
    CacheLevelPublic,
    CacheLevelUpdate,
    DevelopmentModePublic,
    DevelopmentModeUpdate,
    EdgeTtlPublic,
    TtlUpdate,
)
from veil.control.schemas.common import Envelope
from veil.control.setting_io import read_setting, write_setting
from veil.control.views import (
    browser_ttl_public,
    cache_key_public,
    cache_level_public,
    development_mode_public,
    edge_ttl_public,
)

router = APIRouter(prefix="/zones/{zone_id}/settings", tags=["zone_settings"])
P = TypeVar("P", bound=BaseModel)


@router.get("/cache_level", response_model=Envelope[CacheLevelPublic])
def get_cache_level(
    zone_id: str, caller: ZoneRead, session: SessionDep
) -> Envelope[CacheLevelPublic]:
    return ok(cache_level_public(read_setting(session, caller, zone_id, CACHE_LEVEL)[1]))


@router.patch("/cache_level", response_model=Envelope[CacheLevelPublic])
def update_cache_level(
    zone_id: str,
    setting_in: CacheLevelUpdate,
    caller: ZoneEdit,
    session: WriteSessionDep,
    state: StateDep,
) -> Envelope[CacheLevelPublic]:
    return ok(
        write_setting(
            session=session,
            state=state,
            caller=caller,
            zone_id=zone_id,
            setting_id=CACHE_LEVEL,
            value=setting_in.value,
            public=cache_level_public,
        )
    )


@router.get("/browser_cache_ttl", response_model=Envelope[BrowserTtlPublic])
def get_browser_ttl(
    zone_id: str, caller: ZoneRead, session: SessionDep
) -> Envelope[BrowserTtlPublic]:
    return ok(browser_ttl_public(read_setting(session, caller, zone_id, BROWSER_TTL)[1]))


@router.patch("/browser_cache_ttl", response_model=Envelope[BrowserTtlPublic])
def update_browser_ttl(
    zone_id: str, setting_in: TtlUpdate, caller: ZoneEdit, session: WriteSessionDep, state: StateDep
) -> Envelope[BrowserTtlPublic]:
    return ok(
        write_setting(
            session=session,
            state=state,
            caller=caller,
            zone_id=zone_id,
            setting_id=BROWSER_TTL,
            value=setting_in.value or 0,
            public=browser_ttl_public,
        )
    )


@router.get("/edge_cache_ttl", response_model=Envelope[EdgeTtlPublic])
def get_edge_ttl(zone_id: str, caller: ZoneRead, session: SessionDep) -> Envelope[EdgeTtlPublic]:
    return ok(edge_ttl_public(read_setting(session, caller, zone_id, EDGE_TTL)[1]))


@router.patch("/edge_cache_ttl", response_model=Envelope[EdgeTtlPublic])
def update_edge_ttl(
    zone_id: str, setting_in: TtlUpdate, caller: ZoneEdit, session: WriteSessionDep, state: StateDep
) -> Envelope[EdgeTtlPublic]:
    return ok(
        write_setting(
            session=session,
            state=state,
            caller=caller,
            zone_id=zone_id,
            setting_id=EDGE_TTL,
            value=setting_in.value or 0,
            public=edge_ttl_public,
        )
    )


@router.get("/development_mode", response_model=Envelope[DevelopmentModePublic])
def get_development_mode(
    zone_id: str, caller: ZoneRead, session: SessionDep, state: StateDep
) -> Envelope[DevelopmentModePublic]:
    row = read_setting(session, caller, zone_id, DEVELOPMENT_MODE)[1]
    return ok(development_mode_public(row, now=state.clock.now()))


@router.patch("/development_mode", response_model=Envelope[DevelopmentModePublic])
def update_development_mode(
    zone_id: str,
    setting_in: DevelopmentModeUpdate,
    caller: ZoneEdit,
    session: WriteSessionDep,
    state: StateDep,
) -> Envelope[DevelopmentModePublic]:
    now = state.clock.now()
    until = now + DEVELOPMENT_MODE_SECONDS if setting_in.value == "on" else 0.0
    return ok(
        write_setting(
            session=session,
            state=state,
            caller=caller,
            zone_id=zone_id,
            setting_id=DEVELOPMENT_MODE,
            value=until,
            public=lambda row: development_mode_public(row, now=now),
        )
    )


@router.get("/cache_key", response_model=Envelope[CacheKeyPublic])
def get_cache_key(zone_id: str, caller: ZoneRead, session: SessionDep) -> Envelope[CacheKeyPublic]:
    return ok(cache_key_public(read_setting(session, caller, zone_id, CACHE_KEY)[1]))


def merged_cache_key(current: CacheKeyValue, setting_in: CacheKeyUpdate) -> CacheKeyValue:
    """The stored key after a PATCH: given fields replace; the allow list only with `allow`."""
    changes = setting_in.value.model_dump(exclude_none=True)
    merged = CacheKeyValue.model_validate({**current.model_dump(), **changes})
    if merged.query == "allow" and not merged.query_allow:
        raise bad_request("value.query_allow: name at least one parameter when query is allow")
    if merged.query != "allow" and merged.query_allow:
        if "query_allow" in changes:
            raise bad_request("value.query_allow: only used when query is allow")
        merged.query_allow = []
    return merged


@router.patch("/cache_key", response_model=Envelope[CacheKeyPublic])
def update_cache_key(
    zone_id: str,
    setting_in: CacheKeyUpdate,
    caller: ZoneEdit,
    session: WriteSessionDep,
    state: StateDep,
) -> Envelope[CacheKeyPublic]:
    current = cache_key_public(read_setting(session, caller, zone_id, CACHE_KEY)[1]).value
    value = merged_cache_key(current, setting_in)
    return ok(
        write_setting(
            session=session,
            state=state,
            caller=caller,
            zone_id=zone_id,
            setting_id=CACHE_KEY,
            value=value.model_dump(),
            public=cache_key_public,
        )
    )
