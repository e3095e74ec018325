"""How snapshots reach a worker, and the copy on disk that keeps the edge serving alone.

`SnapshotSource` is the seam: today `ControlPoll` long-polls control's API and `StaticFile`
watches a file; a later issue adds a NATS JetStream source with the same one method. Whatever
the source, `follow()` installs each newer snapshot (an atomic reference swap — connections in
flight are untouched) and saves it with write-then-rename, so a restarted edge starts from its
last snapshot while control is away (static stability).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import Protocol

import httpx

from veil.edge.context import EdgeContext
from veil.snapshot import (
    Snapshot,
    SnapshotError,
    snapshot_from_dict,
    snapshot_from_json,
    snapshot_to_json,
)

log = logging.getLogger("veil.edge.config")
SNAPSHOT_PATH = "/client/v4/veil/edge/snapshot"


class SourceUnavailable(Exception):
    """The source cannot be reached right now; the edge keeps its current snapshot."""


class SnapshotSource(Protocol):
    async def next(self, after: int) -> Snapshot | None:
        """A snapshot newer than `after`, or None when nothing changed for a while."""
        ...

    async def close(self) -> None: ...


class ControlPoll:
    """Long-polls control: `GET /client/v4/veil/edge/snapshot?after=V&wait=S&node=ID`."""

    def __init__(self, base_url: str, token: str, *, node_id: str, wait: float = 25.0) -> None:
        self._url = base_url.rstrip("/") + SNAPSHOT_PATH
        self._wait = wait
        self._node = node_id
        self._client = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(wait + 10.0, connect=3.0),
            trust_env=False,
        )

    async def next(self, after: int) -> Snapshot | None:
        params: dict[str, str | int | float] = {
            "after": after,
            "wait": self._wait,
            "node": self._node,
        }
        try:
            response = await self._client.get(self._url, params=params)
        except httpx.HTTPError as exc:
            raise SourceUnavailable(f"control unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise SourceUnavailable(f"control answered {response.status_code}")
        try:
            result = response.json().get("result")
            return None if result is None else snapshot_from_dict(result)
        except (ValueError, AttributeError, SnapshotError) as exc:
            raise SourceUnavailable(f"control sent an unusable snapshot: {exc}") from exc

    async def close(self) -> None:
        await self._client.aclose()


class StaticFile:
    """A snapshot JSON file, re-read when its modification time changes (`--snapshot FILE`)."""

    def __init__(self, path: Path, *, interval: float = 0.5) -> None:
        self._path = path
        self._interval = interval
        self._mtime = 0.0

    async def next(self, after: int) -> Snapshot | None:
        try:
            mtime = self._path.stat().st_mtime
        except OSError as exc:
            raise SourceUnavailable(f"cannot read {self._path}: {exc.strerror}") from exc
        if mtime != self._mtime:
            self._mtime = mtime
            try:
                snapshot = snapshot_from_json(self._path.read_bytes())
            except (OSError, SnapshotError) as exc:
                raise SourceUnavailable(str(exc)) from exc
            if snapshot.version != after:
                return snapshot
        await asyncio.sleep(self._interval)
        return None

    async def close(self) -> None:
        return None


class SnapshotStore:
    """The last installed snapshot on disk (`STATE_DIR/snapshot.json`)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "snapshot.json"

    def load(self) -> Snapshot | None:
        try:
            return snapshot_from_json(self.path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, SnapshotError) as exc:
            log.warning("ignoring unusable saved snapshot: %s", exc)
            return None

    def save(self, snapshot: Snapshot) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".snapshot.{os.getpid()}.tmp")
        tmp.write_bytes(snapshot_to_json(snapshot))
        os.replace(tmp, self.path)  # readers see the old file or the new one, never half


async def follow(ctx: EdgeContext, source: SnapshotSource, store: SnapshotStore | None) -> None:
    """Install every newer snapshot from `source` until cancelled; back off while it is away."""
    delay = 0.1
    try:
        while True:
            try:
                snapshot = await source.next(ctx.snapshot.version)
            except SourceUnavailable as exc:
                log.debug("snapshot source unavailable: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.1
            if snapshot is not None and ctx.install(snapshot) and store is not None:
                with contextlib.suppress(OSError):
                    store.save(snapshot)
    finally:
        await source.close()
