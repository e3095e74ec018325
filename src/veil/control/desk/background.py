"""The desk's background work in a control process: the SMTP intake and the loops.

`run_desk(state)` (an async context manager, entered by the FastAPI lifespan in
`veil.control.app`) binds the SMTP intake when `--abuse-smtp-listen` is set — so an address
in use fails the start, not a later log line — and starts every loop of `TASKS`. On exit the
intake stops listening and closes its connections, and the loops are cancelled and awaited.

A loop is `async def loop(state: ControlState) -> None`, running until cancelled (returning
early is fine: the mailer does when no relay is configured). One that raises is logged and
not restarted; the others go on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from veil.control.desk import timers
from veil.control.desk.mailer import Mailer
from veil.control.desk.smtp_intake import SmtpIntake
from veil.control.state import ControlState

log = logging.getLogger("veil.desk")

STOP_TIMEOUT = 5.0  # seconds a loop gets to end once cancelled
DeskLoop = Callable[[ControlState], Awaitable[None]]


async def run_mailer(state: ControlState) -> None:
    """Send the outbox through `--smtp`; without a relay, mail waits in the outbox."""
    if state.settings.abuse.smtp is None:
        return
    await Mailer(db=state.db, settings=state.settings.abuse, clock=state.clock).run()


# The desk's loops, started in this order. To add one, add one line here.
TASKS: list[DeskLoop] = [
    run_mailer,
    timers.run,  # pending actions, restores, escalation, repeat-infringer reviews
]


@dataclass(slots=True)
class Desk:
    """What `run_desk` started: the intake (if any) and the loops' tasks."""

    intake: SmtpIntake | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def stop(self) -> None:
        """Stop listening, cancel the loops and wait for them (idempotent)."""
        if self.intake is not None:
            await self.intake.stop()
        for task in self.tasks:
            task.cancel()
        if self.tasks:
            _, late = await asyncio.wait(self.tasks, timeout=STOP_TIMEOUT)
            for task in late:  # a loop that ignores its cancellation is left behind, logged
                log.error("desk loop %s did not stop within %s s", task.get_name(), STOP_TIMEOUT)
        self.tasks.clear()


async def _guarded(loop: DeskLoop, state: ControlState) -> None:
    name = getattr(loop, "__qualname__", repr(loop))
    try:
        await loop(state)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("desk loop %s stopped", name)


async def start_desk(state: ControlState, *, loops: Sequence[DeskLoop] | None = None) -> Desk:
    """Bind the intake (when configured) and start the loops (default: `TASKS`)."""
    desk = Desk()
    if state.settings.abuse.smtp_listen is not None:
        desk.intake = SmtpIntake(state)
        await desk.intake.start()
    for loop in TASKS if loops is None else loops:
        name = f"desk:{getattr(loop, '__module__', '')}.{getattr(loop, '__qualname__', loop)}"
        desk.tasks.append(asyncio.create_task(_guarded(loop, state), name=name))
    return desk


@asynccontextmanager
async def run_desk(
    state: ControlState, *, loops: Sequence[DeskLoop] | None = None
) -> AsyncIterator[Desk]:
    """The desk's background work for the life of the block."""
    desk = await start_desk(state, loops=loops)
    try:
        yield desk
    finally:
        await desk.stop()
