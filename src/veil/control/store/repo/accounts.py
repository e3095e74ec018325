"""Accounts."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from veil.control.schemas.accounts import AccountCreate, AccountUpdate
from veil.control.store.models import Account, new_id
from veil.control.store.repo.paging import Page, fetch_page

DEFAULT_ACCOUNT_NAME = "default"


def create_account(*, session: Session, account_in: AccountCreate, now: datetime) -> Account:
    account = Account(
        id=new_id(),
        name=account_in.name,
        contact_email=account_in.contact_email,
        contact_email_verified=account_in.contact_email_verified,
        created_on=now,
    )
    session.add(account)
    session.flush()
    return account


def get_account(*, session: Session, account_id: str) -> Account | None:
    return session.get(Account, account_id)


def find_account_by_name(*, session: Session, name: str) -> Account | None:
    statement = select(Account).where(Account.name == name).order_by(Account.created_on)
    return session.scalars(statement.limit(1)).first()


def default_account(*, session: Session) -> Account | None:
    """The operator's default account: the one named "default", else the oldest."""
    named = find_account_by_name(session=session, name=DEFAULT_ACCOUNT_NAME)
    if named is not None:
        return named
    statement = select(Account).order_by(Account.created_on, Account.id).limit(1)
    return session.scalars(statement).first()


def list_accounts(
    *,
    session: Session,
    page: Page,
    name: str | None = None,
    only_ids: Collection[str] | None = None,
) -> tuple[Sequence[Account], int]:
    statement = select(Account).order_by(Account.created_on, Account.id)
    if name is not None:
        statement = statement.where(Account.name == name)
    if only_ids is not None:
        statement = statement.where(Account.id.in_(list(only_ids)))
    return fetch_page(session=session, statement=statement, page=page)


def update_account(*, session: Session, account: Account, account_in: AccountUpdate) -> Account:
    for field, value in account_in.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(account, field, value)
    session.flush()
    return account
