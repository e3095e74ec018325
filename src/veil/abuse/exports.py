"""Exports of the desk's records: Lumen-style notice JSON and DSA statements of reasons.

Theory of operation. Both are pure maps from what the desk stores about a case (`CaseFacts`)
and its actions (`ActionFacts`) to another body's JSON shape; the caller reads the rows.

Lumen (berkmancenter/lumendatabase `doc/api_documentation.mkd`, "Create notice"): a notice has
`title`, `type` (DMCA, Trademark, CourtOrder, Other, ...), `date_sent`, `date_received`,
`source`, `jurisdiction_list`, `action_taken` (Yes/No/Partial), `works_attributes[]`
(`description`, `kind`, `copyrighted_urls_attributes[{url}]`, `infringing_urls_attributes[{url}]`)
and `entity_notice_roles_attributes[]` (role `name` + `entity_attributes`). Redaction policy:
  - kept: the company (role `principal`) and the agent's name (role `sender`), the country;
  - dropped: e-mail, phone, postal address, signature, the free-text justification/comments;
  - a private person's own name (no company, no agent) is personal data: the sender is shown
    as "[redacted]"; where the reporter's identity is withheld (send-anon), no names at all;
  - e-mail addresses and phone numbers inside the work's description are masked;
  - threats, CSAM and NCSEI reports are never exported (publishing them harms the victims).
  `date_sent` is not known to the desk (a form or API call is sent when received): it is the
  received date. `kind` of a work is "Unspecified": the notice does not say.

DSA Transparency Database (digital-services-act/transparency-database, api-documentation.md and
`app/Models/Statement.php`), from our DSA Art. 17(3) statement (`veil.abuse.actions`):
  - legal_block -> decision_visibility DECISION_VISIBILITY_CONTENT_DISABLED;
    cache_purge -> DECISION_VISIBILITY_CONTENT_REMOVED (the cached copy; the origin's is gone);
    phishing/misleading_interstitial -> DECISION_VISIBILITY_OTHER (a click-through warning);
    account_suspend -> decision_provision DECISION_PROVISION_TOTAL_SUSPENSION and
    decision_account DECISION_ACCOUNT_SUSPENDED;
  - ground illegal_content -> DECISION_GROUND_ILLEGAL_CONTENT with illegal_content_legal_ground
    (our ground_reference) and illegal_content_explanation; incompatible_with_terms ->
    DECISION_GROUND_INCOMPATIBLE_CONTENT with incompatible_content_ground / _explanation;
  - category and category_specification (API v2 keywords) from the notice category (CATEGORY);
  - territorial_scope: the action's countries within the EU/EEA, or all of the EU/EEA when it is
    worldwide; an action that touches no EU/EEA country is not reportable (`NotReportable`);
  - source_type: trusted -> SOURCE_TRUSTED_FLAGGER, ordinary -> SOURCE_ARTICLE_16, authority
    orders -> SOURCE_TYPE_OTHER_NOTIFICATION (an order is not an Art. 16 notice, so its
    statement says followed_notice false), own initiative -> SOURCE_VOLUNTARY;
  - automated_detection Yes/No; automated_decision AUTOMATED_DECISION_FULLY / _NOT_AUTOMATED;
  - content_type CONTENT_TYPE_OTHER ("website content served through the CDN");
  - content_date: the notice's received date (when the content is first known to have been
    online); application_date: the effective date; end dates when the action was lifted;
  - puid: the action id. No personal data is put in (Art. 24(5)); the free texts are the
    operator's and are cut to the database's limits.
The database is fed by online platforms (Art. 24(5)); a CDN is not one, so this is an export
in the database's format for the operator's records and voluntary publication.
Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from veil.abuse.notices import ALWAYS_ANONYMOUS, Category, Notice, reporter_identity_withheld

REDACTED = "[redacted]"


class NotExportable(ValueError):
    """The record cannot be exported in the asked form (the message says why)."""


class NotReportable(NotExportable):
    """No DSA statement is due for this action (e.g. it applies outside the EU/EEA)."""


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the desk stores about a case, as the exports need it."""

    case_id: str
    category: str
    source: str  # trusted | ordinary | voluntary | authority
    channel: str  # form | api | email | xarf | order
    notice: Mapping[str, Any]  # the stored notice fields (Cloudflare's names)
    urls: tuple[str, ...]
    received_on: datetime
    order_country: str = ""  # the issuing country of an authority order


@dataclass(frozen=True, slots=True)
class ActionFacts:
    """One stored action with its statement of reasons (`statement_json` shape)."""

    action_id: str
    type: str
    status: str
    effective_on: datetime
    targets: tuple[str, ...]
    countries: tuple[str, ...]
    statement: Mapping[str, Any]
    ended_on: datetime | None = None  # when it was lifted or cancelled


# --- Lumen ------------------------------------------------------------------------------------

