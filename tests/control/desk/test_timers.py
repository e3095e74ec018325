"""The desk's timers with a fake clock (acceptance 4), on SQLite and PostgreSQL: a pending block
takes effect, a counter-notice restores after 10 business days unless a lawsuit is shown,
strikes expire and reverse, the repeat-infringer review appears, unanswered notices escalate."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.control.desk.due_support import (
    COUNTER,
    action_statuses,
    block,
    case_row,
    customer,
    file,
    proxied_zone,
    run_tick,
    state_of,
    tune_desk,
    use_clock,
)
from tests.control.harness import Api
from veil.abuse.strikes import RepeatInfringerPolicy
from veil.clock import FakeClock
from veil.control.desk.timers import SUSPENSION_REVIEW, run, tick
from veil.control.publish import compile_snapshot
from veil.control.store.models import (
    AbuseCounterNotice,
    AbuseLogEntry,
    AbuseMessage,
    AbuseStrike,
    MailOutbox,
)

RESTORE_DAY = datetime(2026, 3, 18, tzinfo=UTC)  # received Wed 4 March: 10th business day


def _events(api: Api) -> list[str]:
    with state_of(api).db.read() as session:
        return [str(e["event"]) for e in session.scalars(select(AbuseLogEntry.entry))]


def _mail(api: Api, case_id: str, kind: str) -> list[MailOutbox]:
    with state_of(api).db.read() as session:
        return list(
            session.scalars(
                select(MailOutbox).where(MailOutbox.case_id == case_id, MailOutbox.kind == kind)
            )
        )


def _strikes(api: Api) -> list[AbuseStrike]:
    with state_of(api).db.read() as session:
        return list(session.scalars(select(AbuseStrike).order_by(AbuseStrike.id)))


async def _blocked_case(api: Api) -> tuple[dict[str, Any], str, FakeClock]:
    """Monday: notice filed, block proposed for Wednesday; Wednesday's tick makes it active."""
    clock = use_clock(api)
    zone = await proxied_zone(api)
    case_id = file(api)
    action_id = block(api, case_id)
    assert run_tick(api).took_effect == []  # not yet its date
    clock.advance(timedelta(days=2).total_seconds())
    assert run_tick(api).took_effect == [action_id]
    assert run_tick(api).took_effect == []  # idempotent
    assert case_row(api, case_id).state == "action_active"
    return zone, case_id, clock


async def _counter_notice(api: Api, zone: dict[str, Any], case_id: str) -> str:
    account = zone["account"]["id"]
    async with await customer(api, zone) as client:
        response = await client.post(
            f"/accounts/{account}/abuse-reports/{case_id}/mitigations/appeal",
            json={"type": "counter_notice", "data": COUNTER},
        )
    assert response.status_code == 200, response.json()
    with state_of(api).db.read() as session:
        counter = session.scalars(select(AbuseCounterNotice)).one()
        return counter.id


async def test_counter_notice_restores_after_ten_business_days(api: Api) -> None:
    """Acceptance 4: blocked, counter-notice on Wednesday; still blocked the day before the 10th
    business day; restored on it — action removed, strike reversed, both parties told."""
    zone, case_id, clock = await _blocked_case(api)
    assert [s.case_id for s in _strikes(api)] == [case_id]
    await _counter_notice(api, zone, case_id)
    assert case_row(api, case_id).state == "counter_noticed"
    [forwarded] = _mail(api, case_id, "counter_notice")
    assert forwarded.to_addr == "counsel@rights.example"
    assert "Carl Customer" in forwarded.body and "2026-03-18" in forwarded.body
    clock.advance((RESTORE_DAY - state_of(api).now()).total_seconds() - 60)
    assert run_tick(api).restored == []
    assert action_statuses(api, case_id) == ["active"]
    clock.advance(60)
    assert run_tick(api).restored == [case_id]
    assert run_tick(api).restored == []  # idempotent
    assert case_row(api, case_id).state == "restored"
    assert action_statuses(api, case_id) == ["removed"]
    [strike] = _strikes(api)
    assert strike.reversed_on == RESTORE_DAY
    assert {m.party for m in _mail(api, case_id, "restored")} == {"reporter", "customer"}
    events = _events(api)
    assert {"counter_notice", "restored", "strike_reversed"} <= set(events)


async def test_restored_block_leaves_the_snapshot(api: Api) -> None:
    """The compiled snapshot carries the block while active and drops it once restored."""
    zone, case_id, clock = await _blocked_case(api)
    await _counter_notice(api, zone, case_id)
    state = state_of(api)

    def blocked_targets() -> list[str]:
        with state.db.read() as session:
            snapshot = compile_snapshot(session=session, created_at=state.clock.now())
        return [t for z in snapshot.zones for block in z.abuse for t in block.targets]

    assert any("dresses/copy-1" in t for t in blocked_targets())
    assert action_statuses(api, case_id) == ["active"]
    clock.advance((RESTORE_DAY - state.now()).total_seconds())
    run_tick(api)
    assert not any("dresses/copy-1" in t for t in blocked_targets())
    assert action_statuses(api, case_id) == ["removed"]


async def test_lawsuit_keeps_the_material_down(api: Api) -> None:
    """The operator records the reporter's filed action: the case stays action_active and the
    restore day passes without restoring; the customer is told."""
    zone, case_id, clock = await _blocked_case(api)
    counter_id = await _counter_notice(api, zone, case_id)
    account = zone["account"]["id"]
    path = f"/accounts/{account}/abuse-reports/{case_id}/counter-notices/{counter_id}/lawsuit"
    async with await customer(api, zone) as client:
        refused = await client.post(path, json={})
    assert refused.status_code == 403  # the customer cannot record it
    result = await api.ok("POST", path, json={"court": "N.D. Cal.", "reference": "5:26-cv-1"})
    assert result["lawsuit_on"] is not None and result["restored_on"] is None
    assert case_row(api, case_id).state == "action_active"
    again = await api.client.post(path, json={})
    assert again.status_code == 409
    clock.advance(timedelta(days=30).total_seconds())
    assert run_tick(api).restored == []
    assert action_statuses(api, case_id) == ["active"]
    assert [s.reversed_on for s in _strikes(api)] == [None]
    assert _mail(api, case_id, "lawsuit")[0].party == "customer"


