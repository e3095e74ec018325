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
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from veil.abuse.cases import TERMINAL, CaseEvent, CaseState, queue_deadline
from veil.abuse.ledger import Event, Source, entry
from veil.abuse.notices import Notice, Problem, Status
from veil.abuse.notices import validate as validate_notice
from veil.abuse.urls import normalise_url, split_urls
from veil.control.desk.context import DeskContext
from veil.control.desk.forwarding import case_host, forward
from veil.control.desk.hosting import hosting_provider
from veil.control.desk.log import append_log
from veil.control.desk.receipts import Receipt, make_receipt
from veil.control.desk.reporters import is_trusted, reporter_for
from veil.control.desk.reputation import check_reputation
from veil.control.desk.routing import origin_for_host, zone_for_host
from veil.control.desk.workflow import move, note_message
from veil.control.store.models import (
    AbuseCase,
    AbuseCaseUrl,
    AbuseReporter,
    Zone,
    new_id,
)

CLOSED_STATES = frozenset({*TERMINAL, CaseState.NOT_ON_NETWORK})


@dataclass(slots=True)
class _Group:
    zone: Zone
    urls: list[str] = field(default_factory=list)


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
            make_receipt(
                session, desk, case, validation.problems, None, [], off_network, False, now
            )
        )
        return receipts
    for group in groups:
        duplicate = _open_duplicate(session, notice.email.strip().lower(), group.urls)
        if duplicate is not None:
            _join(session, duplicate, group, now)
            receipts.append(
                make_receipt(
                    session,
                    desk,
                    duplicate,
                    validation.problems,
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
            make_receipt(
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
    return make_receipt(
        session, desk, case, validation.problems, case_host(case), urls, [], False, now
    )
