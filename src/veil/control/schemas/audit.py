"""The audit log: who changed what, when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditActor(BaseModel):
    id: str | None
    name: str


class AuditResource(BaseModel):
    type: str
    id: str


class AuditPublic(BaseModel):
    id: int
    at: datetime
    actor: AuditActor
    action: str
    resource: AuditResource
    before: Any = None
    after: Any = None
