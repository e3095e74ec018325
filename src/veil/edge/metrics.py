"""Counters kept by each worker with plain integer adds (nothing on the hot path locks),
dumped to a small JSON file every second; the supervisor's admin endpoint aggregates every
worker's file into Prometheus metrics (`veil.edge.admin`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Final

FIELDS: Final = (
    "bytes_in",
    "bytes_out",
    "connections_open",
    "connections_total",
    "origin_errors",
    "rejected",
    "requests",
    "snapshot_version",
    "upstream_connects",
)


class WorkerMetrics:
    """Compiled with mypyc (a native class): the hot path adds to these attributes directly."""

    def __init__(self) -> None:
        self.requests: dict[int, int] = {}  # status -> count
        self.rejected: dict[int, int] = {}  # framing/limit rejections by status
        self.origin_errors: dict[str, int] = {}  # 521/522/... by kind
        self.bytes_out = 0
        self.bytes_in = 0
        self.connections_total = 0
        self.connections_open = 0
        self.upstream_connects = 0
        self.snapshot_version = 0

    def count_response(self, status: int, sent: int) -> None:
        req = self.requests
        req[status] = req.get(status, 0) + 1
        self.bytes_out += sent

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}

    def dump(self, path: Path) -> None:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.as_dict()))
        os.replace(tmp, path)
