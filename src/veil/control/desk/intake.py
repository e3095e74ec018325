"""Taking a notice in, whatever the channel (form, API, e-mail, XARF): one case model.

Theory of operation. `file_notice` runs in the caller's write transaction and ends with
everything durable together — the case rows, the reported URLs, the letters queued in the
outbox, the log entries — so a crash never loses a notice that was acknowledged.

1. The reporter is found or recorded by e-mail (trust and reputation live there).
2. `validate` (pure) gives complete / incomplete-awaiting-reporter / invalid with a repair list.
3. URLs are normalised; each is matched to a zone. URLs on no zone are "not on our network"
   and nothing about them is disclosed. On-network URLs are grouped per zone: one case each.
4. A group whose URL is already in an open case from the same reporter joins that case.
5. A new case: valid -> forwarded at once to the customer (and to the host with the origin
   address); incomplete -> kept open awaiting the reporter; invalid -> closed.
6. The reporter's receipt (case id, status link, hosting provider's name and abuse contact,
   what is missing, what is off-network) is returned and mailed. It never holds the origin.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from veil.abuse.cases import TERMINAL, CaseEvent, CaseState, queue_deadline
from veil.abuse.ledger import Event, Source, entry
from veil.abuse.letters import HostLine, Letter, receipt, to_customer, to_host
from veil.abuse.notices import Notice, Notification, Problem, Status, reporter_identity_withheld
from veil.abuse.notices import validate as validate_notice
from veil.abuse.urls import normalise_url, split_urls
from veil.control.desk.context import DeskContext
from veil.control.desk.hosting import HostingProvider, hosting_provider
from veil.control.desk.log import append_log
from veil.control.desk.outbox import queue_mail
from veil.control.desk.reputation import check_reputation
from veil.control.desk.routing import origin_for_host, zone_for_host
from veil.control.desk.trusted import disclose_origin_to_trusted
from veil.control.desk.workflow import disclose, move, note_message
from veil.control.store.models import (
    AbuseCase,
    AbuseCaseUrl,
    AbuseReporter,
    Account,
    Zone,
    new_id,
)

CLOSED_STATES = frozenset({*TERMINAL, CaseState.NOT_ON_NETWORK})


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


@dataclass(slots=True)
class _Group:
    zone: Zone
    urls: list[str] = field(default_factory=list)


def reporter_for(*, session: Session, email: str, name: str, now: datetime) -> AbuseReporter | None:
    """The reporter with this e-mail address (recorded on first contact), or None if none."""
    address = email.strip().lower()
    if not address:
        return None
    reporter = session.scalars(select(AbuseReporter).where(AbuseReporter.email == address)).first()
    if reporter is None:
        reporter = AbuseReporter(
            id=new_id(),
            email=address,
            name=name.strip()[:255],
            trusted=False,
            valid_count=0,
            invalid_count=0,
            last_active_on=now,
            created_on=now,
        )
        session.add(reporter)
    return reporter


def is_trusted(reporter: AbuseReporter | None, desk: DeskContext, now: datetime) -> bool:
    """Vetted by the operator and not lapsed through inactivity."""
    if reporter is None or not reporter.trusted:
        return False
    return now - reporter.last_active_on < desk.trust_lapses_after


def _group_urls(session: Session, notice: Notice) -> tuple[list[_Group], list[str]]:
    groups: dict[str, _Group] = {}
    off: list[str] = []
    for line in split_urls(notice.urls).urls:
        url = normalise_url(line)
        if url is None:
            continue  # validation names it
        zone = zone_for_host(session=session, host=url.host)
        if zone is None:
            off.append(url.canonical)
        else:
            groups.setdefault(zone.id, _Group(zone)).urls.append(url.canonical)
    return list(groups.values()), off


def _open_duplicate(session: Session, reporter_email: str, urls: Sequence[str]) -> AbuseCase | None:
    if not reporter_email:
        return None
    statement = (
        select(AbuseCase)
        .join(AbuseCaseUrl, AbuseCaseUrl.case_id == AbuseCase.id)
        .where(
            AbuseCase.reporter_email == reporter_email,
            AbuseCaseUrl.url.in_(list(urls)),
            AbuseCase.state.not_in([s.value for s in CLOSED_STATES]),
        )
        .order_by(AbuseCase.received_on)
        .limit(1)
    )
    return session.scalars(statement).first()


def _host_line(host: HostingProvider | None) -> HostLine | None:
    return None if host is None else HostLine(name=host.name, abuse_email=host.abuse_email)


def case_host(case: AbuseCase) -> HostingProvider | None:
    return None if case.host is None else HostingProvider.from_json(case.host)


def stored_notice(case: AbuseCase) -> Notice:
    return Notice.from_fields(case.notice)


def forward(*, session: Session, desk: DeskContext, case: AbuseCase, now: datetime) -> None:
    """Send a valid notice on: to the customer (reporter identity as the rules say) and to the
    hosting provider (with the origin address); then the case is `forwarded`."""
    notice = stored_notice(case)
    account = session.get(Account, case.account_id) if case.account_id else None
    withheld = reporter_identity_withheld(notice)
    if account is not None and notice.owner_notification is not Notification.NONE:
        letter = to_customer(
            case_id=case.id,
            notice=notice,
            with_identity=not withheld,
            domain=case.domain,
            answer_url=desk.customer_url(case.id),
        )
        _send(session, case, "customer", account.contact_email, letter, "forward", now)
        if not withheld:
            disclose(
                session=session,
                case_id=case.id,
                party="customer",
                recipient=account.contact_email,
                what="reporter_identity",
                reason="the notice is forwarded with the reporter's identity",
                at=now,
            )
    host = case_host(case)
    if (
        host is not None
        and host.abuse_email
        and case.origin_ip
        and notice.host_notification is not Notification.NONE
    ):
        letter = to_host(
            case_id=case.id,
            notice=notice,
            with_identity=notice.host_notification is Notification.SEND
            and notice.act.value not in {"abuse_threat", "abuse_children", "abuse_ncsei"},
            domain=case.domain,
            origin=case.origin_ip,
        )
        _send(session, case, "host", host.abuse_email, letter, "forward", now)
        disclose(
            session=session,
            case_id=case.id,
            party="host",
            recipient=host.abuse_email,
            what="origin_ip",
            reason="the hosting provider is told which of its addresses serves the material",
            at=now,
        )
    case.forwarded_on = now
    move(session=session, case=case, event=CaseEvent.FORWARDED, now=now)
    # operator's queue: a trusted reporter receives the origin address (veil.control.desk.trusted)
    disclose_origin_to_trusted(session=session, desk=desk, case=case, now=now)


def _send(
    session: Session,
    case: AbuseCase,
    party: str,
    to: str,
    letter: Letter,
    kind: str,
    now: datetime,
) -> None:
    queue_mail(
        session=session, to=to, letter=letter, party=party, kind=kind, now=now, case_id=case.id
    )
    note_message(
        session=session,
        case_id=case.id,
        party=party,
        direction="out",
        kind=kind,
        body=letter.body,
        at=now,
    )
    append_log(session=session, entry=entry(Event.NOTICE_FORWARDED, now, case=case.id, party=party))


def _settle(
    session: Session, desk: DeskContext, case: AbuseCase, status: Status, now: datetime
) -> None:
    """Act on validation: forward, wait for the reporter, or close."""
    if status is Status.COMPLETE:
        move(session=session, case=case, event=CaseEvent.VALIDATED, now=now)
        forward(session=session, desk=desk, case=case, now=now)
    elif status is Status.INCOMPLETE_AWAITING_REPORTER:
        move(session=session, case=case, event=CaseEvent.FOUND_INCOMPLETE, now=now)
    else:
        move(session=session, case=case, event=CaseEvent.CLOSE, now=now)


def _new_case(
    session: Session,
    *,
    notice: Notice,
    fields: dict[str, Any],
    channel: str,
    source: Source,
    reporter: AbuseReporter | None,
    validation_status: Status,
    problems: Sequence[Problem],
    zone: Zone | None,
    deadline: datetime,
    now: datetime,
) -> AbuseCase:
    case = AbuseCase(
        id=new_id(),
        category=notice.act.value,
        channel=channel,
        source=source.value,
        state=CaseState.RECEIVED.value,
        validation=validation_status.value,
        problems=[{"element": p.element, "repair": p.repair} for p in problems],
        notice=fields,
        reporter_id=None if reporter is None else reporter.id,
        reporter_email=notice.email.strip().lower(),
        status_key=secrets.token_urlsafe(24),
        account_id=None if zone is None else zone.account_id,
        zone_id=None if zone is None else zone.id,
        domain="" if zone is None else zone.name,
        received_on=now,
        deadline_on=deadline,
        modified_on=now,
    )
    session.add(case)
    return case


def notice_fields(notice: Notice) -> dict[str, Any]:
    """The notice as stored: Cloudflare's field names, enums as their values."""
    doc: dict[str, Any] = {}
    for name in Notice.__dataclass_fields__:
        value = getattr(notice, name)
        doc[name] = value.value if hasattr(value, "value") else value
    return doc