_LUMEN_TYPE = {
    Category.DMCA.value: ("DMCA", "DMCA (Copyright) Complaint"),
    Category.TRADEMARK.value: ("Trademark", "Trademark Complaint"),
}
_SOURCE = {"form": "Online form", "api": "API", "email": "Email", "xarf": "XARF", "order": "Mail"}
_TOOK_EFFECT = frozenset({"active", "removed"})
_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_EMAIL = re.compile(r"[^\s@<>()]+@[^\s@<>()]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?\d[\d ().-]{6,}\d")
_ALPHA2 = re.compile(r"[A-Za-z]{2}")


def _mask(text: str) -> str:
    """Mask e-mail addresses and phone numbers in free text."""
    return _PHONE.sub(REDACTED, _EMAIL.sub(REDACTED, text)).strip()


def _field(notice: Mapping[str, Any], name: str) -> str:
    value = notice.get(name)
    return value.strip() if isinstance(value, str) else ""


def _country(notice: Mapping[str, Any]) -> dict[str, str]:
    code = _field(notice, "country")
    return {"country_code": code.upper()} if _ALPHA2.fullmatch(code) else {}


def _entity(role: str, name: str, kind: str, extra: Mapping[str, str]) -> dict[str, Any]:
    return {"name": role, "entity_attributes": {"name": name, "kind": kind, **extra}}


def lumen_roles(case: CaseFacts, recipient: str) -> list[dict[str, Any]]:
    """recipient (the operator), sender and principal, redacted as the module doc says."""
    roles = [_entity("recipient", recipient, "organization", {})]
    notice = Notice.from_fields({**case.notice, "act": case.category})
    if reporter_identity_withheld(notice):
        return roles
    company, agent = _field(case.notice, "company"), _field(case.notice, "agent_name")
    where = _country(case.notice)
    if agent:
        roles.append(_entity("sender", agent, "individual", where))
    elif company:
        roles.append(_entity("sender", company, "organization", where))
    else:
        roles.append(_entity("sender", REDACTED, "individual", where))
    if company:
        roles.append(_entity("principal", company, "organization", where))
    return roles


def _work(case: CaseFacts) -> dict[str, Any]:
    notice = case.notice
    if case.category == Category.TRADEMARK.value:
        parts = [_field(notice, "trademark_symbol")]
        registration = ", ".join(
            p for p in (_field(notice, "trademark_number"), _field(notice, "trademark_office")) if p
        )
        description = f"{parts[0]} (registration {registration})" if registration else parts[0]
    else:
        description = _field(notice, "original_work") or _field(notice, "title")
    originals = list(dict.fromkeys(_URL.findall(_field(notice, "original_work"))))
    return {
        "description": _mask(description),
        "kind": "Unspecified",
        "copyrighted_urls_attributes": [{"url": url} for url in originals],
        "infringing_urls_attributes": [{"url": url} for url in case.urls],
    }


def action_taken(urls: Sequence[str], actions: Sequence[ActionFacts]) -> str:
    """Lumen's Yes / Partial / No: how many reported URLs an action took effect on."""
    done = [a for a in actions if a.status in _TOOK_EFFECT]
    if any(a.type == "account_suspend" for a in done):
        return "Yes"
    covered = {url for a in done for url in a.targets}
    hit = sum(1 for url in urls if url in covered)
    if hit and hit == len(urls):
        return "Yes"
    return "Partial" if hit else "No"


def lumen_notice(
    case: CaseFacts, actions: Sequence[ActionFacts], *, recipient: str
) -> dict[str, Any]:
    """The case as a Lumen notice (`{"notice": {...}}`), redacted per the module doc."""
    if case.category in {c.value for c in ALWAYS_ANONYMOUS}:
        raise NotExportable(f"{case.category} reports are never exported")
    if case.source == "authority":
        kind, title = "CourtOrder", "Court Order"
    else:
        kind, title = _LUMEN_TYPE.get(case.category, ("Other", "Complaint"))
    date = case.received_on.date().isoformat()
    jurisdiction = case.order_country.upper() or ("US" if kind == "DMCA" else "")
    notice: dict[str, Any] = {
        "title": f"{title} to {recipient}",
        "type": kind,
        "subject": f"Report {case.case_id} about {len(case.urls)} URL(s)",
        "date_sent": date,
        "date_received": date,
        "source": _SOURCE.get(case.channel, "Other"),
        "action_taken": action_taken(case.urls, actions),
        "works_attributes": [_work(case)],
        "entity_notice_roles_attributes": lumen_roles(case, recipient),
    }
    if jurisdiction:
        notice["jurisdiction_list"] = jurisdiction
    if case.category == Category.TRADEMARK.value and _field(case.notice, "trademark_number"):
        notice["mark_registration_number"] = _field(case.notice, "trademark_number")
    return {"notice": notice}


# --- DSA Transparency Database ----------------------------------------------------------------

# fmt: off
EU = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
)
# fmt: on
EEA = tuple(sorted({*EU, "IS", "LI", "NO"}))

