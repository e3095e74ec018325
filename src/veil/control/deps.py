"""Typed FastAPI dependencies: state, sessions, the calling token, permissions, paging.

Authentication runs on EVERY request against the database (no cache), so a revoked or
expired token is refused on the very next request. It uses its own short transaction, so a
long-poll does not hold a database connection while it waits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from veil.control.envelope import CODE_AUTH, CODE_FORBIDDEN, ApiError
from veil.control.state import ControlState
from veil.control.store.models import Zone
from veil.control.store.repo.audit import Actor
from veil.control.store.repo.paging import Page
from veil.control.store.repo.tokens import find_token_by_hash, touch_token
from veil.control.store.repo.zones import get_zone
from veil.control.tokens import Grant, Permission, hash_token, hashes_match, is_well_formed

TOUCH_INTERVAL = timedelta(seconds=60)
_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer veil_…`")


def get_state(request: Request) -> ControlState:
    state: ControlState = request.app.state.veil
    return state


StateDep = Annotated[ControlState, Depends(get_state)]


def get_session(state: StateDep) -> Iterator[Session]:
    with state.db.read() as session:
        yield session


def get_write_session(state: StateDep) -> Iterator[Session]:
    with state.db.write() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
WriteSessionDep = Annotated[Session, Depends(get_write_session)]


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated token behind a request."""

    token_id: str
    name: str
    grant: Grant
    expires_on: datetime | None

    @property
    def actor(self) -> Actor:
        return Actor(id=self.token_id, name=self.name)


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, CODE_AUTH, message, headers={"WWW-Authenticate": "Bearer"})


def authenticate(state: ControlState, value: str) -> Caller:
    """The caller for a token value, checked now: format, hash, revocation, expiry."""
    if not is_well_formed(value):
        raise _unauthorized("Invalid API token")
    now = state.now()
    with state.db.read() as session:
        token = find_token_by_hash(session=session, token_hash=hash_token(value))
        if token is None or not hashes_match(token.token_hash, value):
            raise _unauthorized("Invalid API token")
        if token.revoked_on is not None:
            raise _unauthorized("API token has been revoked")
        if token.expires_on is not None and token.expires_on <= now:
            raise _unauthorized("API token has expired")
        caller = Caller(
            token_id=token.id,
            name=token.name,
            grant=Grant.of(token.permissions, token.zone_ids),
            expires_on=token.expires_on,
        )
        stale = token.last_used_on is None or now - token.last_used_on >= TOUCH_INTERVAL
    if stale:
        with state.db.write() as session:
            touch_token(session=session, token_id=caller.token_id, now=now)
            session.commit()
    return caller


def get_caller(
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("Missing Authorization: Bearer token")
    return authenticate(state, credentials.credentials.strip())


CallerDep = Annotated[Caller, Depends(get_caller)]


def require(*permissions: Permission) -> Callable[[Caller], Caller]:
    """A dependency: the caller holds at least one of `permissions` (admin holds all)."""

    def check(caller: CallerDep) -> Caller:
        if not any(caller.grant.allows(p) for p in permissions):
            raise ApiError(403, CODE_FORBIDDEN, "Unauthorized to access requested resource")
        return caller

    return check


ZoneRead = Annotated[Caller, Depends(require(Permission.ZONE_READ, Permission.ZONE_EDIT))]
ZoneEdit = Annotated[Caller, Depends(require(Permission.ZONE_EDIT))]
DnsRead = Annotated[Caller, Depends(require(Permission.DNS_READ, Permission.DNS_EDIT))]
DnsEdit = Annotated[Caller, Depends(require(Permission.DNS_EDIT))]
AccountRead = Annotated[Caller, Depends(require(Permission.ACCOUNT_READ, Permission.ACCOUNT_EDIT))]
AccountEdit = Annotated[Caller, Depends(require(Permission.ACCOUNT_EDIT))]
TokenEdit = Annotated[Caller, Depends(require(Permission.TOKEN_EDIT))]
CachePurge = Annotated[Caller, Depends(require(Permission.CACHE_PURGE))]
EdgeRead = Annotated[Caller, Depends(require(Permission.EDGE_READ))]
AbuseReport = Annotated[Caller, Depends(require(Permission.ABUSE_REPORT, Permission.ABUSE_DESK))]
AbuseRead = Annotated[Caller, Depends(require(Permission.ABUSE_READ, Permission.ABUSE_EDIT))]
AbuseEdit = Annotated[Caller, Depends(require(Permission.ABUSE_EDIT))]
AbuseDesk = Annotated[Caller, Depends(require(Permission.ABUSE_DESK))]
Admin = Annotated[Caller, Depends(require(Permission.ADMIN))]


def paging(default: int, maximum: int) -> Callable[[int, int], Page]:
    # Plain defaults (not Annotated): the closure's `maximum` cannot be a string annotation.
    def page_params(
        page: int = Query(1, ge=1, le=100_000),
        per_page: int = Query(default, ge=1, le=maximum),
    ) -> Page:
        return Page(page=page, per_page=per_page)

    return page_params


ZonePage = Annotated[Page, Depends(paging(20, 50))]
RecordPage = Annotated[Page, Depends(paging(100, 5000))]
ListPage = Annotated[Page, Depends(paging(20, 100))]


def visible_zone(*, session: Session, caller: Caller, zone_id: str) -> Zone:
    """The zone, or 404 — the same 404 whether it does not exist or the token may not see it
    (no existence oracle)."""
    zone = get_zone(session=session, zone_id=zone_id) if len(zone_id) <= 64 else None
    if zone is None or not caller.grant.sees_zone(zone.id):
        raise ApiError(404, 7003, "Could not route to the zone: invalid object identifier")
    return zone
