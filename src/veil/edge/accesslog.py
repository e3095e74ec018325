"""The JSON access log: one line per exchange, buffered and written in whole lines.

Workers append to one file opened with O_APPEND; each flush is a single write() of whole lines
so lines from different workers never interleave. The log holds what the visitor sent and
what the edge answered — never the origin's address.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path


class AccessLog:
    def __init__(self, path: Path, *, flush_bytes: int = 64 * 1024) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        self._buf: list[str] = []
        self._size = 0
        self._flush_bytes = flush_bytes

    def record(
        self,
        *,
        ray: bytes,
        zone: str | None,
        client_ip: str,
        method: bytes,
        host: str,
        path: bytes,
        status: int,
        sent: int,
        duration: float,
        origin_time: float | None,
        cache: str,
    ) -> None:
        line = json.dumps(
            {
                "time": round(time.time(), 3),
                "ray": ray.decode(),
                "zone": zone,
                "client_ip": client_ip,
                "method": method.decode("latin-1"),
                "host": host,
                "path": path.decode("latin-1"),
                "status": status,
                "bytes": sent,
                "duration_ms": round(duration * 1000, 3),
                "origin_ms": None if origin_time is None else round(origin_time * 1000, 3),
                "cache": cache,
            },
            separators=(",", ":"),
        )
        self._buf.append(line)
        self._size += len(line) + 1
        if self._size >= self._flush_bytes:
            self.flush()

    def flush(self) -> None:
        if not self._buf:
            return
        data = ("\n".join(self._buf) + "\n").encode()
        self._buf.clear()
        self._size = 0
        os.write(self._fd, data)

    def close(self) -> None:
        self.flush()
        os.close(self._fd)
