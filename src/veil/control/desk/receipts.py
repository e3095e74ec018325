"""The reporter's receipt: case id, status link, the hosting provider's name and abuse contact,
what is missing and what is not on our network — mailed, and returned to the channel. It is
built from the case and the provider only, so it cannot carry the origin address."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from veil.abuse.letters import HostLine, Letter, receipt
from veil.abuse.notices import Problem, Status
from veil.control.desk.context import DeskContext
from veil.control.desk.hosting import HostingProvider
from veil.control.desk.outbox import mail_reporter
from veil.control.store.models import AbuseCase


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the reporter is told at once, per case."""

    case_id: str
    status_url: str
    state: str
    validation: str
    problems: tuple[Problem, ...]
    host: HostLine | None
    on_network: tuple[str, ...]
    off_network: tuple[str, ...]
    joined: bool
    letter: Letter

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "status_url": self.status_url,
            "state": self.state,
            "validation": self.validation,
            "missing": [{"element": p.element, "repair": p.repair} for p in self.problems],
            "hosting_provider": (
                None
                if self.host is None
                else {"name": self.host.name, "abuse_email": self.host.abuse_email}
            ),
            "urls": list(self.on_network),
            "not_on_our_network": list(self.off_network),
            "joined_existing_case": self.joined,
        }


def host_line(host: HostingProvider | None) -> HostLine | None:
    return None if host is None else HostLine(name=host.name, abuse_email=host.abuse_email)


def make_receipt(
    session: Session,
    desk: DeskContext,
    case: AbuseCase,
    problems: Sequence[Problem],
    host: HostingProvider | None,
    on_network: Sequence[str],
    off_network: Sequence[str],
    joined: bool,
    now: datetime,
) -> Receipt:
    status_url = desk.status_url(case.id, case.status_key)
    line = host_line(host)
    letter = receipt(
        case_id=case.id,
        status_url=status_url,
        act=case.category,
        host=line,
        problems=problems,
        incomplete=case.validation == Status.INCOMPLETE_AWAITING_REPORTER.value,
        off_network=off_network,
        on_network=on_network,
    )
    mail_reporter(session=session, case=case, letter=letter, kind="receipt", now=now)
    return Receipt(
        case_id=case.id,
        status_url=status_url,
        state=case.state,
        validation=case.validation,
        problems=tuple(problems),
        host=line,
        on_network=tuple(on_network),
        off_network=tuple(off_network),
        joined=joined,
        letter=letter,
    )
