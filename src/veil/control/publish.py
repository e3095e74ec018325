"""Snapshot publishing: the seam between control's tables and the edge.

Theory of operation
-------------------
`compile_snapshot` reads the tables in one consistent transaction and builds the
`veil.snapshot.Snapshot` the edge runs on: zones that are live (not paused, and their account's
abuse contact verified: `publish_abuse.live_zones`), each with its origin settings, upload
limit, cache settings, retained purges (docs/cache.md) and the abuse-desk actions the edge
enforces (`publish_abuse.abuse_blocks`, docs/abuse.md); hostnames are
the names of proxied A/AAAA/CNAME records and their
addresses the records' contents. Its version is the `config_version` row, which every
edge-visible change bumps in its own transaction.

After such a commit, the store calls `SnapshotPublisher.publish(version)`. Today the only
publisher is `SnapshotHub`, which wakes the long-polls waiting in
`GET /client/v4/veil/edge/snapshot`; a later NATS JetStream publisher implements the same
one-method protocol and `FanOut` sends to both. Waiters also re-read the version from the
database every `RECHECK_INTERVAL` seconds, because another control process sharing the same
PostgreSQL cannot wake them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from veil.clock import Clock
from veil.control.cache import SETTING_IDS, cache_settings
from veil.control.publish_abuse import abuse_blocks, live_zones
from veil.control.schemas.settings import DEFAULT_MAX_UPLOAD_MB, OriginValue
from veil.control.store.repo.dns_records import proxied_records
from veil.control.store.repo.purges import purges_for_zones
from veil.control.store.repo.version import current_version
from veil.control.store.repo.zone_settings import settings_by_zone, settings_for_zones
from veil.control.store.repo.zones import all_zones
from veil.snapshot import OriginSettings, Snapshot, ZoneConfig, build_snapshot

RECHECK_INTERVAL = 0.5
log = logging.getLogger("veil.control.publish")
MAX_TRACKED_NODES = 1024
MB = 1024 * 1024


class SnapshotPublisher(Protocol):
    def publish(self, version: int) -> None:
        """A change up to `version` is committed. Called from any thread; must not block."""
        ...


class FanOut:
    """Publish to several publishers (e.g. the long-poll hub and, later, NATS)."""

    def __init__(self, publishers: Sequence[SnapshotPublisher]) -> None:
        self._publishers = tuple(publishers)

    def publish(self, version: int) -> None:
        for publisher in self._publishers:
            try:
                publisher.publish(version)
            except Exception:  # one broken publisher must not fail the commit that called it
                log.exception("snapshot publisher %r failed for version %d", publisher, version)


def origin_settings(value: Any) -> OriginSettings:
    """The stored `origin` setting (or None) as the snapshot's OriginSettings."""
    origin = OriginValue.model_validate(value) if value is not None else OriginValue()
    return OriginSettings(
        scheme=origin.scheme,
        port=origin.port,
        host_header=origin.host_header,
        connect_timeout=origin.connect_timeout,
        read_timeout=origin.read_timeout,
    )


def max_upload_mb(value: Any) -> int:
    return (
        value if isinstance(value, int) and not isinstance(value, bool) else DEFAULT_MAX_UPLOAD_MB
    )


def compile_snapshot(*, session: Session, created_at: float, statement_base: str = "") -> Snapshot:
    """Build the snapshot from the tables, reading them as of one instant. `statement_base` is
    the public URL the abuse desk's statement pages live under (no statement links when "")."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    version = current_version(session=session)
    unpaused = [zone for zone in all_zones(session=session) if not zone.paused]
    zones = live_zones(session=session, zones=unpaused)
    ids = [zone.id for zone in zones]
    origins = settings_for_zones(session=session, zone_ids=ids, setting_id="origin")
    uploads = settings_for_zones(session=session, zone_ids=ids, setting_id="max_upload")
    caches = settings_by_zone(session=session, zone_ids=ids, setting_ids=SETTING_IDS)
    purges = purges_for_zones(session=session, zone_ids=ids)
    blocks = abuse_blocks(session=session, zones=zones, statement_base=statement_base)
    configs = {
        zone.id: ZoneConfig(
            id=zone.id,
            name=zone.name,
            account_id=zone.account_id,
            origin=origin_settings(origins.get(zone.id)),
            max_body_bytes=max_upload_mb(uploads.get(zone.id)) * MB,
            cache=cache_settings(caches.get(zone.id, {})),
            purges=tuple(purges.get(zone.id, ())),
            abuse=blocks.get(zone.id, ()),
        )
        for zone in zones
    }
    hosts: dict[str, dict[str, list[str]]] = {zone_id: {} for zone_id in configs}
    for record in proxied_records(session=session, zone_ids=ids):
        hosts[record.zone_id].setdefault(record.name, []).append(record.content)
    return build_snapshot(
        version=version,
        created_at=created_at,
        zones={
            config: {name: tuple(addresses) for name, addresses in hosts[zone_id].items()}
            for zone_id, config in configs.items()
        },
    )


@dataclass(frozen=True, slots=True)
class EdgeNode:
    """A polling edge as last seen: the version it said it runs (`after`) and when."""

    node: str
    version: int
    last_seen: float


class _Subscription:
    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.event = asyncio.Event()

    def wake(self) -> None:
        with contextlib.suppress(RuntimeError):  # the waiter's loop is already closed
            self.loop.call_soon_threadsafe(self.event.set)

    async def wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.event.wait()
        self.event.clear()


class SnapshotHub:
    """Long-poll publisher: wakes waiters, caches the compiled snapshot, tracks edge nodes."""

    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._compile_lock = threading.Lock()
        self._subscriptions: set[_Subscription] = set()
        self._cache: tuple[int, bytes] | None = None
        self._nodes: dict[str, EdgeNode] = {}
        self._closed = False

    def publish(self, version: int) -> None:
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.wake()

    def close(self) -> None:
        """Shutting down: answer every waiting long-poll now (with no change)."""
        self._closed = True
        self.publish(0)

    @contextmanager
    def _subscribe(self) -> Iterator[_Subscription]:
        subscription = _Subscription()
        with self._lock:
            self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            with self._lock:
                self._subscriptions.discard(subscription)

    async def wait_for_change(
        self, *, after: int, wait: float, read_version: Callable[[], Awaitable[int]]
    ) -> int | None:
        """The current version once it differs from `after`, or None after `wait` seconds."""
        deadline = self._clock.monotonic() + wait
        with self._subscribe() as subscription:
            while True:
                version = await read_version()
                if version != after:
                    return version
                remaining = deadline - self._clock.monotonic()
                if remaining <= 0 or self._closed:
                    return None
                await subscription.wait(min(RECHECK_INTERVAL, remaining))

    def snapshot_payload(
        self, version: int, compile_payload: Callable[[], tuple[int, bytes]]
    ) -> bytes:
        """The response body for `version` (or newer), compiled at most once per version.
        `compile_payload` returns (the version it actually read, the body)."""
        with self._compile_lock:
            cached = self._cache
            if cached is not None and cached[0] == version:
                return cached[1]
            compiled = compile_payload()
            self._cache = compiled
            return compiled[1]

    def saw_node(self, *, node: str, version: int) -> None:
        with self._lock:
            self._nodes.pop(node, None)
            self._nodes[node] = EdgeNode(node=node, version=version, last_seen=self._clock.now())
            while len(self._nodes) > MAX_TRACKED_NODES:
                del self._nodes[next(iter(self._nodes))]

    def nodes(self) -> list[EdgeNode]:
        with self._lock:
            return sorted(self._nodes.values(), key=lambda n: n.node)
