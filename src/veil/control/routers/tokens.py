"""`/user/tokens`: verify, list, create (value shown once), get, revoke."""

from __future__ import annotations

from datetime import UTC

from fastapi import APIRouter
from sqlalchemy.orm import Session

from veil.control.changes import commit_change
from veil.control.deps import (
    Caller,
    CallerDep,
    ListPage,
    SessionDep,
    StateDep,
    TokenEdit,
    WriteSessionDep,
)
from veil.control.envelope import ApiError, bad_request, not_found, ok, page_info
from veil.control.schemas.common import Envelope, IdResult
from veil.control.schemas.tokens import TokenCreate, TokenCreated, TokenPublic, TokenVerify
from veil.control.store.models import ApiToken
from veil.control.store.repo import tokens as repo
from veil.control.store.repo.zones import find_zone_by_name, get_zone
from veil.control.tokens import Grant, Permission
from veil.control.views import token_public, token_status

router = APIRouter(prefix="/user/tokens", tags=["tokens"])
_EDIT = Permission.TOKEN_EDIT


def _grant(token: ApiToken) -> Grant:
    return Grant.of(token.permissions, token.zone_ids)


def _manageable(caller: Caller, token: ApiToken) -> bool:
    return token.id == caller.token_id or caller.grant.covers(_grant(token))


def _resolve_zones(session: Session, caller: Caller, refs: list[str]) -> list[str]:
    ids: list[str] = []
    for ref in refs:
        zone = get_zone(session=session, zone_id=ref) if len(ref) <= 64 else None
        if zone is None:
            zone = find_zone_by_name(session=session, name=ref.strip().lower().rstrip("."))
        if zone is None or not caller.grant.sees_zone(zone.id):
            raise bad_request(f"zones: unknown zone {ref[:80]!r}")
        if zone.id not in ids:
            ids.append(zone.id)
    return ids


@router.get("/verify", response_model=Envelope[TokenVerify])
def verify_token(caller: CallerDep) -> Envelope[TokenVerify]:
    return ok(TokenVerify(id=caller.token_id, status="active", expires_on=caller.expires_on))


@router.get("", response_model=Envelope[list[TokenPublic]])
def list_tokens(
    caller: TokenEdit, session: SessionDep, state: StateDep, page: ListPage
) -> Envelope[list[TokenPublic]]:
    rows, _ = repo.list_tokens(session=session)
    visible = [t for t in rows if _manageable(caller, t)]
    chunk = visible[page.offset : page.offset + page.per_page]
    now = state.now()
    return ok(
        [token_public(t, now) for t in chunk],
        result_info=page_info(page, count=len(chunk), total=len(visible)),
    )


@router.post("", response_model=Envelope[TokenCreated])
def create_token(
    token_in: TokenCreate, caller: TokenEdit, session: WriteSessionDep, state: StateDep
) -> Envelope[TokenCreated]:
    now = state.now()
    expires_on = token_in.expires_on
    if expires_on is not None:
        expires_on = expires_on if expires_on.tzinfo else expires_on.replace(tzinfo=UTC)
        if expires_on <= now:
            raise bad_request("expires_on: must be in the future")
    zone_ids = None if token_in.zones is None else _resolve_zones(session, caller, token_in.zones)
    permissions = sorted({p.value for p in token_in.permissions})
    if not caller.grant.covers(Grant.of(permissions, zone_ids)):
        raise ApiError(403, 9109, "A token cannot grant more than its own permissions and zones")
    token, value = repo.create_token(
        session=session,
        name=token_in.name,
        permissions=permissions,
        zone_ids=zone_ids,
        expires_on=expires_on,
        created_by=caller.token_id,
        now=now,
    )
    public = token_public(token, now)
    commit_change(
        session=session,
        actor=caller.actor,
        action="token.create",
        resource_type="token",
        resource_id=token.id,
        now=now,
        after=public.model_dump(mode="json"),
        edge_visible=False,
    )
    return ok(TokenCreated(**public.model_dump(), value=value))


def _token_for(session: Session, caller: Caller, token_id: str) -> ApiToken:
    token = repo.get_token(session=session, token_id=token_id) if len(token_id) <= 64 else None
    if token is None or not _manageable(caller, token):
        raise not_found("token")
    return token


@router.get("/{token_id}", response_model=Envelope[TokenPublic])
def get_token(
    token_id: str, caller: CallerDep, session: SessionDep, state: StateDep
) -> Envelope[TokenPublic]:
    if token_id != caller.token_id and not caller.grant.allows(_EDIT):
        raise not_found("token")
    return ok(token_public(_token_for(session, caller, token_id), state.now()))


@router.delete("/{token_id}", response_model=Envelope[IdResult])
def revoke_token(
    token_id: str, caller: CallerDep, session: WriteSessionDep, state: StateDep
) -> Envelope[IdResult]:
    if token_id != caller.token_id and not caller.grant.allows(_EDIT):
        raise not_found("token")
    token = _token_for(session, caller, token_id)
    now = state.now()
    before = token_public(token, now).model_dump(mode="json")
    if token_status(token, now) != "revoked":
        repo.revoke_token(session=session, token=token, now=now)
    commit_change(
        session=session,
        actor=caller.actor,
        action="token.revoke",
        resource_type="token",
        resource_id=token.id,
        now=now,
        before=before,
        after=token_public(token, now).model_dump(mode="json"),
        edge_visible=False,
    )
    return ok(IdResult(id=token.id))
