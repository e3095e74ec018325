"""Abuse cases as the customer sees them (`veil.control.schemas.abuse_cases`).

What the customer never sees: the reporter's identity where it is withheld
(`veil.abuse.notices.reporter_identity_withheld`, or the reporter chose no owner
notification), the letters to the reporter and the host, the operator's notes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from veil.abuse.actions import ActionType, Status
from veil.abuse.cases import CaseState
from veil.abuse.ledger import rfc3339
from veil.abuse.notices import Category, Notice, Notification, reporter_identity_withheld
from veil.abuse.strikes import describe, is_active
from veil.control.desk.context import DeskContext
from veil.control.desk.timers import account_strikes
from veil.control.routers.abuse_reports import TYPE_CODES
from veil.control.schemas.abuse_cases import (
    AbuseReportDetail,
    AbuseReportPublic,
    ActionDetail,
    CounterNoticePublic,
    DisclosurePublic,
    MessagePublic,
    MitigationPublic,
    MitigationSummary,
    StrikeLedger,
    StrikePublic,
    Submitter,
)
from veil.control.store.models import (
    AbuseAction,
    AbuseCase,
    AbuseCaseUrl,
    AbuseCounterNotice,
    AbuseDisclosure,
    AbuseMessage,
)
from veil.control.tokens import Grant

# Cloudflare's report status: "in_review" while the desk is still deciding, else "accepted".
IN_REVIEW_STATES = frozenset(
    {
        CaseState.RECEIVED,
        CaseState.INCOMPLETE_AWAITING_REPORTER,
        CaseState.VALID,
        CaseState.IN_REVIEW,
        CaseState.COUNTER_NOTICED,
        CaseState.ESCALATED,
    }
)
IDENTITY_FIELDS = (
    "email",
    "email2",
    "name",
    "signature",
    "agent_name",
    "company",
    "address1",
    "city",
    "state",
    "country",
    "tele",
    "title",
)
REPORTER_PARTIES = frozenset({"reporter", "trusted_reporter"})
LIVE = frozenset({Status.PENDING.value, Status.ACTIVE.value, Status.IN_REVIEW.value})


def when(moment: datetime | None) -> str | None:
    return None if moment is None else rfc3339(moment)


def report_status(case: AbuseCase) -> str:
    return "in_review" if CaseState(case.state) in IN_REVIEW_STATES else "accepted"


def withheld(case: AbuseCase) -> bool:
    """The customer is not told who reported (the category's rule or the reporter's choice)."""
    notice = Notice.from_fields(case.notice)
    return reporter_identity_withheld(notice) or notice.owner_notification is Notification.NONE


def submitter(case: AbuseCase) -> Submitter:
    if withheld(case):
        return Submitter()
    n = case.notice
    return Submitter(
        company=n.get("company") or None,
        email=n.get("email") or None,
        name=n.get("name") or None,
        telephone=n.get("tele") or None,
    )


def mitigation(action: AbuseAction) -> MitigationPublic:
    return MitigationPublic(**_mitigation_fields(action))


def _mitigation_fields(action: AbuseAction) -> dict[str, Any]:
    suspend = action.type == ActionType.ACCOUNT_SUSPEND.value
    return {
        "id": action.id,
        "effective_date": rfc3339(action.effective_on),
        "entity_id": (action.account_id or "") if suspend else (action.targets or [""])[0],
        "entity_type": "account" if suspend else "url_pattern",
        "status": action.status,
        "type": action.type,
        "targets": list(action.targets),
        "countries": list(action.countries),
    }


def _summary(actions: Sequence[AbuseAction], host_told: bool) -> MitigationSummary:
    statuses = Counter(a.status for a in actions)
    accepted = {url for a in actions if a.status in LIVE for url in a.targets}
    return MitigationSummary(
        accepted_url_count=len(accepted),
        active_count=statuses[Status.ACTIVE.value],
        external_host_notified=host_told,
        in_review_count=statuses[Status.IN_REVIEW.value],
        pending_count=statuses[Status.PENDING.value],
    )


def _public_fields(
    case: AbuseCase, urls: list[str], actions: Sequence[AbuseAction], host_told: bool
) -> dict[str, Any]:
    return {
        "id": case.id,
        "cdate": rfc3339(case.received_on),
        "domain": case.domain,
        "mitigation_summary": _summary(actions, host_told),
        "status": report_status(case),
        "type": TYPE_CODES[Category(case.category)],
        "justification": case.notice.get("justification") or None,
        "original_work": case.notice.get("original_work") or None,
        "submitter": submitter(case),
        "urls": urls,
    }


def report_list(session: Session, cases: Sequence[AbuseCase]) -> list[AbuseReportPublic]:
    """The listed reports, with three queries for the whole page."""
    ids = [c.id for c in cases]
    urls: dict[str, list[str]] = {i: [] for i in ids}
    for case_id, url in session.execute(
        select(AbuseCaseUrl.case_id, AbuseCaseUrl.url)
        .where(AbuseCaseUrl.case_id.in_(ids))
        .order_by(AbuseCaseUrl.id)
    ):
        urls[case_id].append(url)
    actions: dict[str, list[AbuseAction]] = {i: [] for i in ids}
    for action in session.scalars(select(AbuseAction).where(AbuseAction.case_id.in_(ids))):
        actions[action.case_id].append(action)
    told = set(
        session.scalars(
            select(AbuseDisclosure.case_id).where(
                AbuseDisclosure.case_id.in_(ids), AbuseDisclosure.party == "host"
            )
        )
    )
    return [
        AbuseReportPublic(**_public_fields(c, urls[c.id], actions[c.id], c.id in told))
        for c in cases
    ]


def _notice_view(case: AbuseCase) -> dict[str, Any]:
    hidden = withheld(case)
    return {k: v for k, v in case.notice.items() if not (hidden and k in IDENTITY_FIELDS)}


def _disclosure(row: AbuseDisclosure, hidden: bool) -> DisclosurePublic:
    return DisclosurePublic(
        party=row.party,
        recipient=None if hidden and row.party in REPORTER_PARTIES else row.recipient,
        what=row.what,
        reason=row.reason,
        at=rfc3339(row.at),
    )


def counter_public(row: AbuseCounterNotice) -> CounterNoticePublic:
    return CounterNoticePublic(
        id=row.id,
        valid=row.valid,
        received_on=rfc3339(row.received_on),
        restore_due_on=when(row.restore_due_on),
        lawsuit_on=when(row.lawsuit_on),
        restored_on=when(row.restored_on),
    )


def strike_ledger(
    session: Session, desk: DeskContext, account_id: str | None, grant: Grant, now: datetime
) -> StrikeLedger:
    """The account's strikes under the repeat-infringer policy (§512(i)), the verdict at
    `now`; case ids of cases outside the caller's zones are left out."""
    policy = desk.policy
    rows = [] if account_id is None else account_strikes(session=session, account_id=account_id)
    visible = _visible_cases(session, [r.case_id for r, _ in rows], grant)
    strikes = [
        StrikePublic(
            case_id=row.case_id if row.case_id in visible else None,
            issued_on=rfc3339(row.issued_on),
            expires_on=rfc3339(row.issued_on + policy.window),
            reversed_on=when(row.reversed_on),
            active=is_active(strike, now, window=policy.window),
        )
        for row, strike in rows
    ]
    active = sum(1 for s in strikes if s.active)
    return StrikeLedger(
        policy=describe(policy),
        max_strikes=policy.max_strikes,
        window_days=policy.window.days,
        active_count=active,
        verdict=policy.action if active >= policy.max_strikes else None,
        strikes=strikes,
    )