def file_notice(
    *,
    session: Session,
    desk: DeskContext,
    notice: Notice,
    channel: str,
    now: datetime,
    source: Source | None = None,
) -> list[Receipt]:
    """Take one notice in (see the module doc); the caller commits."""
    reporter = reporter_for(session=session, email=notice.email, name=notice.name, now=now)
    # operator's queue: a throttled reporter's notice raises Throttled (HTTP 429)
    check_reputation(session=session, reporter=reporter, now=now)
    trusted = is_trusted(reporter, desk, now)
    if reporter is not None:
        reporter.last_active_on = now
    source = source or (Source.TRUSTED if trusted else Source.ORDINARY)
    validation = validate_notice(notice)
    if reporter is not None:
        if validation.status is Status.INVALID:
            reporter.invalid_count += 1
        else:
            reporter.valid_count += 1
    groups, off_network = _group_urls(session, notice)
    fields = notice_fields(notice)
    deadline = queue_deadline(notice.act, now, trusted=trusted)
    common = dict(
        notice=notice,
        fields=fields,
        channel=channel,
        source=source,
        reporter=reporter,
        validation_status=validation.status,
        problems=validation.problems,
        deadline=deadline,
        now=now,
    )
    receipts: list[Receipt] = []
    if not groups:
        case = _new_case(session, zone=None, **common)  # type: ignore[arg-type]
        _log_received(session, case, notice, urls=len(off_network), on_network=False, now=now)
        if off_network:
            move(session=session, case=case, event=CaseEvent.FOUND_OFF_NETWORK, now=now)
        move(session=session, case=case, event=CaseEvent.CLOSE, now=now)
        receipts.append(
            _receipt(session, desk, case, validation.problems, None, [], off_network, False, now)
        )
        return receipts
    for group in groups:
        duplicate = _open_duplicate(session, notice.email.strip().lower(), group.urls)
        if duplicate is not None:
            _join(session, duplicate, group, now)
            receipts.append(
                _receipt(
                    session,
                    desk,
                    duplicate,
                    tuple(replace(p) for p in validation.problems),
                    case_host(duplicate),
                    group.urls,
                    off_network,
                    True,
                    now,
                )
            )
            continue
        case = _new_case(session, zone=group.zone, **common)  # type: ignore[arg-type]
        host_name = group.urls[0].split("://", 1)[1].split("/", 1)[0].split(":")[0]
        case.origin_ip = origin_for_host(session=session, zone=group.zone, host=host_name)
        host = hosting_provider(
            session=session,
            finder=desk.finder,
            account_id=group.zone.account_id,
            origin=case.origin_ip,
        )
        case.host = None if host is None else host.to_json()
        session.add_all(
            AbuseCaseUrl(case_id=case.id, url=u, zone_id=group.zone.id) for u in group.urls
        )
        _log_received(session, case, notice, urls=len(group.urls), on_network=True, now=now)
        _settle(session, desk, case, validation.status, now)
        receipts.append(
            _receipt(
                session, desk, case, validation.problems, host, group.urls, off_network, False, now
            )
        )
    return receipts


