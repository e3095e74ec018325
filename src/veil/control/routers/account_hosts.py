"""`/accounts/{account_id}/hosting_provider` (a Veil addition): the hosting provider an account
declares for its origins. The abuse desk names it in the reporter's receipt and sends it the
notice with the origin address, instead of looking the origin up (ASN database and RDAP).
Read with `account:read`, set and remove with `account:edit`; visibility as for the account."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from veil.control.changes import commit_change
from veil.control.deps import AccountEdit, AccountRead, SessionDep, StateDep, WriteSessionDep
from veil.control.envelope import not_found, ok
from veil.control.routers.accounts import _account_for as visible_account
from veil.control.schemas.account_hosts import AccountHostPublic, AccountHostUpdate
from veil.control.schemas.common import Envelope, IdResult
from veil.control.store.models import AccountHost

router = APIRouter(prefix="/accounts/{account_id}/hosting_provider", tags=["accounts"])
WHAT = "declared hosting provider"


def _public(row: AccountHost) -> AccountHostPublic:
    return AccountHostPublic(
        account_id=row.account_id,
        name=row.name,
        abuse_email=row.abuse_email,
        modified_on=row.modified_on,
    )


def _declared(session: Session, account_id: str) -> AccountHost:
    row = session.get(AccountHost, account_id)
    if row is None:
        raise not_found(WHAT)
    return row


@router.get("", response_model=Envelope[AccountHostPublic])
def get_hosting_provider(
    account_id: str, caller: AccountRead, session: SessionDep
) -> Envelope[AccountHostPublic]:
    account = visible_account(session, caller, account_id)
    return ok(_public(_declared(session, account.id)))


@router.put("", response_model=Envelope[AccountHostPublic])
def put_hosting_provider(
    account_id: str,
    host_in: AccountHostUpdate,
    caller: AccountEdit,
    session: WriteSessionDep,
    state: StateDep,
) -> Envelope[AccountHostPublic]:
    account = visible_account(session, caller, account_id)
    now = state.now()
    row = session.get(AccountHost, account.id)
    before = None if row is None else _public(row).model_dump(mode="json")
    if row is None:
        row = AccountHost(account_id=account.id)
        session.add(row)
    row.name = host_in.name
    row.abuse_email = host_in.abuse_email
    row.modified_on = now
    public = _public(row)
    commit_change(
        session=session,
        actor=caller.actor,
        action="account_host.update",
        resource_type="account_host",
        resource_id=account.id,
        now=now,
        before=before,
        after=public.model_dump(mode="json"),
        edge_visible=False,
    )
    return ok(public)


@router.delete("", response_model=Envelope[IdResult])
def delete_hosting_provider(
    account_id: str, caller: AccountEdit, session: WriteSessionDep, state: StateDep
) -> Envelope[IdResult]:
    account = visible_account(session, caller, account_id)
    row = _declared(session, account.id)
    before = _public(row).model_dump(mode="json")
    session.delete(row)
    commit_change(
        session=session,
        actor=caller.actor,
        action="account_host.delete",
        resource_type="account_host",
        resource_id=account.id,
        now=state.now(),
        before=before,
        edge_visible=False,
    )
    return ok(IdResult(id=account.id))
