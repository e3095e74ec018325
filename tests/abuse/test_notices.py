"""Notice validation: §512(c)(3), DSA Art. 16(2), per-category rules, anonymity."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil.abuse.notices import (
    Category,
    Notice,
    Notification,
    Status,
    reporter_identity_withheld,
    validate,
    validate_dmca,
    validate_dsa,
)

DMCA = Notice(
    act=Category.DMCA,
    urls="https://shop.example/dress-1\nhttps://shop.example/dress-2",
    email="legal@bridal.example",
    email2="legal@bridal.example",
    name="Ada Lovelace",
    signature="Ada Lovelace",
    original_work="Spring 2018 catalogue, gown 42",
    agent_name="Bridal Co",
    address1="1 Main St",
    city="Springfield",
    country="US",
    statement_good_faith=True,
    statement_accuracy_perjury=True,
)


def test_complete_dmca_passes() -> None:
    """A notice with all six §512(c)(3)(A) elements is complete with nothing missing."""
    result = validate(DMCA)
    assert result.status is Status.COMPLETE
    assert result.missing == []


def test_cloudflare_agree_covers_both_statements() -> None:
    """Cloudflare's single `agree` flag stands for the (v) and (vi) statements."""
    notice = replace(DMCA, statement_good_faith=False, statement_accuracy_perjury=False, agree=True)
    assert validate_dmca(notice).status is Status.COMPLETE


@pytest.mark.parametrize(
    ("change", "element", "status"),
    [
        pytest.param(
            {"signature": " "}, "signature", Status.INCOMPLETE_AWAITING_REPORTER, id="i-signature"
        ),
        pytest.param({"original_work": ""}, "work", Status.INVALID, id="ii-work"),
        pytest.param({"urls": ""}, "material", Status.INVALID, id="iii-material"),
        pytest.param(
            {"urls": "ftp://x.example/"}, "material", Status.INVALID, id="iii-no-usable-url"
        ),
        pytest.param({"name": ""}, "contact", Status.INVALID, id="iv-contact-name"),
        pytest.param(
            {"statement_good_faith": False},
            "good_faith",
            Status.INCOMPLETE_AWAITING_REPORTER,
            id="v-good-faith",
        ),
        pytest.param(
            {"statement_accuracy_perjury": False},
            "accuracy_and_authority",
            Status.INCOMPLETE_AWAITING_REPORTER,
            id="vi-accuracy",
        ),
    ],
)
def test_each_missing_dmca_element_is_named(
    change: dict[str, object], element: str, status: Status
) -> None:
    """Removing one element names exactly that element; lacking (ii)-(iv) is invalid."""
    result = validate_dmca(replace(DMCA, **change))  # type: ignore[arg-type]
    assert result.missing == [element]
    assert result.status is status
    assert result.problems[0].repair


def test_signature_repair_message_is_plain() -> None:
    """The repair for (i) tells the reporter what to type and where."""
    result = validate_dmca(replace(DMCA, signature=""))
    assert result.problems[0].repair == (
        "Add your physical or electronic signature: type your full name in Signature."
    )


def test_b_ii_incomplete_lists_in_statutory_order() -> None:
    """Has (ii)-(iv), lacks (i), (v), (vi): kept open, the three named in statutory order."""
    notice = replace(
        DMCA, signature="", statement_good_faith=False, statement_accuracy_perjury=False
    )
    result = validate_dmca(notice)
    assert result.status is Status.INCOMPLETE_AWAITING_REPORTER
    assert result.missing == ["signature", "good_faith", "accuracy_and_authority"]


def test_contact_by_phone_alone_is_enough_for_iv() -> None:
    """(iv) is satisfied by a name and any way to reach the reporter."""
    notice = replace(DMCA, email="", email2="", address1="", tele="+1 555 0100")
    assert validate_dmca(notice).missing == ["email"]  # Cloudflare's API still wants an e-mail


@pytest.mark.parametrize(
    ("change", "element"),
    [
        pytest.param({"email": "not-an-address", "email2": ""}, "email", id="malformed"),
        pytest.param({"email": "a@b", "email2": ""}, "email", id="no-dot-domain"),
        pytest.param({"email2": "other@bridal.example"}, "email2", id="mismatch"),
        pytest.param(
            {"owner_notification": Notification.SEND_ANON}, "anonymity", id="dmca-not-anonymous"
        ),
        pytest.param({"urls": "https://shop.example/a\nnot a url"}, "urls", id="one-bad-url"),
    ],
)
def test_dmca_repairable_defects(change: dict[str, object], element: str) -> None:
    """E-mail, confirmation, anonymity and stray bad URLs are named and keep the case open."""
    result = validate_dmca(replace(DMCA, **change))  # type: ignore[arg-type]
    assert result.missing == [element]
    assert result.status is Status.INCOMPLETE_AWAITING_REPORTER