async def test_strikes_expire_and_three_call_for_a_suspension_review(api: Api) -> None:
    """Three acted-on notices within the window: one suspension-review message for the
    operator (not repeated on the next tick), nothing suspended; after the window the
    strikes have expired and the verdict is gone."""
    tune_desk(api, policy=RepeatInfringerPolicy(max_strikes=3, window=timedelta(days=90)))
    clock = use_clock(api)
    zone = await proxied_zone(api)
    cases = [file(api, urls=f"https://shop.example/dresses/copy-{n}") for n in range(3)]
    for case_id in cases[:2]:
        block(api, case_id, after=timedelta(0))
    assert len(run_tick(api).took_effect) == 2
    assert run_tick(api).reviews == []  # two strikes: below the policy
    clock.advance(timedelta(days=10).total_seconds())
    block(api, cases[2], after=timedelta(0))
    report = run_tick(api)
    assert report.reviews == [zone["account"]["id"]]
    assert run_tick(api).reviews == []  # flagged once
    with state_of(api).db.read() as session:
        flags = list(
            session.scalars(select(AbuseMessage).where(AbuseMessage.kind == SUSPENSION_REVIEW))
        )
    assert len(flags) == 1 and "3 active strikes" in flags[0].body
    assert set(action_statuses(api, cases[0])) == {"active"}  # no automatic suspension
    account = zone["account"]["id"]
    ledger = (await api.ok("GET", f"/accounts/{account}/abuse-reports/{cases[2]}"))["strikes"]
    assert ledger["active_count"] == 3 and ledger["verdict"] == "suspension_review"
    clock.advance(timedelta(days=85).total_seconds())  # first two expire at day 90
    ledger = (await api.ok("GET", f"/accounts/{account}/abuse-reports/{cases[2]}"))["strikes"]
    assert ledger["active_count"] == 1 and ledger["verdict"] is None
    assert [s["active"] for s in ledger["strikes"]] == [False, False, True]


async def test_unanswered_notice_escalates_after_thirty_days(api: Api) -> None:
    """A forwarded notice with no answer: not escalated at 29 days, escalated at 30 (logged,
    the operator told), and only once."""
    clock = use_clock(api)
    await proxied_zone(api)
    case_id = file(api)
    assert case_row(api, case_id).state == "forwarded"
    clock.advance(timedelta(days=29).total_seconds())
    assert run_tick(api).escalated == []
    clock.advance(timedelta(days=1).total_seconds())
    assert run_tick(api).escalated == [case_id]
    assert run_tick(api).escalated == []
    case = case_row(api, case_id)
    assert case.state == "escalated" and case.escalated_on == state_of(api).now()
    assert "escalated" in _events(api)
    with state_of(api).db.read() as session:
        kinds = {
            m.kind
            for m in session.scalars(select(AbuseMessage).where(AbuseMessage.party == "operator"))
        }
    assert "escalated" in kinds


async def test_escalation_delay_is_configurable_and_a_reply_answers(api: Api) -> None:
    """With a 7-day limit: a case the customer answered on day 5 does not escalate; an
    untouched one does on day 7."""
    tune_desk(api, escalate_after=timedelta(days=7))
    clock = use_clock(api)
    zone = await proxied_zone(api)
    answered = file(api, urls="https://shop.example/a")
    silent = file(api, urls="https://shop.example/b")
    clock.advance(timedelta(days=5).total_seconds())
    account = zone["account"]["id"]
    async with await customer(api, zone) as client:
        response = await client.post(
            f"/accounts/{account}/abuse-reports/{answered}/replies",
            json={"text": "The page was removed yesterday."},
        )
    assert response.status_code == 200, response.json()
    assert case_row(api, answered).state == "customer_replied"
    clock.advance(timedelta(days=2).total_seconds())
    assert run_tick(api).escalated == [silent]


async def test_the_timer_loop_restores_on_its_own(api: Api) -> None:
    """`timers.run` (the desk's background loop) restores a due counter-notice without anyone
    calling `tick`; cancelling it stops it."""
    zone, case_id, clock = await _blocked_case(api)
    await _counter_notice(api, zone, case_id)
    clock.advance((RESTORE_DAY - state_of(api).now()).total_seconds())
    loop = asyncio.create_task(run(state_of(api), every=0.02))
    try:
        deadline = asyncio.get_running_loop().time() + 10
        while case_row(api, case_id).state != "restored":
            assert asyncio.get_running_loop().time() < deadline, "not restored within 10 s"
            await asyncio.sleep(0.02)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    assert action_statuses(api, case_id) == ["removed"]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_one_control_process_ticks_at_a_time(api: Api) -> None:
    """On PostgreSQL a second ticker skips the round while the first holds the timers' lock,
    so a pending action is taken into effect once."""
    clock = use_clock(api)
    await proxied_zone(api)
    action_id = block(api, file(api), after=timedelta(0))
    clock.advance(1)
    state = state_of(api)
    with state.db.write() as first, state.db.write() as second:
        assert tick(first, state.desk, state.now()).took_effect == [action_id]
        assert not tick(second, state.desk, state.now())
        first.commit()
    assert run_tick(api).took_effect == []
