"""DMCA counter-notices: the §512(g)(3) elements and the §512(g)(2)(C) restore window.

Theory of operation. A customer whose material was removed after a notice may answer with a
`CounterNotice`. `validate_counter(counter)` checks the elements of 17 U.S.C. §512(g)(3)(A)-(D)
one by one and returns a `Validation` (the same shape as a notice's, see `veil.abuse.notices`):
complete, or invalid with one `Problem` per missing element and a repair message in plain words.
There is no "incomplete, awaiting" state here: the law's duty to help complete a defective
notice (§512(c)(3)(B)(ii)) has no counterpart for counter-notices.

Once a valid counter-notice is received, the provider forwards it to the complainant and puts
the material back "not less than 10, nor more than 14, business days following receipt", unless
it first receives notice that the complainant has filed an action to restrain the customer
(§512(g)(2)(B)-(C)). Business days are Monday to Friday; the operator supplies holidays. The
day of receipt does not count: business day 1 is the first business day after it.

Pure: no I/O, no clock; `now` and `received_at` are parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from veil.abuse.notices import Problem, Status, Validation

RESTORE_MIN_BUSINESS_DAYS = 10  # §512(g)(2)(C), "not less than 10"
RESTORE_MAX_BUSINESS_DAYS = 14  # "nor more than 14"
_US = frozenset({"US", "USA", "UNITED STATES"})


@dataclass(frozen=True, slots=True)
class CounterNotice:
    """A subscriber's counter-notice, as typed on the customer's form."""

    signature: str = ""
    material: str = ""  # what was removed or disabled
    location: str = ""  # where it appeared before removal (URL)
    statement_mistake_perjury: bool = False
    name: str = ""
    address: str = ""
    country: str = ""  # ISO 3166 alpha-2 of the address; decides the forum of (D)
    tele: str = ""
    consent_jurisdiction: bool = False
    accepts_service: bool = False

    @property
    def outside_us(self) -> bool:
        """True when the address is outside the United States (or the country is not given)."""
        return self.country.strip().upper() not in _US


def _given(text: str) -> bool:
    return bool(text.strip())


def _jurisdiction_repair(counter: CounterNotice) -> str:
    """§512(g)(3)(D): the forum depends on where the subscriber lives."""
    if counter.outside_us:
        return (
            "Confirm you consent to the jurisdiction of any US federal district court where "
            "we may be found (your address is outside the United States)."
        )
    return (
        "Confirm you consent to the jurisdiction of the US federal district court for the "
        "judicial district where your address is."
    )


# §512(g)(3)(A)-(D), element by element: id, test, repair (a string, or built from the notice).
_ELEMENTS: tuple[tuple[str, Callable[[CounterNotice], bool], Callable[[CounterNotice], str]], ...]
_ELEMENTS = (
    (
        "signature",
        lambda c: _given(c.signature),
        lambda c: "Add your physical or electronic signature: type your full name in Signature.",
    ),
    (
        "material",
        lambda c: _given(c.material),
        lambda c: "Describe the material that was removed or disabled.",
    ),
    (
        "location",
        lambda c: _given(c.location),
        lambda c: "Add the address (URL) where the material appeared before it was removed.",
    ),
    (
        "mistake_statement",
        lambda c: c.statement_mistake_perjury,
        lambda c: (
            "Confirm, under penalty of perjury, that you believe in good faith the "
            "material was removed by mistake or misidentification."
        ),
    ),
    ("name", lambda c: _given(c.name), lambda c: "Add your full name in Name."),
    ("address", lambda c: _given(c.address), lambda c: "Add your postal address in Address."),
    ("telephone", lambda c: _given(c.tele), lambda c: "Add your telephone number in Telephone."),
    ("jurisdiction_consent", lambda c: c.consent_jurisdiction, _jurisdiction_repair),
    (
        "accepts_service",
        lambda c: c.accepts_service,
        lambda c: (
            "Confirm you will accept service of process from the person who sent the "
            "notice, or their agent."
        ),
    ),
)


def validate_counter(counter: CounterNotice) -> Validation:
    """17 U.S.C. §512(g)(3)(A)-(D), element by element, in statutory order."""
    problems = tuple(
        Problem(eid, repair(counter)) for eid, ok, repair in _ELEMENTS if not ok(counter)
    )
    return Validation(Status.INVALID if problems else Status.COMPLETE, problems)


def _day(moment: date | datetime) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def is_business_day(day: date, *, holidays: frozenset[date] = frozenset()) -> bool:
    """Monday to Friday, and not one of the given holidays."""
    return day.weekday() < 5 and day not in holidays


def business_days_after(
    start: date | datetime, n: int, *, holidays: frozenset[date] = frozenset()
) -> date:
    """The n-th business day after `start` (which itself does not count); n=0 is `start`."""
    if n < 0:
        raise ValueError("n must be zero or more business days")
    day = _day(start)
    while n:
        day += timedelta(days=1)
        if is_business_day(day, holidays=holidays):
            n -= 1
    return day


def restore_window(
    received_at: date | datetime, *, holidays: frozenset[date] = frozenset()
) -> tuple[date, date]:
    """§512(g)(2)(C): the earliest and latest days to restore, 10 and 14 business days on."""
    return (
        business_days_after(received_at, RESTORE_MIN_BUSINESS_DAYS, holidays=holidays),
        business_days_after(received_at, RESTORE_MAX_BUSINESS_DAYS, holidays=holidays),
    )


def restore_due(
    received_at: date | datetime,
    now: date | datetime,
    *,
    lawsuit_filed: bool,
    holidays: frozenset[date] = frozenset(),
) -> bool:
    """Whether to restore now: from the window's first day, unless a lawsuit was filed.

    Veil restores as early as the law allows (the 10th business day); restoring later, up to the
    14th, is also lawful, so a timer that fires late is still within the window until then.
    `received_at` and `now` must be in the same time zone (the operator's).
    """
    if lawsuit_filed:
        return False
    earliest, _ = restore_window(received_at, holidays=holidays)
    return _day(now) >= earliest
