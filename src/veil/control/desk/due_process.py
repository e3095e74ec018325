"""The customer's due process on a case: request review, counter-notice, reply; the lawsuit.

Theory of operation. Each function runs in the caller's write transaction and leaves the
rows, the case's state, the log and the outbox consistent; the caller commits. A request the
rules refuse raises `Refused` with one message per problem (the API answers 400 with each).

- `request_review` (Cloudflare's mitigation appeal): a *pending* action goes to `in_review`
  through `veil.control.desk.mitigations.change_status` (not enforced while in review); an
  active one cannot be reviewed this way — the answer to removed material is a counter-notice.
- `receive_counter_notice`: the Cloudflare form (`full_name`, `street_address`, …) is mapped to
  `veil.abuse.counter.CounterNotice` and checked element by element (17 U.S.C. §512(g)(3)); a
  valid one is stored with the day the material comes back (§512(g)(2)(C): 10 business days by
  default, at most 14), forwarded to the reporter (§512(g)(2)(B)) and the case moves to
  `counter_noticed`. The timer (`veil.control.desk.timers`) restores it when the day comes.
- `record_lawsuit`: the reporter shows a filed action; the material stays down.
- `reply`: a text answer from the customer; answers the notice (no escalation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from veil.abuse.actions import ActionEvent, Status
from veil.abuse.cases import CaseEvent, CaseState, IllegalTransition
from veil.abuse.counter import (
    RESTORE_MAX_BUSINESS_DAYS,
    RESTORE_MIN_BUSINESS_DAYS,
    CounterNotice,
    business_days_after,
    validate_counter,
)
from veil.abuse.ledger import Event, entry
from veil.abuse.letters import counter_notice_to_reporter, lawsuit_to_customer
from veil.abuse.notices import Category
from veil.abuse.urls import normalise_url
from veil.control.desk.context import DeskContext
from veil.control.desk.log import append_log
from veil.control.desk.mitigations import case_urls, change_status
from veil.control.desk.outbox import mail_customer, mail_reporter
from veil.control.desk.workflow import disclose, move, note_message
from veil.control.store.models import AbuseAction, AbuseCase, AbuseCounterNotice, new_id

MAX_TEXT = 20_000
REASONS = frozenset({"removed", "misclassified"})  # Cloudflare's appeal reasons
# The customer's answer reaches a case in these states without an action in the way.
REPLY_MOVES = frozenset({CaseState.FORWARDED, CaseState.AWAITING_CUSTOMER, CaseState.ESCALATED})
# Which form field carries each §512(g)(3) element (for the repair list).
ELEMENT_FIELDS = {
    "signature": "signature",
    "material": "urls",
    "location": "urls",
    "mistake_statement": "perjury_attestation",
    "name": "full_name",
    "address": "street_address",
    "telephone": "phone_number",
    "jurisdiction_consent": "jurisdiction_consent",
    "accepts_service": "jurisdiction_consent",
}


FORM_FIELDS = (  # Cloudflare's counter-notice form, plus Veil's `material`, `accepts_service`
    "full_name",
    "email",
    "phone_number",
    "street_address",
    "city",
    "state",
    "zip_code",
    "country",
    "company",
    "signature",
    "jurisdiction_consent",
    "accepts_service",
    "perjury_attestation",
    "urls",
    "material",
    "counter_notice_response",
)
MAX_URLS = 100


class Refused(ValueError):
    """The request breaks a rule; `problems` are the messages (one per problem)."""

    def __init__(self, *problems: str, status: int = 400) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.status = status


def restore_business_days(desk: DeskContext) -> int:
    """§512(g)(2)(C): restore "not less than 10, nor more than 14, business days" on.

    The operator's choice (`--restore-business-days`, 10 by default: the earliest the law
    allows)."""
    days = desk.restore_business_days
    if not RESTORE_MIN_BUSINESS_DAYS <= days <= RESTORE_MAX_BUSINESS_DAYS:
        raise ValueError("restore_business_days must be between 10 and 14 (§512(g)(2)(C))")
    return days


def restore_on(received: datetime, days: int, holidays: frozenset[date] = frozenset()) -> datetime:
    """The start (00:00 UTC) of the `days`-th business day after receipt."""
    day = business_days_after(received, days, holidays=holidays)
    return datetime.combine(day, time(0), UTC)


def _customer_message(
    session: Session, case: AbuseCase, kind: str, body: str, now: datetime
) -> None:
    note_message(
        session=session,
        case_id=case.id,
        party="customer",
        direction="in",
        kind=kind,
        body=body,
        at=now,
    )


# -- request review (Cloudflare's mitigation appeal) ----------------------------------------


@dataclass(frozen=True, slots=True)
class Appeal:
    action_id: str
    reason: str


def _check_appeal(session: Session, case: AbuseCase, appeal: Appeal) -> AbuseAction:
    action = session.get(AbuseAction, appeal.action_id[:64])
    if action is None or action.case_id != case.id:
        raise Refused(f"mitigation {appeal.action_id} not found on this report", status=404)
    if appeal.reason not in REASONS:
        raise Refused(f"appeals.reason: one of {', '.join(sorted(REASONS))}")
    if action.status == Status.ACTIVE.value:
        raise Refused(
            f"mitigation {action.id} is already active and cannot be appealed this way; if the "
            "material was removed by mistake, send a counter-notice (type counter_notice with "
            "data, 17 U.S.C. §512(g)(3))"
        )
    if action.status in {Status.CANCELLED.value, Status.REMOVED.value}:
        raise Refused(f"mitigation {action.id} is {action.status}; there is nothing to review")
    return action


def request_review(
    *, session: Session, case: AbuseCase, appeals: Sequence[Appeal], now: datetime
) -> list[AbuseAction]:
    """Pending -> in_review for each appealed action (in_review again: unchanged)."""
    if not appeals:
        raise Refused("appeals: name at least one mitigation id")
    actions = [_check_appeal(session, case, appeal) for appeal in appeals]
    for action, appeal in zip(actions, appeals, strict=True):
        if action.status == Status.PENDING.value:
            try:
                change_status(
                    session=session, action=action, event=ActionEvent.REQUEST_REVIEW, now=now
                )
            except IllegalTransition:
                raise Refused(
                    f"the report is {case.state}; the desk reviews it and cannot take a "
                    "request for review now",
                    status=409,
                ) from None
            _customer_message(session, case, "review_request", f"{action.id}: {appeal.reason}", now)
    return actions


def content_removed(*, session: Session, case: AbuseCase, now: datetime) -> list[AbuseAction]:
    """Cloudflare's `content_removed` appeal: the customer says the material is gone; every
    pending action goes to review (the desk checks), and the answer counts as a reply."""
    pending = session.scalars(
        select(AbuseAction).where(
            AbuseAction.case_id == case.id, AbuseAction.status == Status.PENDING.value
        )
    ).all()
    reply(session=session, case=case, text="The customer reports the material removed.", now=now)
    if not pending:
        return []
    appeals = [Appeal(a.id, "removed") for a in pending]
    return request_review(session=session, case=case, appeals=appeals, now=now)


# -- the counter-notice (§512(g)) ------------------------------------------------------------


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Refused(f"data.{name}: a string")
    if len(value) > MAX_TEXT:
        raise Refused(f"data.{name}: at most {MAX_TEXT} characters")
    return value.strip()


def _flag(data: Mapping[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise Refused(f"data.{name}: true or false")
    return value


def _urls(data: Mapping[str, Any], case_url_set: set[str]) -> list[str]:
    raw = data.get("urls", [])
    if isinstance(raw, str):
        raw = raw.splitlines()
    if not isinstance(raw, list) or not all(isinstance(u, str) for u in raw):
        raise Refused("data.urls: a list of the report's URLs")
    if len(raw) > MAX_URLS:
        raise Refused(f"data.urls: at most {MAX_URLS}")
    out: list[str] = []
    for line in (u.strip() for u in raw if u.strip()):
        url = normalise_url(line)
        if url is None or url.canonical not in case_url_set:
            raise Refused(f"data.urls: {line[:200]} is not a URL of this report")
        out.append(url.canonical)
    return out


def counter_from_form(data: Mapping[str, Any], case_url_set: set[str]) -> CounterNotice:
    """Cloudflare's counter-notice form as the §512(g)(3) elements. `jurisdiction_consent`
    covers (D)'s consent and the acceptance of service unless `accepts_service` is sent too."""
    urls = _urls(data, case_url_set)
    street = _text(data, "street_address")
    place = [_text(data, n) for n in ("city", "state", "zip_code", "country")]
    consent = _flag(data, "jurisdiction_consent")
    material = _text(data, "material") or (f"the material at {', '.join(urls)}" if urls else "")
    return CounterNotice(
        signature=_text(data, "signature"),
        material=material,
        location="\n".join(urls),
        statement_mistake_perjury=_flag(data, "perjury_attestation"),
        name=_text(data, "full_name"),
        address=", ".join(p for p in (street, *place) if p) if street else "",
        country=_text(data, "country"),
        tele=_text(data, "phone_number"),
        consent_jurisdiction=consent,
        accepts_service=_flag(data, "accepts_service") if "accepts_service" in data else consent,
    )


