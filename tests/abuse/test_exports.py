"""Exports: Lumen notice JSON (redacted per policy) and DSA Transparency Database statements."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from veil.abuse.exports import (
    EEA,
    REDACTED,
    ActionFacts,
    CaseFacts,
    NotExportable,
    NotReportable,
    action_taken,
    dsa_statement,
    lumen_notice,
    territorial_scope,
)

RECEIVED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
URLS = ("https://shop.example/dress-1", "https://shop.example/dress-2")
DMCA_NOTICE: dict[str, Any] = {
    "act": "abuse_dmca",
    "urls": "\n".join(URLS),
    "email": "counsel@bridal.example",
    "name": "Jane Counsel",
    "signature": "Jane Counsel",
    "company": "Bridal Gowns Ltd",
    "agent_name": "Rights Agency GmbH",
    "address1": "1 High Street",
    "city": "Springfield",
    "country": "us",
    "tele": "+1 555 0100 200",
    "original_work": "Spring 2026 catalogue, https://bridal.example/catalogue (ask jane@bridal.example)",
    "justification": "Call me on +1 555 0100 200",
    "agree": True,
}
CASE = CaseFacts(
    case_id="case123",
    category="abuse_dmca",
    source="ordinary",
    channel="form",
    notice=DMCA_NOTICE,
    urls=URLS,
    received_on=RECEIVED,
)
STATEMENT: dict[str, Any] = {
    "restriction": "access to the URL disabled (HTTP 451)",
    "duration": "indefinite",
    "facts": "A complete copyright notice named the URL; the customer did not answer.",
    "followed_notice": True,
    "automated_detection": False,
    "automated_decision": False,
    "ground": "illegal_content",
    "ground_reference": "Directive 2001/29/EC Art. 3",
    "explanation": "The page reproduces the catalogue without licence.",
    "redress": ["internal complaint", "court"],
    "territorial_scope": [],
    "notice_reference": "case123",
}
BLOCK = ActionFacts(
    action_id="act456",
    type="legal_block",
    status="active",
    effective_on=datetime(2026, 3, 5, tzinfo=UTC),
    targets=URLS,
    countries=(),
    statement=STATEMENT,
)


def roles(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["name"]: r["entity_attributes"]
        for r in document["notice"]["entity_notice_roles_attributes"]
    }


def test_lumen_dmca_notice_shape() -> None:
    """Type, title, dates, source, jurisdiction, works with infringing and original URLs."""
    notice = lumen_notice(CASE, [BLOCK], recipient="Veil")["notice"]
    assert notice["type"] == "DMCA"
    assert notice["title"] == "DMCA (Copyright) Complaint to Veil"
    assert notice["date_sent"] == notice["date_received"] == "2026-03-02"
    assert notice["source"] == "Online form"
    assert notice["jurisdiction_list"] == "US"
    assert notice["action_taken"] == "Yes"
    [work] = notice["works_attributes"]
    assert work["infringing_urls_attributes"] == [{"url": u} for u in URLS]
    assert work["copyrighted_urls_attributes"] == [{"url": "https://bridal.example/catalogue"}]
    assert work["kind"] == "Unspecified"


def test_lumen_keeps_company_and_agent_and_drops_contact_details() -> None:
    """Roles: recipient operator, sender the agent, principal the company; no e-mail, phone,
    address, signature or justification anywhere, and contact details in text are masked."""
    document = lumen_notice(CASE, [], recipient="Veil")
    by_role = roles(document)
    assert by_role["recipient"] == {"name": "Veil", "kind": "organization"}
    assert by_role["sender"] == {
        "name": "Rights Agency GmbH",
        "kind": "individual",
        "country_code": "US",
    }
    assert by_role["principal"]["name"] == "Bridal Gowns Ltd"
    text = json.dumps(document)
    for secret in ("counsel@", "jane@", "555", "High Street", "Springfield", "Jane Counsel"):
        assert secret not in text, secret
    assert REDACTED in document["notice"]["works_attributes"][0]["description"]


def test_lumen_private_person_is_redacted() -> None:
    """With no company and no agent, the sender is a private person: the name is withheld."""
    notice = {k: v for k, v in DMCA_NOTICE.items() if k not in {"company", "agent_name"}}
    by_role = roles(lumen_notice(replace(CASE, notice=notice), [], recipient="Veil"))
    assert by_role["sender"]["name"] == REDACTED
    assert "principal" not in by_role


def test_lumen_send_anon_names_nobody_but_the_recipient() -> None:
    """A general report sent anonymously: only the recipient role is exported."""
    notice = {**DMCA_NOTICE, "act": "abuse_general", "owner_notification": "send-anon"}
    case = replace(CASE, category="abuse_general", notice=notice)
    document = lumen_notice(case, [], recipient="Veil")
    assert list(roles(document)) == ["recipient"]
    assert document["notice"]["type"] == "Other"
    assert "jurisdiction_list" not in document["notice"]


@pytest.mark.parametrize("category", ["abuse_children", "abuse_threat", "abuse_ncsei"])
def test_lumen_never_exports_protected_categories(category: str) -> None:
    """Threats, CSAM and NCSEI are never published."""
    with pytest.raises(NotExportable):
        lumen_notice(replace(CASE, category=category), [], recipient="Veil")


def test_lumen_trademark_and_court_order() -> None:
    """Trademark notices carry the mark and its number; authority orders are CourtOrder with
    the issuing country as jurisdiction."""
    mark = {
        **DMCA_NOTICE,
        "act": "abuse_trademark",
        "trademark_symbol": "GOWNY",
        "trademark_number": "123456",
        "trademark_office": "USPTO",
    }
    notice = lumen_notice(replace(CASE, category="abuse_trademark", notice=mark), [], recipient="V")
    assert notice["notice"]["type"] == "Trademark"
    assert notice["notice"]["mark_registration_number"] == "123456"
    assert (
        notice["notice"]["works_attributes"][0]["description"]
        == "GOWNY (registration 123456, USPTO)"
    )
    order = replace(CASE, source="authority", channel="order", order_country="de")
    body = lumen_notice(order, [], recipient="V")["notice"]
    assert (body["type"], body["jurisdiction_list"], body["source"]) == ("CourtOrder", "DE", "Mail")


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        pytest.param([], "No", id="none"),
        pytest.param([BLOCK], "Yes", id="all-urls"),
        pytest.param([replace(BLOCK, targets=URLS[:1])], "Partial", id="some-urls"),
        pytest.param([replace(BLOCK, status="pending")], "No", id="pending-only"),
        pytest.param([replace(BLOCK, status="cancelled")], "No", id="cancelled"),
        pytest.param([replace(BLOCK, status="removed")], "Yes", id="lifted-later"),
        pytest.param([replace(BLOCK, type="account_suspend", targets=())], "Yes", id="suspend"),
    ],
)
def test_lumen_action_taken(actions: list[ActionFacts], expected: str) -> None:
    """Yes / Partial / No by the reported URLs an action took effect on."""
    assert action_taken(URLS, actions) == expected


def test_dsa_statement_of_a_worldwide_legal_block() -> None:
    """A worldwide 451 on a copyright notice, mapped field by field."""
    sor = dsa_statement(BLOCK, CASE)
    assert sor["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    assert sor["end_date_visibility_restriction"] is None
    assert sor["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert sor["illegal_content_legal_ground"] == "Directive 2001/29/EC Art. 3"
    assert sor["illegal_content_explanation"].startswith("The page reproduces")
    assert sor["category"] == "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"
    assert sor["category_specification"] == ["KEYWORD_COPYRIGHT_INFRINGEMENT"]
    assert sor["territorial_scope"] == list(EEA) and len(EEA) == 30
    assert (sor["content_date"], sor["application_date"]) == ("2026-03-02", "2026-03-05")
    assert sor["source_type"] == "SOURCE_ARTICLE_16"
    assert (sor["automated_detection"], sor["automated_decision"]) == (
        "No",
        "AUTOMATED_DECISION_NOT_AUTOMATED",
    )
    assert sor["puid"] == "act456"
    assert sor["content_type"] == ["CONTENT_TYPE_OTHER"] and sor["content_type_other"]
    assert "counsel@" not in json.dumps(sor)


@pytest.mark.parametrize(
    ("countries", "scope"),
    [
        pytest.param((), list(EEA), id="worldwide"),
        pytest.param(("de", "FR"), ["DE", "FR"], id="eu-countries"),
        pytest.param(("DE", "US"), ["DE"], id="eu-and-non-eu"),
        pytest.param(("NO",), ["NO"], id="eea"),
        pytest.param(("US",), [], id="non-eu-only"),
    ],
)
def test_territorial_scope(countries: tuple[str, ...], scope: list[str]) -> None:
    """Only EU/EEA countries; worldwide is the whole EU/EEA."""
    assert territorial_scope(countries) == scope


def test_dsa_statement_not_reportable_outside_the_eea() -> None:
    """An order from outside the EU/EEA, scoped there, owes no DSA statement."""
    with pytest.raises(NotReportable):
        dsa_statement(replace(BLOCK, countries=("US",)), CASE)


@pytest.mark.parametrize(
    ("action_type", "key", "value"),
    [
        ("cache_purge", "decision_visibility", ["DECISION_VISIBILITY_CONTENT_REMOVED"]),
        ("phishing_interstitial", "decision_visibility", ["DECISION_VISIBILITY_OTHER"]),
        ("misleading_interstitial", "decision_visibility", ["DECISION_VISIBILITY_OTHER"]),
        ("account_suspend", "decision_provision", "DECISION_PROVISION_TOTAL_SUSPENSION"),
        ("account_suspend", "decision_account", "DECISION_ACCOUNT_SUSPENDED"),
    ],
)
def test_dsa_decision_by_action_type(action_type: str, key: str, value: object) -> None:
    """Each action type maps to its restriction field."""
    sor = dsa_statement(replace(BLOCK, type=action_type), CASE)
    assert sor[key] == value
    if value == ["DECISION_VISIBILITY_OTHER"]:
        assert sor["decision_visibility_other"]


@pytest.mark.parametrize(
    ("source", "followed", "expected"),
    [
        ("ordinary", True, "SOURCE_ARTICLE_16"),
        ("trusted", True, "SOURCE_TRUSTED_FLAGGER"),
        ("authority", True, "SOURCE_TYPE_OTHER_NOTIFICATION"),
        ("voluntary", True, "SOURCE_VOLUNTARY"),
        ("ordinary", False, "SOURCE_VOLUNTARY"),
        ("authority", False, "SOURCE_TYPE_OTHER_NOTIFICATION"),
    ],
)
def test_dsa_source_type(source: str, followed: bool, expected: str) -> None:
    """Trusted flaggers, Art. 16 notices, orders and own initiative are told apart."""
    action = replace(BLOCK, statement={**STATEMENT, "followed_notice": followed})
    assert dsa_statement(action, replace(CASE, source=source))["source_type"] == expected


@pytest.mark.parametrize(
    ("category", "ground", "expected", "keywords"),
    [
        (
            "abuse_trademark",
            "illegal_content",
            "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
            ["KEYWORD_TRADEMARK_INFRINGEMENT"],
        ),
        (
            "abuse_phishing",
            "illegal_content",
            "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            ["KEYWORD_PHISHING"],
        ),
        (
            "abuse_children",
            "illegal_content",
            "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
            ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"],
        ),
        ("abuse_general", "incompatible_with_terms", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", None),
        ("abuse_general", "illegal_content", "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", None),
    ],
)
def test_dsa_category(
    category: str, ground: str, expected: str, keywords: list[str] | None
) -> None:
    """Our categories map to the database's categories and v2 keywords."""
    action = replace(BLOCK, statement={**STATEMENT, "ground": ground})
    sor = dsa_statement(action, replace(CASE, category=category))
    assert sor["category"] == expected
    assert sor.get("category_specification") == keywords


