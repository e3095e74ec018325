"""The desk's records read back: the transparency report from the log, and the exports.

The report reads the `abuse_log` table only (`veil.abuse.report`): the log is verified first
and the result printed on the report with its head hash and row count. The exports read the
case and action rows and hand plain values to the pure maps in `veil.abuse.exports`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from veil.abuse.chain import head, verify
from veil.abuse.exports import (
    ActionFacts,
    CaseFacts,
    NotExportable,
    dsa_statement,
    lumen_notice,
)
from veil.abuse.report import Anchor, Period, Report, build_report
from veil.control.desk.log import read_log
from veil.control.store.models import AbuseAction, AbuseCase, AbuseCaseUrl

ENDED = frozenset({"removed", "cancelled"})


def transparency_report(*, session: Session, period: Period, now: datetime) -> Report:
    """Verify the chain, then fold every entry into the report for `period`."""
    chain = read_log(session=session)
    anchor = Anchor(
        head=head(chain), rows=len(chain), generated_at=now, verified=bool(verify(chain))
    )
    return build_report((row.entry for row in chain), period, anchor)


def case_facts(*, session: Session, case: AbuseCase) -> CaseFacts:
    urls = session.scalars(
        select(AbuseCaseUrl.url).where(AbuseCaseUrl.case_id == case.id).order_by(AbuseCaseUrl.id)
    )
    order = case.order or {}
    return CaseFacts(
        case_id=case.id,
        category=case.category,
        source=case.source,
        channel=case.channel,
        notice=case.notice,
        urls=tuple(urls),
        received_on=case.received_on,
        order_country=str(order.get("country") or ""),
    )


def action_facts(action: AbuseAction) -> ActionFacts:
    return ActionFacts(
        action_id=action.id,
        type=action.type,
        status=action.status,
        effective_on=action.effective_on,
        targets=tuple(action.targets),
        countries=tuple(action.countries),
        statement=action.statement,
        ended_on=action.modified_on if action.status in ENDED else None,
    )


def lumen_for_case(*, session: Session, case: AbuseCase, recipient: str) -> dict[str, Any]:
    """The case as a Lumen notice; `NotExportable` when its category is never published."""
    actions = session.scalars(select(AbuseAction).where(AbuseAction.case_id == case.id)).all()
    return lumen_notice(
        case_facts(session=session, case=case),
        [action_facts(a) for a in actions],
        recipient=recipient,
    )


def dsa_for_action(*, session: Session, action: AbuseAction) -> dict[str, Any]:
    """One action's statement of reasons; `NotExportable` / `NotReportable` say why not."""
    case = session.get(AbuseCase, action.case_id)
    if case is None:
        raise NotExportable("the action's case no longer exists")
    return dsa_statement(action_facts(action), case_facts(session=session, case=case))


def dsa_for_period(*, session: Session, period: Period) -> dict[str, Any]:
    """The statements of the actions created in `period`, and those skipped with the reason."""
    actions = session.scalars(
        select(AbuseAction)
        .where(AbuseAction.created_on >= period.start, AbuseAction.created_on < period.end)
        .order_by(AbuseAction.created_on, AbuseAction.id)
    ).all()
    statements: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    for action in actions:
        try:
            statements.append(dsa_for_action(session=session, action=action))
        except NotExportable as exc:
            skipped.append({"action": action.id, "reason": str(exc)})
    return {"statements": statements, "skipped": skipped}