def _counter_allowed(case: AbuseCase) -> None:
    if case.category != Category.DMCA.value:
        raise Refused(
            "a counter-notice answers a copyright (DMCA) notice (17 U.S.C. §512(g)); reply or "
            "request review of a pending mitigation instead"
        )
    state = CaseState(case.state)
    if state is CaseState.COUNTER_NOTICED:
        raise Refused("a counter-notice on this report was already received", status=409)
    if state in {CaseState.ACTION_PENDING, CaseState.IN_REVIEW}:
        raise Refused(
            "nothing has been removed yet: request review of the pending mitigation (appeals)"
        )
    if state is not CaseState.ACTION_ACTIVE:
        raise Refused(f"no mitigation is active on this report (it is {case.state})")


def receive_counter_notice(
    *, session: Session, desk: DeskContext, case: AbuseCase, data: Mapping[str, Any], now: datetime
) -> AbuseCounterNotice:
    """Check, store and forward a counter-notice (see the module doc); `Refused` names each
    missing §512(g)(3) element with the form field that carries it."""
    _counter_allowed(case)
    counter = counter_from_form(data, set(case_urls(session, case.id)))
    validation = validate_counter(counter)
    if validation.problems:
        raise Refused(
            *(
                f"{p.element} ({ELEMENT_FIELDS.get(p.element, p.element)}): {p.repair}"
                for p in validation.problems
            )
        )
    due = restore_on(now, restore_business_days(desk), desk.holidays)
    stored = {k: data[k] for k in FORM_FIELDS if k in data}
    row = AbuseCounterNotice(
        id=new_id(), case_id=case.id, fields=stored, valid=True, received_on=now, restore_due_on=due
    )
    session.add(row)
    move(session=session, case=case, event=CaseEvent.COUNTER_NOTICE_RECEIVED, now=now)
    case.customer_replied_on = now
    append_log(session=session, entry=entry(Event.COUNTER_NOTICE, now, case=case.id, valid=True))
    email, response = _text(data, "email"), _text(data, "counter_notice_response")
    letter = counter_notice_to_reporter(
        case_id=case.id,
        counter=counter,
        email=email,
        response=response,
        restore_on=due.date().isoformat(),
    )
    _customer_message(session, case, "counter_notice", letter.body, now)
    _forward_to_reporter(session, case, letter, now)
    return row


