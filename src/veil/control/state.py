"""What one running control API holds: settings, clock, database, publisher."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from veil.clock import Clock
from veil.control.desk.context import DeskContext
from veil.control.publish import SnapshotHub, SnapshotPublisher
from veil.control.purges import PurgePolicy
from veil.control.records import OriginPolicy
from veil.control.store.db import Database
from veil.settings import AbuseSettings, ControlSettings


@dataclass(frozen=True, slots=True)
class ControlState:
    settings: ControlSettings
    clock: Clock
    db: Database
    hub: SnapshotHub
    publisher: SnapshotPublisher
    policy: OriginPolicy
    purge_policy: PurgePolicy = field(default_factory=PurgePolicy)
    desk: DeskContext = field(default_factory=lambda: DeskContext(AbuseSettings(), ""))

    def now(self) -> datetime:
        return self.clock_datetime(self.clock.now())

    @staticmethod
    def clock_datetime(seconds: float) -> datetime:
        return datetime.fromtimestamp(seconds, UTC)