def _log_received(
    session: Session, case: AbuseCase, notice: Notice, *, urls: int, on_network: bool, now: datetime
) -> None:
    append_log(
        session=session,
        entry=entry(
            Event.NOTICE_RECEIVED,
            now,
            case=case.id,
            category=notice.act.value,
            channel=case.channel,
            source=case.source,
            validation=case.validation,
            urls=urls,
            on_network=on_network,
        ),
    )


def _join(session: Session, case: AbuseCase, group: _Group, now: datetime) -> None:
    known = set(session.scalars(select(AbuseCaseUrl.url).where(AbuseCaseUrl.case_id == case.id)))
    session.add_all(
        AbuseCaseUrl(case_id=case.id, url=u, zone_id=group.zone.id)
        for u in group.urls
        if u not in known
    )
    case.modified_on = now
    note_message(
        session=session,
        case_id=case.id,
        party="reporter",
        direction="in",
        kind="duplicate",
        body="\n".join(group.urls),
        at=now,
    )
    append_log(session=session, entry=entry(Event.NOTICE_JOINED, now, case=case.id))


def _receipt(
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
    line = _host_line(host)
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
    if case.reporter_email:
        queue_mail(
            session=session,
            to=case.reporter_email,
            letter=letter,
            party="reporter",
            kind="receipt",
            now=now,
            case_id=case.id,
        )
        note_message(
            session=session,
            case_id=case.id,
            party="reporter",
            direction="out",
            kind="receipt",
            body=letter.body,
            at=now,
        )
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


def repair_notice(
    *, session: Session, desk: DeskContext, case: AbuseCase, fields: dict[str, Any], now: datetime
) -> Receipt:
    """The reporter supplies what was missing (§512(c)(3)(B)(ii)): merge, validate again, and
    forward once complete. Only an `incomplete_awaiting_reporter` case can be repaired."""
    if case.state != CaseState.INCOMPLETE_AWAITING_REPORTER.value:
        raise ValueError("only a case awaiting the reporter can be completed")
    merged = {
        **case.notice,
        **{k: v for k, v in fields.items() if k not in {"act", "urls", "email"}},
    }
    notice = Notice.from_fields(merged)
    validation = validate_notice(notice)
    case.notice = notice_fields(notice)
    case.validation = validation.status.value
    case.problems = [{"element": p.element, "repair": p.repair} for p in validation.problems]
    append_log(
        session=session,
        entry=entry(Event.NOTICE_REPAIRED, now, case=case.id, validation=case.validation),
    )
    if validation.status is not Status.INCOMPLETE_AWAITING_REPORTER:
        move(session=session, case=case, event=CaseEvent.REPAIRED, now=now)
        _settle(session, desk, case, validation.status, now)
    urls = list(session.scalars(select(AbuseCaseUrl.url).where(AbuseCaseUrl.case_id == case.id)))
    return _receipt(session, desk, case, validation.problems, case_host(case), urls, [], False, now)
