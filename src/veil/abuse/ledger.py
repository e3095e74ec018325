"""The vocabulary of the desk's hash-chained log: one event per fact the reports count.

Theory of operation. The transparency report (DSA Art. 15) is computed from the log alone, so
every fact it counts is logged once, as a flat JSON object with `event` (an `Event`), `at`
(RFC 3339 UTC) and the fields named below. Writers build entries with `entry(...)`; the report
reads them back. Reporter identities and origin addresses never enter the log: it is the one
record that may be published.

    notice_received   case, category, channel, source, validation, urls, on_network
    notice_joined     case (a duplicate joined an open case)
    notice_repaired   case, validation
    notice_forwarded  case, party (customer | host | reporter)
    case_state        case, from, to
    action_created    case, action, type, status, countries, automated
    action_status     case, action, type, from, to
    counter_notice    case, valid
    restored          case
    strike            case, account
    strike_reversed   case, account
    disclosure        case, party, what
    escalated         case
    order_received    case, country, scope
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum


class Event(StrEnum):
    NOTICE_RECEIVED = "notice_received"
    NOTICE_JOINED = "notice_joined"
    NOTICE_REPAIRED = "notice_repaired"
    NOTICE_FORWARDED = "notice_forwarded"
    CASE_STATE = "case_state"
    ACTION_CREATED = "action_created"
    ACTION_STATUS = "action_status"
    COUNTER_NOTICE = "counter_notice"
    RESTORED = "restored"
    STRIKE = "strike"
    STRIKE_REVERSED = "strike_reversed"
    DISCLOSURE = "disclosure"
    ESCALATED = "escalated"
    ORDER_RECEIVED = "order_received"


class Source(StrEnum):
    """Where a notice came from (DSA Art. 15(1)(b) asks for trusted flaggers apart)."""

    TRUSTED = "trusted"
    ORDINARY = "ordinary"
    VOLUNTARY = "voluntary"  # the operator's own finding
    AUTHORITY = "authority"  # a court or authority order (DSA Art. 9)


def rfc3339(moment: datetime) -> str:
    """UTC, seconds precision with microseconds when present, `Z` suffix."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime in the abuse log")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def entry(event: Event, at: datetime, **fields: object) -> dict[str, object]:
    """One log entry: `event`, `at` and the event's fields (JSON values)."""
    return {"event": event.value, "at": rfc3339(at), **fields}
