"""The desk's background work: started by the app's lifespan, stopped cleanly."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiosmtplib
import pytest
from sqlalchemy import select

from tests.control.harness import open_api
from veil.abuse.letters import Letter
from veil.control.app import control_state, create_app
from veil.control.bootstrap import prepare
from veil.control.desk.background import TASKS, run_desk, run_mailer
from veil.control.desk.outbox import queue_mail
from veil.control.state import ControlState
from veil.control.store.models import MailOutbox
from veil.settings import AbuseSettings, ControlSettings


async def test_lifespan_runs_the_intake_and_stops_it(db_url: str, tmp_path: Path) -> None:
    """With --abuse-smtp-listen the app's lifespan binds the intake; leaving it closes it."""
    settings = ControlSettings(
        data_dir=tmp_path,
        database_url=db_url,
        abuse=AbuseSettings(smtp_listen=("127.0.0.1", 0)),
    )
    prepare(settings)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        port = app.state.desk.intake.address[1]
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=5) as client:
            code, _ = await client.noop()
            assert code == 250
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_without_a_relay_mail_waits_in_the_outbox(db_url: str, tmp_path: Path) -> None:
    """No --smtp: no intake, the mailer does not run, and queued mail stays unsent."""
    async with open_api(db_url, tmp_path) as api:
        state = control_state(api.app)
        async with run_desk(state) as desk:
            assert desk.intake is None
            with state.db.write() as session:
                queue_mail(
                    session=session,
                    to="a@b.example",
                    letter=Letter("s", "b"),
                    party="reporter",
                    kind="receipt",
                    now=state.now(),
                )
                session.commit()
            await asyncio.sleep(0.7)  # longer than the mailer's poll
            assert all(task.done() for task in desk.tasks[:1])  # run_mailer returned at once
        with state.db.read() as session:
            assert session.scalars(select(MailOutbox.sent_on)).all() == [None]


async def test_a_failing_loop_is_logged_and_the_others_go_on(
    db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A loop that raises is logged; the other loops keep running until the desk stops."""
    ticks: list[int] = []

    async def broken(state: ControlState) -> None:
        raise RuntimeError("boom")

    async def ticking(state: ControlState) -> None:
        while True:
            ticks.append(1)
            await asyncio.sleep(0.01)

    async with open_api(db_url, tmp_path) as api:
        async with run_desk(control_state(api.app), loops=[broken, ticking]) as desk:
            await asyncio.sleep(0.1)
            assert desk.tasks[0].done() and not desk.tasks[1].done()
        assert desk.tasks == []
    assert len(ticks) > 3
    assert "broken" in caplog.text and "boom" in caplog.text


def test_the_mailer_is_a_desk_loop() -> None:
    """The mailer is registered in TASKS (timers and others add one line beside it)."""
    assert run_mailer in TASKS
