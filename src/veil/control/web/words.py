"""Plain words for the desk's states, actions and statuses, as the public pages say them."""

from __future__ import annotations

from veil.abuse.actions import ActionType, Ground, Status
from veil.abuse.cases import CaseState

CASE_STATES: dict[str, str] = {
    CaseState.RECEIVED.value: "Received: we are checking your report.",
    CaseState.INCOMPLETE_AWAITING_REPORTER.value: (
        "Incomplete, awaiting you: the report lacks some elements the law requires. We keep "
        "it open until you complete it."
    ),
    CaseState.NOT_ON_NETWORK.value: "Not on our network: we do not serve these addresses.",
    CaseState.VALID.value: "Accepted: the report is complete and waits in our queue.",
    CaseState.FORWARDED.value: (
        "Forwarded: the report has been sent on to the site's owner and, where we know it, to "
        "its hosting provider."
    ),
    CaseState.AWAITING_CUSTOMER.value: "Waiting for the site's owner to answer.",
    CaseState.CUSTOMER_REPLIED.value: "The site's owner has answered; we are reviewing it.",
    CaseState.ACTION_PENDING.value: (
        "Action decided: it takes effect on its date unless the site's owner answers first."
    ),
    CaseState.ACTION_ACTIVE.value: "Action taken: the material is restricted (see below).",
    CaseState.IN_REVIEW.value: "The site's owner asked for a review of the action.",
    CaseState.COUNTER_NOTICED.value: (
        "Counter-notice received (17 U.S.C. §512(g)): the material will be restored after 10 "
        "to 14 business days unless the complainant tells us a lawsuit has been filed."
    ),
    CaseState.RESTORED.value: "Restored after a counter-notice.",
    CaseState.ESCALATED.value: "Escalated: the site's owner did not answer in time.",
    CaseState.CLOSED.value: "Closed.",
}

ACTION_TYPES: dict[str, str] = {
    ActionType.LEGAL_BLOCK.value: "Blocked (HTTP 451, unavailable for legal reasons)",
    ActionType.PHISHING_INTERSTITIAL.value: "Warning page before the site (phishing)",
    ActionType.MISLEADING_INTERSTITIAL.value: "Warning page before the site (misleading)",
    ActionType.CACHE_PURGE.value: "Removed from our caches",
    ActionType.ACCOUNT_SUSPEND.value: "Service suspended for the whole account",
}

ACTION_STATUSES: dict[str, str] = {
    Status.PENDING.value: "Pending: takes effect on its date",
    Status.ACTIVE.value: "In force",
    Status.IN_REVIEW.value: "Under review at the site owner's request (not in force)",
    Status.CANCELLED.value: "Cancelled",
    Status.REMOVED.value: "Lifted",
}

GROUNDS: dict[str, str] = {
    Ground.ILLEGAL_CONTENT.value: "The content is illegal",
    Ground.INCOMPATIBLE_WITH_TERMS.value: "The content breaks our terms of service",
}


def say(table: dict[str, str], value: str) -> str:
    """The plain words for `value`, or the value itself when the table has none."""
    return table.get(value, value.replace("_", " "))
