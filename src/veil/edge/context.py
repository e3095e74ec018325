"""Per-worker state every connection shares: the live snapshot, the origin pool, the resolver,
counters, the access log and the set of open connections (for timeouts and draining)."""

from __future__ import annotations

import asyncio
import os
import secrets
from typing import TYPE_CHECKING, Final

from veil.edge.abuse_gate import AbuseGate
from veil.edge.accesslog import AccessLog
from veil.edge.cache import EdgeCache
from veil.edge.metrics import WorkerMetrics
from veil.edge.resolve import OriginResolver
from veil.edge.upstream import OriginPool
from veil.settings import EdgeSettings
from veil.snapshot import EMPTY_SNAPSHOT, Snapshot

if TYPE_CHECKING:
    from veil.edge.server import ClientConnection

_HEX_BYTE: Final[tuple[bytes, ...]] = tuple(b"%02x" % i for i in range(256))


class EdgeContext:
    def __init__(
        self,
        *,
        loop: asyncio.AbstractEventLoop,
        settings: EdgeSettings,
        access_log: AccessLog | None = None,
        cache: EdgeCache | None = None,
    ) -> None:
        self.loop = loop
        self.settings = settings
        # Swapped atomically by `install()`: an exchange reads it once, at routing time.
        self.snapshot: Snapshot = EMPTY_SNAPSHOT
        self.pool = OriginPool(
            loop=loop,
            idle_timeout=settings.upstream_idle_timeout,
            max_idle_per_key=settings.upstream_max_idle_per_origin,
        )
        self.resolver = OriginResolver(
            loop, allow_private=settings.allow_private_origins, own_listen=settings.listen
        )
        self.metrics = WorkerMetrics()
        self.access_log = access_log
        self.cache = cache
        self.abuse = AbuseGate(settings)  # abuse-desk blocks per zone, rebuilt per snapshot
        self.connections: set[ClientConnection] = set()
        self.draining = False
        self.drained = asyncio.Event()  # set when draining and the last connection closed
        self._ray_prefix = secrets.token_hex(4).encode()
        self._ray_counter = int.from_bytes(os.urandom(3), "big")

    def install(self, snapshot: Snapshot) -> bool:
        """Swap in another snapshot; exchanges in flight keep the route they took.

        Control is authoritative: any version other than the current one is installed, so an
        edge also follows a control whose database was restored to an older version.
        """
        if snapshot.version == self.snapshot.version and self.snapshot is not EMPTY_SNAPSHOT:
            return False
        self.snapshot = snapshot
        self.metrics.snapshot_version = snapshot.version
        self.abuse.install(snapshot)
        if self.cache is not None:
            self.cache.install(snapshot)
        return True

    def next_ray(self) -> bytes:
        """A unique request id: a random per-worker prefix and a counter (16 hex digits)."""
        self._ray_counter = counter = (self._ray_counter + 1) & 0xFFFFFFFF
        # Four table lookups and a join: a third of the instructions of b"%08x" formatting.
        return b"".join(
            (
                self._ray_prefix,
                _HEX_BYTE[counter >> 24],
                _HEX_BYTE[(counter >> 16) & 0xFF],
                _HEX_BYTE[(counter >> 8) & 0xFF],
                _HEX_BYTE[counter & 0xFF],
            )
        )

    def sweep(self) -> None:
        """Enforce connection deadlines and expire idle origin connections (about 2x/s)."""
        now = self.loop.time()
        for conn in list(self.connections):
            if conn.deadline and now >= conn.deadline:
                conn.on_deadline()
        self.pool.sweep()
