"""`/accounts`: list and get (Cloudflare), create and patch (Veil additions for the operator)."""

from __future__ import annotations

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from veil.control.changes import commit_change
from veil.control.deps import (
    AccountEdit,
    AccountRead,
    Caller,
    ListPage,
    SessionDep,
    StateDep,
    WriteSessionDep,
)
from veil.control.envelope import ApiError, not_found, ok, page_info
from veil.control.schemas.accounts import AccountCreate, AccountPublic, AccountUpdate
from veil.control.schemas.common import Envelope
from veil.control.store.models import Account, Zone
from veil.control.store.repo import accounts as repo
from veil.control.views import account_public

router = APIRouter(prefix="/accounts", tags=["accounts"])


def _visible_account_ids(session: Session, caller: Caller) -> set[str] | None:
    """None: every account; else the accounts that own the caller's zones."""
    if caller.grant.zone_ids is None:
        return None
    statement = select(Zone.account_id).where(Zone.id.in_(list(caller.grant.zone_ids)))
    return set(session.scalars(statement))


def _account_for(session: Session, caller: Caller, account_id: str) -> Account:
    account = (
        repo.get_account(session=session, account_id=account_id) if len(account_id) <= 64 else None
    )
    visible = _visible_account_ids(session, caller)
    if account is None or (visible is not None and account.id not in visible):
        raise not_found("account")
    return account


@router.get("", response_model=Envelope[list[AccountPublic]])
def list_accounts(
    caller: AccountRead,
    session: SessionDep,
    page: ListPage,
    name: str | None = Query(default=None, max_length=255),
) -> Envelope[list[AccountPublic]]:
    rows, total = repo.list_accounts(
        session=session, page=page, name=name, only_ids=_visible_account_ids(session, caller)
    )
    return ok(
        [account_public(a) for a in rows],
        result_info=page_info(page, count=len(rows), total=total),
    )


@router.get("/{account_id}", response_model=Envelope[AccountPublic])
def get_account(
    account_id: str, caller: AccountRead, session: SessionDep
) -> Envelope[AccountPublic]:
    return ok(account_public(_account_for(session, caller, account_id)))


@router.post("", response_model=Envelope[AccountPublic])
def create_account(
    account_in: AccountCreate, caller: AccountEdit, session: WriteSessionDep, state: StateDep
) -> Envelope[AccountPublic]:
    if caller.grant.zone_ids is not None:
        raise ApiError(403, 9109, "A token limited to zones cannot create accounts")
    now = state.now()
    account = repo.create_account(session=session, account_in=account_in, now=now)
    public = account_public(account)
    commit_change(
        session=session,
        actor=caller.actor,
        action="account.create",
        resource_type="account",
        resource_id=account.id,
        now=now,
        after=public.model_dump(mode="json"),
        edge_visible=False,
    )
    return ok(public)


@router.patch("/{account_id}", response_model=Envelope[AccountPublic])
def update_account(
    account_id: str,
    account_in: AccountUpdate,
    caller: AccountEdit,
    session: WriteSessionDep,
    state: StateDep,
) -> Envelope[AccountPublic]:
    account = _account_for(session, caller, account_id)
    before = account_public(account).model_dump(mode="json")
    repo.update_account(session=session, account=account, account_in=account_in)
    public = account_public(account)
    commit_change(
        session=session,
        actor=caller.actor,
        action="account.update",
        resource_type="account",
        resource_id=account.id,
        now=state.now(),
        before=before,
        after=public.model_dump(mode="json"),
        # a verified abuse contact puts the account's zones live (KYC, publish_abuse.py)
        edge_visible=before["contact_email_verified"] != public.contact_email_verified,
    )
    return ok(public)
