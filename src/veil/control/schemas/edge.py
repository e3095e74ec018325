"""What the edge polls (`/veil/edge/snapshot`) and what the operator sees (`/veil/status`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

SnapshotDocument = dict[str, Any]  # exactly veil.snapshot.snapshot_to_dict(...)


class EdgeNodePublic(BaseModel):
    node: str
    version: int
    last_seen: datetime
    lag: int


class StatusPublic(BaseModel):
    version: int
    zones: int
    records: int
    edges: list[EdgeNodePublic]
