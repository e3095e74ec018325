"""`/veil/edge/snapshot` (the edge's long-poll) and `/veil/status` (the operator's view).

Contract (docs/api.md): `GET /client/v4/veil/edge/snapshot?after=N&wait=S&node=ID` with an
`edge:read` token. When the current config version differs from `after` (or `after` is
omitted) the answer is immediate: 200, `result` = `veil.snapshot.snapshot_to_dict(...)`.
Otherwise the request waits up to `wait` seconds (0 to 30) for a change and answers 200 with
`result: null` if none came.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from veil.control.deps import EdgeRead, SessionDep, StateDep
from veil.control.envelope import ok
from veil.control.publish import compile_snapshot
from veil.control.schemas.common import Envelope
from veil.control.schemas.edge import EdgeNodePublic, SnapshotDocument, StatusPublic
from veil.control.state import ControlState
from veil.control.store.repo.dns_records import count_records
from veil.control.store.repo.version import current_version
from veil.control.store.repo.zones import count_zones
from veil.snapshot import snapshot_to_dict

router = APIRouter(prefix="/veil", tags=["veil"])
MAX_WAIT = 30.0
NODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
_NODE = re.compile(NODE_PATTERN)
_NO_CHANGE = json.dumps(
    {"success": True, "errors": [], "messages": [], "result": None, "result_info": None}
).encode()


def _read_version(state: ControlState) -> int:
    with state.db.read() as session:
        return current_version(session=session)


def _compile(state: ControlState) -> tuple[int, bytes]:
    with state.db.read() as session:
        snapshot = compile_snapshot(
            session=session, created_at=state.clock.now(), statement_base=state.desk.public_url
        )
    body: dict[str, Any] = {
        "success": True,
        "errors": [],
        "messages": [],
        "result": snapshot_to_dict(snapshot),
        "result_info": None,
    }
    return snapshot.version, json.dumps(body, separators=(",", ":")).encode()


@router.get("/edge/snapshot", response_model=Envelope[SnapshotDocument])
async def edge_snapshot(
    caller: EdgeRead,
    state: StateDep,
    after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT)] = 0.0,
    node: Annotated[str | None, Query(max_length=64, pattern=NODE_PATTERN)] = None,
) -> Response:
    if node is not None and _NODE.match(node) and after is not None:
        state.hub.saw_node(node=node, version=after)
    version = await state.hub.wait_for_change(
        after=-1 if after is None else after,
        wait=wait,
        read_version=lambda: run_in_threadpool(_read_version, state),
    )
    if version is None:
        return Response(_NO_CHANGE, media_type="application/json")
    payload = await run_in_threadpool(state.hub.snapshot_payload, version, lambda: _compile(state))
    return Response(payload, media_type="application/json")


@router.get("/status", response_model=Envelope[StatusPublic])
def status(caller: EdgeRead, session: SessionDep, state: StateDep) -> Envelope[StatusPublic]:
    version = current_version(session=session)
    edges = [
        EdgeNodePublic(
            node=n.node,
            version=n.version,
            last_seen=state.clock_datetime(n.last_seen),
            lag=max(0, version - n.version),
        )
        for n in state.hub.nodes()
    ]
    return ok(
        StatusPublic(
            version=version,
            zones=count_zones(session=session),
            records=count_records(session=session),
            edges=edges,
        )
    )
