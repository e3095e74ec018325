"""`/zones/{zone_id}/settings`: the list of all of them, `origin` (Veil) and `max_upload`
(Cloudflare), in Cloudflare's `{id, value, editable, modified_on}` shape. The cache settings
have their own router (`cache_settings.py`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from veil.control.cache import BROWSER_TTL, CACHE_KEY, CACHE_LEVEL, DEVELOPMENT_MODE, EDGE_TTL
from veil.control.deps import (
    SessionDep,
    StateDep,
    WriteSessionDep,
    ZoneEdit,
    ZoneRead,
    visible_zone,
)
from veil.control.envelope import ok
from veil.control.schemas.cache import (
    BrowserTtlPublic,
    CacheKeyPublic,
    CacheLevelPublic,
    DevelopmentModePublic,
    EdgeTtlPublic,
)
from veil.control.schemas.common import Envelope
from veil.control.schemas.settings import (
    MaxUploadPublic,
    MaxUploadUpdate,
    OriginSettingPublic,
    OriginSettingUpdate,
    OriginValue,
)
from veil.control.setting_io import read_setting, write_setting
from veil.control.store.models import ZoneSetting
from veil.control.store.repo.zone_settings import get_setting
from veil.control.views import (
    browser_ttl_public,
    cache_key_public,
    cache_level_public,
    development_mode_public,
    edge_ttl_public,
    max_upload_public,
    origin_public,
)

router = APIRouter(prefix="/zones/{zone_id}/settings", tags=["zone_settings"])
ORIGIN = "origin"
MAX_UPLOAD = "max_upload"


AnySetting = (
    OriginSettingPublic
    | MaxUploadPublic
    | CacheLevelPublic
    | BrowserTtlPublic
    | EdgeTtlPublic
    | DevelopmentModePublic
    | CacheKeyPublic
)


@router.get("", response_model=Envelope[list[AnySetting]])
def list_settings(
    zone_id: str, caller: ZoneRead, session: SessionDep, state: StateDep
) -> Envelope[list[AnySetting]]:
    zone = visible_zone(session=session, caller=caller, zone_id=zone_id)

    def row(setting_id: str) -> ZoneSetting | None:
        return get_setting(session=session, zone_id=zone.id, setting_id=setting_id)

    return ok(
        [
            origin_public(row(ORIGIN)),
            max_upload_public(row(MAX_UPLOAD)),
            cache_level_public(row(CACHE_LEVEL)),
            browser_ttl_public(row(BROWSER_TTL)),
            edge_ttl_public(row(EDGE_TTL)),
            development_mode_public(row(DEVELOPMENT_MODE), now=state.clock.now()),
            cache_key_public(row(CACHE_KEY)),
        ]
    )


@router.get("/origin", response_model=Envelope[OriginSettingPublic])
def get_origin(
    zone_id: str, caller: ZoneRead, session: SessionDep
) -> Envelope[OriginSettingPublic]:
    zone = visible_zone(session=session, caller=caller, zone_id=zone_id)
    return ok(origin_public(get_setting(session=session, zone_id=zone.id, setting_id=ORIGIN)))


@router.patch("/origin", response_model=Envelope[OriginSettingPublic])
def update_origin(
    zone_id: str,
    setting_in: OriginSettingUpdate,
    caller: ZoneEdit,
    session: WriteSessionDep,
    state: StateDep,
) -> Envelope[OriginSettingPublic]:
    _, row = read_setting(session, caller, zone_id, ORIGIN)
    changes = setting_in.value.model_dump(exclude_unset=True)
    changes = {k: v for k, v in changes.items() if v is not None or k == "host_header"}
    value: dict[str, Any] = OriginValue.model_validate(
        {**origin_public(row).value.model_dump(), **changes}
    ).model_dump()
    return ok(
        write_setting(
            session=session,
            state=state,
            caller=caller,
            zone_id=zone_id,
            setting_id=ORIGIN,
            value=value,
            public=origin_public,
        )
    )


@router.get("/max_upload", response_model=Envelope[MaxUploadPublic])
def get_max_upload(
    zone_id: str, caller: ZoneRead, session: SessionDep
) -> Envelope[MaxUploadPublic]:
    zone = visible_zone(session=session, caller=caller, zone_id=zone_id)
    return ok(
        max_upload_public(get_setting(session=session, zone_id=zone.id, setting_id=MAX_UPLOAD))
    )


@router.patch("/max_upload", response_model=Envelope[MaxUploadPublic])
def update_max_upload(
    zone_id: str,
    setting_in: MaxUploadUpdate,
    caller: ZoneEdit,
    session: WriteSessionDep,
    state: StateDep,
) -> Envelope[MaxUploadPublic]:
    return ok(
        write_setting(
            session=session,
            state=state,
            caller=caller,
            zone_id=zone_id,
            setting_id=MAX_UPLOAD,
            value=setting_in.value,
            public=max_upload_public,
        )
    )