def _visible_cases(session: Session, case_ids: list[str], grant: Grant) -> set[str]:
    if grant.zone_ids is None:
        return set(case_ids)
    rows = session.execute(
        select(AbuseCase.id, AbuseCase.zone_id).where(AbuseCase.id.in_(case_ids))
    )
    return {
        case_id for case_id, zone_id in rows if zone_id is not None and grant.sees_zone(zone_id)
    }


def report_detail(
    session: Session, desk: DeskContext, case: AbuseCase, grant: Grant, now: datetime
) -> AbuseReportDetail:
    [public] = report_list(session, [case])
    hidden = withheld(case)
    actions = session.scalars(
        select(AbuseAction).where(AbuseAction.case_id == case.id).order_by(AbuseAction.created_on)
    ).all()
    disclosures = session.scalars(
        select(AbuseDisclosure)
        .where(AbuseDisclosure.case_id == case.id)
        .order_by(AbuseDisclosure.id)
    ).all()
    messages = session.scalars(
        select(AbuseMessage)
        .where(AbuseMessage.case_id == case.id, AbuseMessage.party == "customer")
        .order_by(AbuseMessage.id)
    ).all()
    counters = session.scalars(
        select(AbuseCounterNotice)
        .where(AbuseCounterNotice.case_id == case.id)
        .order_by(AbuseCounterNotice.received_on)
    ).all()
    return AbuseReportDetail(
        **public.model_dump(exclude={"mitigation_summary", "submitter"}),
        mitigation_summary=public.mitigation_summary,
        submitter=public.submitter,
        act=case.category,
        state=case.state,
        validation=case.validation,
        notice=_notice_view(case),
        deadline_on=rfc3339(case.deadline_on),
        escalated_on=when(case.escalated_on),
        disclosures=[_disclosure(d, hidden) for d in disclosures],
        messages=[
            MessagePublic(
                party=m.party, direction=m.direction, kind=m.kind, body=m.body, at=rfc3339(m.at)
            )
            for m in messages
        ],
        mitigations=[ActionDetail(**_mitigation_fields(a), statement=a.statement) for a in actions],
        counter_notices=[counter_public(c) for c in counters],
        strikes=strike_ledger(session, desk, case.account_id, grant, now),
    )