# Our category -> (statement category, keywords) (API v2 names).
CATEGORY: dict[str, tuple[str, tuple[str, ...]]] = {
    Category.DMCA.value: (
        "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        ("KEYWORD_COPYRIGHT_INFRINGEMENT",),
    ),
    Category.TRADEMARK.value: (
        "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        ("KEYWORD_TRADEMARK_INFRINGEMENT",),
    ),
    Category.PHISHING.value: ("STATEMENT_CATEGORY_SCAMS_AND_FRAUD", ("KEYWORD_PHISHING",)),
    Category.CHILDREN.value: (
        "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        ("KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",),
    ),
    Category.NCSEI.value: (
        "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
        ("KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",),
    ),
    Category.THREAT.value: ("STATEMENT_CATEGORY_VIOLENCE", ()),
}
_VISIBILITY = {
    "legal_block": "DECISION_VISIBILITY_CONTENT_DISABLED",
    "cache_purge": "DECISION_VISIBILITY_CONTENT_REMOVED",
    "phishing_interstitial": "DECISION_VISIBILITY_OTHER",
    "misleading_interstitial": "DECISION_VISIBILITY_OTHER",
}
_SOURCE_TYPE = {
    "trusted": "SOURCE_TRUSTED_FLAGGER",
    "ordinary": "SOURCE_ARTICLE_16",
    "authority": "SOURCE_TYPE_OTHER_NOTIFICATION",
    "voluntary": "SOURCE_VOLUNTARY",
}
# The database's length limits (api-documentation.md).
_LIMITS = {"decision_facts": 5000, "ground": 500, "explanation": 2000, "other": 500}


def _cut(text: object, limit: int) -> str:
    value = str(text or "").strip()
    return value if len(value) <= limit else value[: limit - 1] + "…"


def territorial_scope(countries: Sequence[str]) -> list[str]:
    """The EU/EEA countries the action applies in (all of them when it is worldwide)."""
    if not countries:
        return list(EEA)
    return sorted({c.upper() for c in countries} & set(EEA))


def _category(case: CaseFacts, ground: str) -> dict[str, Any]:
    if case.category in CATEGORY:
        name, keywords = CATEGORY[case.category]
    elif ground == "incompatible_with_terms":
        name, keywords = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", ()
    else:
        name, keywords = "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", ()
    out: dict[str, Any] = {"category": name}
    if keywords:
        out["category_specification"] = list(keywords)
    return out


def _decision(action: ActionFacts) -> dict[str, Any]:
    end = None if action.ended_on is None else action.ended_on.date().isoformat()
    if action.type == "account_suspend":
        return {
            "decision_provision": "DECISION_PROVISION_TOTAL_SUSPENSION",
            "decision_account": "DECISION_ACCOUNT_SUSPENDED",
            "end_date_service_restriction": end,
            "end_date_account_restriction": end,
        }
    if action.type not in _VISIBILITY:
        raise NotExportable(f"unknown action type {action.type!r}")
    out: dict[str, Any] = {
        "decision_visibility": [_VISIBILITY[action.type]],
        "end_date_visibility_restriction": end,
    }
    if _VISIBILITY[action.type] == "DECISION_VISIBILITY_OTHER":
        out["decision_visibility_other"] = "A warning page before the content; visitors may go on"
    return out


def _ground(statement: Mapping[str, Any]) -> dict[str, Any]:
    reference = _cut(statement.get("ground_reference"), _LIMITS["ground"])
    explanation = _cut(statement.get("explanation"), _LIMITS["explanation"])
    out: dict[str, Any]
    if statement.get("ground") == "incompatible_with_terms":
        out = {
            "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
            "incompatible_content_ground": reference,
            "incompatible_content_explanation": explanation,
        }
    else:
        out = {
            "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
            "illegal_content_legal_ground": reference,
            "illegal_content_explanation": explanation,
        }
    if reference.lower().startswith(("https://", "http://")):
        out["decision_ground_reference_url"] = reference
    return out


def _source_type(case: CaseFacts, statement: Mapping[str, Any]) -> str:
    """An order is an order whatever the statement says; else no notice means own initiative."""
    if case.source == "authority":
        return _SOURCE_TYPE["authority"]
    if statement.get("followed_notice") is False:
        return "SOURCE_VOLUNTARY"
    return _SOURCE_TYPE.get(case.source, "SOURCE_ARTICLE_16")


def _yes(value: object) -> str:
    return "Yes" if value is True else "No"


def dsa_statement(action: ActionFacts, case: CaseFacts) -> dict[str, Any]:
    """One statement of reasons in the Transparency Database's shape (module doc)."""
    statement = action.statement
    scope = territorial_scope(action.countries)
    if not scope:
        raise NotReportable("the action applies in no EU/EEA country")
    return {
        **_decision(action),
        **_ground(statement),
        "content_type": ["CONTENT_TYPE_OTHER"],
        "content_type_other": "Website content served through the CDN",
        **_category(case, str(statement.get("ground", ""))),
        "territorial_scope": scope,
        "content_date": case.received_on.date().isoformat(),
        "application_date": action.effective_on.date().isoformat(),
        "decision_facts": _cut(statement.get("facts"), _LIMITS["decision_facts"]),
        "source_type": _source_type(case, statement),
        "automated_detection": _yes(statement.get("automated_detection")),
        "automated_decision": "AUTOMATED_DECISION_FULLY"
        if statement.get("automated_decision") is True
        else "AUTOMATED_DECISION_NOT_AUTOMATED",
        "puid": action.action_id,
    }
