"""API tokens: only the SHA-256 of a token is stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from veil.control.store.models import ApiToken, new_id
from veil.control.store.repo.paging import Page, fetch_page
from veil.control.tokens import generate_token, hash_token, token_hint


def create_token(
    *,
    session: Session,
    name: str,
    permissions: Sequence[str],
    zone_ids: Sequence[str] | None,
    expires_on: datetime | None,
    created_by: str | None,
    now: datetime,
) -> tuple[ApiToken, str]:
    """Mint a token; returns the row and the plain value (shown once, never stored)."""
    value = generate_token()
    prefix, last4 = token_hint(value)
    token = ApiToken(
        id=new_id(),
        name=name,
        token_hash=hash_token(value),
        prefix=prefix,
        last4=last4,
        permissions=list(permissions),
        zone_ids=None if zone_ids is None else list(zone_ids),
        created_by=created_by,
        expires_on=expires_on,
        revoked_on=None,
        created_on=now,
        last_used_on=None,
    )
    session.add(token)
    session.flush()
    return token, value


def find_token_by_hash(*, session: Session, token_hash: str) -> ApiToken | None:
    return session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()


def get_token(*, session: Session, token_id: str) -> ApiToken | None:
    return session.get(ApiToken, token_id)


def find_tokens_by_name(*, session: Session, name: str) -> Sequence[ApiToken]:
    return session.scalars(select(ApiToken).where(ApiToken.name == name)).all()


def list_tokens(*, session: Session, page: Page | None = None) -> tuple[Sequence[ApiToken], int]:
    statement = select(ApiToken).order_by(ApiToken.created_on, ApiToken.id)
    if page is None:
        rows = session.scalars(statement).all()
        return rows, len(rows)
    return fetch_page(session=session, statement=statement, page=page)


def revoke_token(*, session: Session, token: ApiToken, now: datetime) -> ApiToken:
    if token.revoked_on is None:
        token.revoked_on = now
    session.flush()
    return token


def touch_token(*, session: Session, token_id: str, now: datetime) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_on=now))
