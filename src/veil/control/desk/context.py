"""What the desk's I/O needs besides the database: settings, the public base URL, the host
finder, the repeat-infringer policy, the escalation delay."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from veil.abuse.cases import ESCALATE_AFTER
from veil.abuse.counter import RESTORE_MIN_BUSINESS_DAYS
from veil.abuse.strikes import RepeatInfringerPolicy
from veil.control.desk.hosting import HostFinder, NoLookup
from veil.settings import AbuseSettings

TRUST_LAPSES_AFTER = timedelta(days=365)  # a trusted reporter silent this long is ordinary again


@dataclass(frozen=True, slots=True)
class DeskContext:
    settings: AbuseSettings
    public_url: str  # no trailing slash
    finder: HostFinder = field(default_factory=NoLookup)
    policy: RepeatInfringerPolicy = field(default_factory=RepeatInfringerPolicy)
    escalate_after: timedelta = ESCALATE_AFTER
    trust_lapses_after: timedelta = TRUST_LAPSES_AFTER
    restore_business_days: int = RESTORE_MIN_BUSINESS_DAYS
    holidays: frozenset[date] = frozenset()

    @classmethod
    def from_settings(
        cls, settings: AbuseSettings, public_url: str, finder: HostFinder
    ) -> DeskContext:
        """The desk as the operator configured it (`veil up` / `veil control` options)."""
        return cls(
            settings=settings,
            public_url=public_url,
            finder=finder,
            policy=RepeatInfringerPolicy(
                max_strikes=settings.max_strikes,
                window=timedelta(days=settings.strike_window_days),
            ),
            escalate_after=timedelta(days=settings.escalate_after_days),
            restore_business_days=settings.restore_business_days,
            holidays=frozenset(settings.holidays),
        )

    def status_url(self, case_id: str, key: str) -> str:
        """The reporter's status page (the link in the receipt)."""
        return f"{self.public_url}/abuse/cases/{case_id}?key={key}"

    def customer_url(self, case_id: str) -> str:
        """Where the customer answers (their view of the case, behind their token)."""
        return f"{self.public_url}/abuse/customer/cases/{case_id}"