def test_dsa_contractual_ground_automation_end_date_and_limits() -> None:
    """Terms-of-service ground fields, automated flags, the end date of a lifted action, a
    reference URL, and free text cut to the database's limits."""
    statement = {
        **STATEMENT,
        "ground": "incompatible_with_terms",
        "ground_reference": "https://veil.example/terms#3",
        "automated_detection": True,
        "automated_decision": True,
        "facts": "x" * 6000,
    }
    lifted = replace(
        BLOCK, statement=statement, status="removed", ended_on=datetime(2026, 4, 1, tzinfo=UTC)
    )
    sor = dsa_statement(lifted, CASE)
    assert sor["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert sor["incompatible_content_ground"] == "https://veil.example/terms#3"
    assert sor["decision_ground_reference_url"] == "https://veil.example/terms#3"
    assert "illegal_content_legal_ground" not in sor
    assert (sor["automated_detection"], sor["automated_decision"]) == (
        "Yes",
        "AUTOMATED_DECISION_FULLY",
    )
    assert sor["end_date_visibility_restriction"] == "2026-04-01"
    assert len(sor["decision_facts"]) == 5000


def test_dsa_unknown_action_type_is_refused() -> None:
    """An action type the mapping does not know is an error, not a guess."""
    with pytest.raises(NotExportable):
        dsa_statement(replace(BLOCK, type="network_block"), CASE)
