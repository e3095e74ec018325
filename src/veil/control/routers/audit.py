"""`/veil/audit`: every change, newest first (admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from veil.control.deps import Admin, ListPage, SessionDep
from veil.control.envelope import ok, page_info
from veil.control.schemas.audit import AuditPublic
from veil.control.schemas.common import Envelope
from veil.control.store.repo.audit import list_changes
from veil.control.views import audit_public

router = APIRouter(prefix="/veil/audit", tags=["veil"])


@router.get("", response_model=Envelope[list[AuditPublic]])
def list_audit(
    caller: Admin,
    session: SessionDep,
    page: ListPage,
    resource_type: Annotated[str | None, Query(max_length=32)] = None,
    resource_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
) -> Envelope[list[AuditPublic]]:
    rows, total = list_changes(
        session=session,
        page=page,
        resource_type=resource_type,
        resource_id=resource_id,
        action=action,
    )
    return ok(
        [audit_public(e) for e in rows],
        result_info=page_info(page, count=len(rows), total=total),
    )
