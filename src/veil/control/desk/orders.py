"""Court and authority orders (DSA Art. 9): their own kind of case, acted on in their scope.

An order names the issuing authority and its country, the legal basis, the URLs and the
territorial scope (Art. 9(2)(a)-(b)). Per zone the URLs are on, `file_order` opens a case with
source `authority` and channel `order`, the order itself in the case's `order` column; logs
`order_received` (country, scope: the transparency report counts orders by Member State,
Art. 15(1)(a)); tells the customer (Art. 9(5): the recipient of the service is informed of the
order and the effect given to it); and proposes a `legal_block` scoped to the order's countries,
active from its effective date (pending until then; the edge enforces it on the date itself).
The origin address is never part of what is sent out here."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from veil.abuse.actions import ActionType, StatementOfReasons, Status, country_codes
from veil.abuse.cases import CaseEvent, CaseState, queue_deadline
from veil.abuse.ledger import Event, Source, entry, rfc3339
from veil.abuse.letters import Letter
from veil.abuse.notices import Category, Notice
from veil.abuse.notices import Status as Validity
from veil.abuse.queue import OrderFacts, order_statement
from veil.abuse.urls import normalise_url
from veil.control.desk.context import DeskContext
from veil.control.desk.forwarding import forward_letter
from veil.control.desk.hosting import hosting_provider
from veil.control.desk.intake import notice_fields
from veil.control.desk.log import append_log
from veil.control.desk.mitigations import propose
from veil.control.desk.routing import origin_for_host, zone_for_host
from veil.control.desk.workflow import case_account, move
from veil.control.store.models import AbuseAction, AbuseCase, AbuseCaseUrl, Zone, new_id


class OrderRefused(ValueError):
    """An order that cannot be recorded as sent (the message says why)."""


@dataclass(frozen=True, slots=True)
class Order:
    authority: str
    country: str
    legal_basis: str
    urls: tuple[str, ...]
    effective_on: datetime
    reference: str = ""
    scope: tuple[str, ...] = ()  # empty: the issuing country
    category: Category = Category.GENERAL
    explanation: str = ""
    contact_email: str = ""


@dataclass(slots=True)
class Filed:
    cases: list[AbuseCase] = field(default_factory=list)
    actions: list[AbuseAction] = field(default_factory=list)
    off_network: list[str] = field(default_factory=list)


def _codes(order: Order) -> tuple[str, tuple[str, ...]]:
    try:
        [country] = sorted(country_codes([order.country]))
        scope = tuple(sorted(country_codes(list(order.scope) or [country])))
    except ValueError as exc:
        raise OrderRefused(str(exc)) from None
    return country, scope


def _group(session: Session, urls: tuple[str, ...]) -> tuple[dict[str, list[str]], list[str]]:
    groups: dict[str, list[str]] = {}
    off: list[str] = []
    for line in urls:
        url = normalise_url(line)
        if url is None:
            raise OrderRefused(f"not an http(s) URL: {line!r}")
        zone = zone_for_host(session=session, host=url.host)
        if zone is None:
            off.append(url.canonical)
        elif url.canonical not in groups.setdefault(zone.id, []):
            groups[zone.id].append(url.canonical)
    return groups, off


def file_order(*, session: Session, desk: DeskContext, order: Order, now: datetime) -> Filed:
    """Record the order and act on it (see the module doc); the caller commits."""
    country, scope = _codes(order)
    groups, off = _group(session, order.urls)
    if not groups:
        raise OrderRefused(f"none of the URLs is on our network: {', '.join(off)}")
    filed = Filed(off_network=off)
    for zone_id, urls in groups.items():
        zone = session.get(Zone, zone_id)
        assert zone is not None
        case = _open_case(session, desk, order, zone, urls, country, scope, now)
        facts = OrderFacts(
            case_id=case.id,
            authority=order.authority,
            country=country,
            legal_basis=order.legal_basis,
            reference=order.reference,
            scope=scope,
            received_on=now,
            explanation=order.explanation,
            customer_url=desk.customer_url(case.id),
        )
        statement = StatementOfReasons(**order_statement(facts, urls))
        _tell_customer(session, case, order, facts, now)
        action = propose(
            session=session,
            case=case,
            type=ActionType.LEGAL_BLOCK,
            statement=statement,
            now=now,
            effective_on=order.effective_on,
            targets=urls,
            countries=scope,
            status=Status.ACTIVE if order.effective_on <= now else Status.PENDING,
        )
        filed.cases.append(case)
        filed.actions.append(action)
    return filed


def _open_case(
    session: Session,
    desk: DeskContext,
    order: Order,
    zone: Zone,
    urls: list[str],
    country: str,
    scope: tuple[str, ...],
    now: datetime,
) -> AbuseCase:
    notice = Notice(
        act=order.category,
        urls="\n".join(urls),
        email=order.contact_email,
        name=order.authority,
        justification=order.explanation or order.legal_basis,
        comments=order.reference,
    )
    first = normalise_url(urls[0])
    host_name = zone.name if first is None else first.host
    origin = origin_for_host(session=session, zone=zone, host=host_name)
    host = hosting_provider(
        session=session, finder=desk.finder, account_id=zone.account_id, origin=origin
    )
    case = AbuseCase(
        id=new_id(),
        category=order.category.value,
        channel="order",
        source=Source.AUTHORITY.value,
        state=CaseState.RECEIVED.value,
        validation=Validity.COMPLETE.value,
        problems=[],
        notice=notice_fields(notice),
        order=_order_json(order, country, scope, urls),
        reporter_id=None,
        reporter_email=order.contact_email.strip().lower(),
        status_key=secrets.token_urlsafe(24),
        account_id=zone.account_id,
        zone_id=zone.id,
        domain=zone.name,
        origin_ip=origin,
        host=None if host is None else host.to_json(),
        received_on=now,
        deadline_on=queue_deadline(order.category, now, trusted=True),
        modified_on=now,
    )
    session.add(case)
    session.add_all(AbuseCaseUrl(case_id=case.id, url=u, zone_id=zone.id) for u in urls)
    append_log(
        session=session,
        entry=entry(
            Event.ORDER_RECEIVED,
            now,
            case=case.id,
            category=case.category,
            country=country,
            scope=list(scope),
            urls=len(urls),
        ),
    )
    move(session=session, case=case, event=CaseEvent.VALIDATED, now=now)
    return case


def _order_json(
    order: Order, country: str, scope: tuple[str, ...], urls: list[str]
) -> dict[str, object]:
    return {
        "authority": order.authority,
        "country": country,
        "legal_basis": order.legal_basis,
        "reference": order.reference,
        "scope": list(scope),
        "urls": urls,
        "effective_on": rfc3339(order.effective_on),
        "explanation": order.explanation,
        "contact_email": order.contact_email,
    }


def _tell_customer(
    session: Session, case: AbuseCase, order: Order, facts: OrderFacts, now: datetime
) -> None:
    """DSA Art. 9(5): the customer learns of the order and the effect given to it."""
    account = case_account(session, case)
    if account is not None:
        letter = _order_letter(case, order, facts)
        forward_letter(session, case, "customer", account.contact_email, letter, now, "order")
    case.forwarded_on = now
    move(session=session, case=case, event=CaseEvent.FORWARDED, now=now)


def _order_letter(case: AbuseCase, order: Order, facts: OrderFacts) -> Letter:
    reference = f" (reference {order.reference})" if order.reference else ""
    lines = [
        f"We received an order from {order.authority} ({facts.country}){reference} about "
        f"{case.domain}, a site you serve through us (case {case.id}).",
        "",
        f"Legal basis: {order.legal_basis}",
        f"Applies in: {', '.join(facts.scope)}",
        f"From {rfc3339(order.effective_on)}, these addresses answer 451 Unavailable For Legal "
        "Reasons to visitors in those countries:",
        *(f"  {url}" for url in (case.order or {}).get("urls", [])),
        "",
        f"You may answer on the case: {facts.customer_url}",
        f"You may contest the order before the courts of {facts.country}.",
    ]
    return Letter(
        subject=f"[case {case.id}] Order from {order.authority} about {case.domain}",
        body="\n".join(lines),
    )
