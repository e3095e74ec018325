"""Offset pagination shared by the list queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page:
    page: int = 1
    per_page: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def fetch_page(*, session: Session, statement: Select[T], page: Page) -> tuple[Sequence[T], int]:
    """One page of `statement`'s rows and the total row count."""
    count_stmt: Select[Any] = select(func.count()).select_from(statement.order_by(None).subquery())
    total = int(session.execute(count_stmt).scalar_one())
    rows = session.scalars(statement.offset(page.offset).limit(page.per_page)).all()
    return rows, total
