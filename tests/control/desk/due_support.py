"""Shared set-up for the due-process tests: a fake clock in the API's state, a proxied zone
with a declared host, a DMCA notice filed through `file_notice`, a proposed legal block."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from tests.control.harness import Api
from veil.abuse.actions import ActionType, Ground, StatementOfReasons
from veil.abuse.notices import Notice
from veil.clock import FakeClock
from veil.control.desk.intake import file_notice
from veil.control.desk.mitigations import propose
from veil.control.desk.timers import TickReport, tick
from veil.control.state import ControlState
from veil.control.store.models import AbuseAction, AbuseCase, AccountHost

ORIGIN = "93.184.215.14"
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

DMCA: dict[str, Any] = {
    "act": "abuse_dmca",
    "urls": "https://shop.example/dresses/copy-1",
    "email": "counsel@rights.example",
    "email2": "counsel@rights.example",
    "name": "Ada Counsel",
    "signature": "Ada Counsel",
    "original_work": "Bridal gown collection 2026, photographs at https://rights.example/gowns",
    "company": "Rights LLP",
    "address1": "1 Main St",
    "city": "Springfield",
    "state": "IL",
    "country": "US",
    "tele": "+1 555 0100",
    "agree": 1,
}

COUNTER: dict[str, Any] = {
    "full_name": "Carl Customer",
    "email": "carl@shop.example",
    "phone_number": "+49 30 1234567",
    "street_address": "Hauptstr. 1",
    "city": "Berlin",
    "state": "BE",
    "zip_code": "10115",
    "country": "DE",
    "signature": "Carl Customer",
    "jurisdiction_consent": True,
    "perjury_attestation": True,
    "urls": ["https://shop.example/dresses/copy-1"],
    "counter_notice_response": "These photographs are my own; I took them in 2024.",
}


def state_of(api: Api) -> ControlState:
    state: ControlState = api.app.state.veil
    return state


def use_clock(api: Api, start: datetime = MONDAY) -> FakeClock:
    """Swap a fake clock into the API's state (the desk's `now` follows it)."""
    clock = FakeClock(start.timestamp())
    api.app.state.veil = dataclasses.replace(state_of(api), clock=clock)
    return clock


def tune_desk(api: Api, **changes: Any) -> None:
    """Change the desk's policy or escalation delay for this test."""
    state = state_of(api)
    api.app.state.veil = dataclasses.replace(state, desk=dataclasses.replace(state.desk, **changes))


async def proxied_zone(api: Api, name: str = "shop.example") -> dict[str, Any]:
    """A proxied zone (apex and www) on the operator's account, its host declared."""
    zone = await api.zone(name)
    for host in (name, f"www.{name}"):
        await api.ok(
            "POST",
            f"/zones/{zone['id']}/dns_records",
            json={"type": "A", "name": host, "content": ORIGIN, "proxied": True},
        )
    state = state_of(api)
    with state.db.write() as session:
        if session.get(AccountHost, zone["account"]["id"]) is None:
            session.add(
                AccountHost(
                    account_id=zone["account"]["id"],
                    name="Example Hosting GmbH",
                    abuse_email="abuse@hosting.example",
                    modified_on=state.now(),
                )
            )
        session.commit()
    return zone


def file(api: Api, **fields: Any) -> str:
    """File a notice through `file_notice`; the case id."""
    state = state_of(api)
    with state.db.write() as session:
        receipts = file_notice(
            session=session,
            desk=state.desk,
            notice=Notice.from_fields({**DMCA, **fields}),
            channel="api",
            now=state.now(),
        )
        session.commit()
    return receipts[0].case_id


def statement(case_id: str) -> StatementOfReasons:
    return StatementOfReasons(
        restriction="Access to the reported page is blocked (HTTP 451)",
        duration="until a valid counter-notice restores it",
        facts="A copyright notice identified copies of a photograph collection.",
        followed_notice=True,
        automated_detection=False,
        automated_decision=False,
        ground=Ground.ILLEGAL_CONTENT,
        ground_reference="17 U.S.C. §512(c)",
        explanation="The page reproduces the work without permission.",
        redress=("Request review", "Counter-notice under 17 U.S.C. §512(g)", "Court"),
        notice_reference=case_id,
    )


def block(api: Api, case_id: str, after: timedelta = timedelta(days=2)) -> str:
    """Propose a legal block effective `after` from now (pending for a DMCA case); its id."""
    state = state_of(api)
    with state.db.write() as session:
        case = session.get(AbuseCase, case_id)
        assert case is not None
        action = propose(
            session=session,
            case=case,
            type=ActionType.LEGAL_BLOCK,
            statement=statement(case_id),
            now=state.now(),
            effective_on=state.now() + after,
        )
        session.commit()
        return action.id


def run_tick(api: Api) -> TickReport:
    state = state_of(api)
    with state.db.write() as session:
        report = tick(session, state.desk, state.now())
        session.commit()
    return report


def case_row(api: Api, case_id: str) -> AbuseCase:
    with state_of(api).db.read() as session:
        case = session.get(AbuseCase, case_id)
        assert case is not None
        return case


def action_statuses(api: Api, case_id: str) -> list[str]:
    with state_of(api).db.read() as session:
        return list(
            session.scalars(select(AbuseAction.status).where(AbuseAction.case_id == case_id))
        )


async def customer(api: Api, zone: dict[str, Any], permissions: list[str] | None = None) -> Any:
    """A client with the customer's token: abuse:edit, limited to the zone."""
    token = await api.token(permissions or ["abuse:edit"], zones=[zone["id"]])
    return api.as_token(token)
