"""The operator's desk, continued (`abuse:desk`): reporters — reputation and trust — and court
or authority orders (DSA Art. 9). Included by `veil.control.routers.abuse_desk` under
`/veil/abuse`."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from veil.abuse.reputation import Standing
from veil.control.changes import commit_change
from veil.control.deps import AbuseDesk, Caller, ListPage, SessionDep, StateDep, WriteSessionDep
from veil.control.desk.mitigations import ActionRefused
from veil.control.desk.orders import Order, OrderRefused, file_order
from veil.control.desk.reporters import is_trusted
from veil.control.desk.reputation import standings
from veil.control.desk.trusted import unvet, vet
from veil.control.envelope import bad_request, not_found, ok, page_info
from veil.control.schemas.abuse_desk import OrderCreate, OrderResult, ReporterPublic, TrustRequest
from veil.control.schemas.common import Envelope
from veil.control.state import ControlState
from veil.control.store.models import AbuseReporter
from veil.control.store.repo.paging import fetch_page

router = APIRouter(tags=["abuse desk"])


def _reporter_public(
    reporter: AbuseReporter, state: ControlState, recent: Standing
) -> ReporterPublic:
    now = state.now()
    return ReporterPublic(
        id=reporter.id,
        email=reporter.email,
        name=reporter.name,
        trusted=reporter.trusted,
        trusted_since=reporter.trusted_since,
        trusted_agreement=reporter.trusted_agreement,
        trust_lapsed=reporter.trusted and not is_trusted(reporter, state.desk, now),
        valid_count=reporter.valid_count,
        invalid_count=reporter.invalid_count,
        recent_notices=recent.notices,
        recent_invalid=recent.invalid,
        throttled=recent.throttled,
        last_active_on=reporter.last_active_on,
        created_on=reporter.created_on,
    )


@router.get("/reporters", response_model=Envelope[list[ReporterPublic]])
def list_reporters(
    caller: AbuseDesk,
    session: SessionDep,
    state: StateDep,
    page: ListPage,
    email: str | None = Query(None, max_length=320),
    trusted: bool | None = None,
) -> Envelope[list[ReporterPublic]]:
    """Reporters with their reputation (valid / invalid, throttled) and trust."""
    statement = select(AbuseReporter).order_by(AbuseReporter.email)
    if email is not None:
        statement = statement.where(AbuseReporter.email == email.strip().lower())
    if trusted is not None:
        statement = statement.where(AbuseReporter.trusted.is_(trusted))
    rows, total = fetch_page(session=session, statement=statement, page=page)
    recent = standings(session=session, reporter_ids=[r.id for r in rows], now=state.now())
    return ok(
        [_reporter_public(r, state, recent[r.id]) for r in rows],
        result_info=page_info(page, count=len(rows), total=total),
    )


def _reporter(session: Session, reporter_id: str) -> AbuseReporter:
    reporter = session.get(AbuseReporter, reporter_id) if len(reporter_id) <= 64 else None
    if reporter is None:
        raise not_found("reporter")
    return reporter


def _trust_change(
    session: Session,
    state: ControlState,
    caller: Caller,
    reporter: AbuseReporter,
    action: str,
    before: dict[str, Any],
) -> Envelope[ReporterPublic]:
    now = state.now()
    after = {"trusted": reporter.trusted, "trusted_since": reporter.trusted_since}
    commit_change(
        session=session,
        actor=caller.actor,
        action=action,
        resource_type="abuse_reporter",
        resource_id=reporter.id,
        now=now,
        before={k: str(v) if v is not None else None for k, v in before.items()},
        after={k: str(v) if v is not None else None for k, v in after.items()},
        edge_visible=False,
    )
    recent = standings(session=session, reporter_ids=[reporter.id], now=now)
    return ok(_reporter_public(reporter, state, recent[reporter.id]))


@router.post("/reporters/{reporter_id}/trust", response_model=Envelope[ReporterPublic])
def trust_reporter(
    reporter_id: str,
    body: TrustRequest,
    caller: AbuseDesk,
    session: WriteSessionDep,
    state: StateDep,
) -> Envelope[ReporterPublic]:
    """Vet a reporter: record the agreement and its date (`trusted_since`)."""
    reporter = _reporter(session, reporter_id)
    before = {"trusted": reporter.trusted, "trusted_since": reporter.trusted_since}
    now = state.now()
    since = (body.signed_on or now).astimezone(UTC)
    if since > now:
        raise bad_request("signed_on: the agreement cannot be signed in the future")
    vet(reporter=reporter, agreement=body.agreement, since=since, now=now)
    return _trust_change(session, state, caller, reporter, "abuse.reporter.trust", before)


@router.delete("/reporters/{reporter_id}/trust", response_model=Envelope[ReporterPublic])
def distrust_reporter(
    reporter_id: str, caller: AbuseDesk, session: WriteSessionDep, state: StateDep
) -> Envelope[ReporterPublic]:
    """Withdraw trust (the agreement stays on record)."""
    reporter = _reporter(session, reporter_id)
    before = {"trusted": reporter.trusted, "trusted_since": reporter.trusted_since}
    unvet(reporter=reporter)
    return _trust_change(session, state, caller, reporter, "abuse.reporter.distrust", before)


@router.post("/orders", response_model=Envelope[OrderResult])
def create_order(
    body: OrderCreate, caller: AbuseDesk, session: WriteSessionDep, state: StateDep
) -> Envelope[OrderResult]:
    """A court or authority order (DSA Art. 9): a case per zone and a geo-scoped block."""
    now = state.now()
    order = Order(
        authority=body.authority,
        country=body.country,
        legal_basis=body.legal_basis,
        urls=tuple(body.urls),
        effective_on=(body.effective_on or now).astimezone(UTC),
        reference=body.reference,
        scope=tuple(body.scope),
        category=body.category,
        explanation=body.explanation,
        contact_email=body.contact_email,
    )
    try:
        filed = file_order(session=session, desk=state.desk, order=order, now=now)
    except (OrderRefused, ActionRefused) as exc:
        raise bad_request(str(exc)) from None
    result = OrderResult(
        cases=[c.id for c in filed.cases],
        actions=[a.id for a in filed.actions],
        not_on_our_network=filed.off_network,
    )
    commit_change(
        session=session,
        actor=caller.actor,
        action="abuse.order.create",
        resource_type="abuse_case",
        resource_id=result.cases[0],
        now=now,
        after={**result.model_dump(), "authority": body.authority, "country": body.country},
        edge_visible=False,  # propose bumped the version; the commit publishes it
    )
    return ok(result)