def base(act: Category, **change: object) -> Notice:
    """A minimal valid notice of the category, with changes."""
    fields: dict[str, object] = {
        "act": act,
        "urls": "https://bad.example/x",
        "email": "r@reporter.example",
        "name": "R",
        "justification": "It is a phishing page for a bank.",
        "trademark_number": "1234567",
        "trademark_office": "USPTO",
    }
    fields.update(change)
    return Notice(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("act", [c for c in Category if c is not Category.DMCA], ids=str)
def test_each_category_minimal_notice_passes(act: Category) -> None:
    """A notice with the category's required fields is complete."""
    assert validate(base(act)).status is Status.COMPLETE


@pytest.mark.parametrize(
    ("act", "change", "missing"),
    [
        pytest.param(
            Category.TRADEMARK, {"trademark_number": ""}, ["trademark_number"], id="tm-number"
        ),
        pytest.param(
            Category.TRADEMARK, {"trademark_office": ""}, ["trademark_office"], id="tm-office"
        ),
        pytest.param(
            Category.TRADEMARK,
            {"owner_notification": Notification.SEND_ANON},
            ["anonymity"],
            id="tm-not-anonymous",
        ),
        pytest.param(
            Category.TRADEMARK,
            {"host_notification": Notification.SEND_ANON},
            ["anonymity"],
            id="tm-host-anon",
        ),
        pytest.param(
            Category.PHISHING, {"justification": ""}, ["justification"], id="phishing-justification"
        ),
        pytest.param(Category.PHISHING, {"urls": ""}, ["urls"], id="phishing-urls"),
        pytest.param(
            Category.THREAT, {"justification": ""}, ["justification"], id="threat-justification"
        ),
        pytest.param(
            Category.GENERAL, {"justification": ""}, ["explanation"], id="general-explanation"
        ),
        pytest.param(
            Category.GENERAL,
            {"justification": "", "comments": "spam"},
            [],
            id="general-comments-enough",
        ),
        pytest.param(Category.GENERAL, {"email": ""}, ["email"], id="general-email"),
        pytest.param(
            Category.CHILDREN, {"email": "", "name": ""}, [], id="csam-no-identity-needed"
        ),
        pytest.param(
            Category.CHILDREN, {"email": "bad"}, ["email"], id="csam-email-if-given-wellformed"
        ),
        pytest.param(Category.NCSEI, {"urls": "javascript:x"}, ["urls"], id="ncsei-bad-url"),
    ],
)
def test_category_rules(act: Category, change: dict[str, object], missing: list[str]) -> None:
    """Each category names exactly what it lacks."""
    result = validate(base(act, **change))
    assert result.missing == missing
    assert result.status is (Status.INVALID if missing else Status.COMPLETE)


@pytest.mark.parametrize(
    ("act", "change", "missing"),
    [
        pytest.param(Category.GENERAL, {}, [], id="complete"),
        pytest.param(Category.GENERAL, {"justification": ""}, ["explanation"], id="a-explanation"),
        pytest.param(Category.GENERAL, {"urls": ""}, ["location"], id="b-location"),
        pytest.param(Category.GENERAL, {"name": ""}, ["name"], id="c-name"),
        pytest.param(Category.GENERAL, {"email": ""}, ["email"], id="c-email"),
        pytest.param(Category.CHILDREN, {"name": "", "email": ""}, [], id="c-csam-exempt"),
        pytest.param(
            Category.GENERAL, {"statement_accuracy_perjury": False}, ["bona_fide"], id="d-bona-fide"
        ),
    ],
)
def test_dsa_article_16_2(act: Category, change: dict[str, object], missing: list[str]) -> None:
    """DSA Art. 16(2)(a)-(d) one by one; name and e-mail not required for CSAM."""
    notice = base(act, **({"statement_accuracy_perjury": True} | change))
    assert validate_dsa(notice).missing == missing


@pytest.mark.parametrize(
    ("act", "owner", "withheld"),
    [
        pytest.param(Category.THREAT, Notification.SEND, True, id="threat-always"),
        pytest.param(Category.CHILDREN, Notification.SEND, True, id="csam-always"),
        pytest.param(Category.NCSEI, Notification.SEND, True, id="ncsei-always"),
        pytest.param(Category.GENERAL, Notification.SEND_ANON, True, id="general-chose-anon"),
        pytest.param(Category.PHISHING, Notification.SEND_ANON, True, id="phishing-chose-anon"),
        pytest.param(Category.GENERAL, Notification.SEND, False, id="general-send"),
        pytest.param(Category.DMCA, Notification.SEND_ANON, False, id="dmca-never"),
        pytest.param(Category.TRADEMARK, Notification.SEND_ANON, False, id="trademark-never"),
    ],
)
def test_reporter_identity_withheld(act: Category, owner: Notification, withheld: bool) -> None:
    """Threats, CSAM and NCSEI always withhold; send-anon only where the category allows."""
    assert reporter_identity_withheld(base(act, owner_notification=owner)) is withheld


def test_from_fields_reads_api_body() -> None:
    """An API/form body with Cloudflare's names becomes a Notice; unknown keys are ignored."""
    notice = Notice.from_fields(
        {
            "act": "abuse_phishing",
            "urls": "https://p.example/",
            "email": "a@b.example",
            "agree": 1,
            "owner_notification": "send-anon",
            "account_id": "x",
            "statement_good_faith": "on",
        }
    )
    assert notice.act is Category.PHISHING
    assert notice.agree and notice.statement_good_faith
    assert notice.owner_notification is Notification.SEND_ANON


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="no-act"),
        pytest.param({"act": "abuse_other"}, id="unknown-act"),
        pytest.param({"act": "abuse_dmca", "host_notification": "loud"}, id="unknown-notification"),
    ],
)
def test_from_fields_refuses(body: dict[str, object]) -> None:
    """A body without a known `act` or with an unknown notification value is refused."""
    with pytest.raises(ValueError):
        Notice.from_fields(body)


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "urls",
                "email",
                "email2",
                "name",
                "signature",
                "original_work",
                "justification",
                "comments",
                "trademark_number",
                "trademark_office",
            ]
        ),
        st.text(max_size=40),
    ),
    st.sampled_from(list(Category)),
)
def test_validate_total(values: dict[str, str], act: Category) -> None:
    """validate never raises and is complete exactly when nothing is missing."""
    result = validate(Notice(act=act, **values))  # type: ignore[arg-type]
    assert (result.status is Status.COMPLETE) == (result.missing == [])
