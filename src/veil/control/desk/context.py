"""What the desk's I/O needs besides the database: settings, the public base URL, the host
finder, the repeat-infringer policy, the escalation delay."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from veil.abuse.cases import ESCALATE_AFTER
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

    def status_url(self, case_id: str, key: str) -> str:
        """The reporter's status page (the link in the receipt)."""
        return f"{self.public_url}/abuse/cases/{case_id}?key={key}"

    def customer_url(self, case_id: str) -> str:
        """Where the customer answers (their view of the case, behind their token)."""
        return f"{self.public_url}/abuse/customer/cases/{case_id}"
