"""`POST /zones/{zone_id}/purge_cache`, as Cloudflare's (docs/cache.md, "Purge").

One request is one config version: the version is bumped first, the items are stored carrying
it, the zone's purges are compacted (`veil.control.purges.compact`), the request is audited,
and the commit wakes every waiting edge long-poll at once."""

from __future__ import annotations

from fastapi import APIRouter

from veil.control.changes import commit_change, reserve_version
from veil.control.deps import CachePurge, StateDep, WriteSessionDep, visible_zone
from veil.control.envelope import bad_request, ok
from veil.control.purges import FileSpec, PurgeRefused, purge_items
from veil.control.schemas.cache import PurgeRequest, PurgeResult
from veil.control.schemas.common import Envelope
from veil.control.store.models import new_id
from veil.control.store.repo.purges import add_purges, compact_purges

router = APIRouter(prefix="/zones/{zone_id}", tags=["cache"])
AUDITED_ITEMS = 500


def _files(body: PurgeRequest) -> list[FileSpec] | None:
    if body.files is None:
        return None
    return [f if isinstance(f, str) else (f.url, f.headers) for f in body.files]


@router.post("/purge_cache", response_model=Envelope[PurgeResult])
def purge_cache(
    zone_id: str,
    body: PurgeRequest,
    caller: CachePurge,
    session: WriteSessionDep,
    state: StateDep,
) -> Envelope[PurgeResult]:
    zone = visible_zone(session=session, caller=caller, zone_id=zone_id)
    policy = state.purge_policy
    try:
        items = purge_items(
            zone_name=zone.name,
            files=_files(body),
            prefixes=body.prefixes,
            hosts=body.hosts,
            tags=body.tags,
            everything=body.purge_everything,
            soft=body.soft,
            limit=policy.max_items_per_request,
        )
    except PurgeRefused as exc:
        raise bad_request(str(exc)) from None
    now = state.now()
    request_id = new_id()
    version = reserve_version(session=session, now=now)
    add_purges(
        session=session,
        zone_id=zone.id,
        request_id=request_id,
        items=items,
        version=version,
        now=now,
    )
    compacted = compact_purges(
        session=session, zone_id=zone.id, request_id=request_id, now=now, policy=policy
    )
    commit_change(
        session=session,
        actor=caller.actor,
        action="cache.purge",
        resource_type="zone",
        resource_id=zone.id,
        now=now,
        after={
            "id": request_id,
            "version": version,
            "soft": body.soft,
            "kind": items[0].kind,
            "count": len(items),
            "items": [
                {"value": i.value, "headers": [list(h) for h in i.headers]}
                for i in items[:AUDITED_ITEMS]
            ],
            "compacted": compacted,
        },
        edge_visible=False,  # reserve_version already bumped; the commit publishes it
    )
    return ok(PurgeResult(id=request_id))