def _forward_to_reporter(session: Session, case: AbuseCase, letter: Any, now: datetime) -> None:
    if not mail_reporter(session=session, case=case, letter=letter, kind="counter_notice", now=now):
        return
    disclose(
        session=session,
        case_id=case.id,
        party="reporter",
        recipient=case.reporter_email,
        what="counter_notice",
        reason="§512(g)(2)(B): the counter-notice, with your name, address and telephone, "
        "goes to the person who sent the notice",
        at=now,
    )


# -- the lawsuit (§512(g)(2)(C)) and the reply ------------------------------------------------


def record_lawsuit(
    *,
    session: Session,
    case: AbuseCase,
    counter: AbuseCounterNotice,
    details: Mapping[str, str],
    now: datetime,
) -> None:
    """The reporter shows a filed action before the restore day: the material stays down."""
    if not counter.valid or counter.restored_on is not None:
        raise Refused("the material was already restored; the window has closed", status=409)
    if counter.lawsuit_on is not None:
        raise Refused("a lawsuit is already recorded on this counter-notice", status=409)
    if case.state != CaseState.COUNTER_NOTICED.value:
        raise Refused(f"the report is {case.state}, not awaiting restoration", status=409)
    counter.lawsuit_on = now
    counter.fields = {**counter.fields, "lawsuit": dict(details)}
    move(session=session, case=case, event=CaseEvent.LAWSUIT_FILED, now=now)
    note_message(
        session=session,
        case_id=case.id,
        party="reporter",
        direction="in",
        kind="lawsuit",
        body="\n".join(f"{k}: {v}" for k, v in details.items()) or "a filed action was shown",
        at=now,
    )
    letter = lawsuit_to_customer(case_id=case.id)
    mail_customer(session=session, case=case, letter=letter, kind="lawsuit", now=now)


def reply(*, session: Session, case: AbuseCase, text: str, now: datetime) -> None:
    """A customer's answer: stored, dated; the case moves to `customer_replied` where no action
    is under way (an action's own path goes on: review, counter-notice, its effective date)."""
    body = text.strip()
    if not body:
        raise Refused("text: write a reply")
    if len(body) > MAX_TEXT:
        raise Refused(f"text: at most {MAX_TEXT} characters")
    if CaseState(case.state) in {CaseState.CLOSED, CaseState.NOT_ON_NETWORK}:
        raise Refused(f"the report is {case.state}", status=409)
    _customer_message(session, case, "reply", body, now)
    case.customer_replied_on = now
    case.modified_on = now
    if CaseState(case.state) in REPLY_MOVES:
        move(session=session, case=case, event=CaseEvent.CUSTOMER_REPLIED, now=now)
