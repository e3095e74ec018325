"""Enforcement actions: status table, effectiveness, initial status, geo scope, reasons."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from veil.abuse.actions import (
    STATUS_TRANSITIONS,
    Action,
    ActionEvent,
    ActionType,
    Ground,
    StatementOfReasons,
    Status,
    advance,
    applies_to,
    effective,
    enforced,
    initial_status,
    missing_reasons,
)
from veil.abuse.cases import IllegalTransition
from veil.abuse.notices import Category

LEGAL = [
    ("pending", "take_effect", "active"),
    ("pending", "request_review", "in_review"),
    ("pending", "cancel", "cancelled"),
    ("in_review", "uphold", "active"),
    ("in_review", "overturn", "cancelled"),
    ("active", "lift", "removed"),
]

ILLEGAL = [
    ("active", "request_review"),  # review cancels a pending action only (Cloudflare)
    ("active", "cancel"),  # an action in force is lifted, not cancelled
    ("in_review", "take_effect"),  # review must decide first
    ("in_review", "request_review"),
    ("pending", "lift"),
    ("cancelled", "take_effect"),
    ("cancelled", "request_review"),
    ("removed", "take_effect"),
    ("removed", "lift"),
]


@pytest.mark.parametrize(("status", "event", "after"), LEGAL, ids=[f"{s} {e}" for s, e, _ in LEGAL])
def test_legal_status_transition(status: str, event: str, after: str) -> None:
    """Each step in the status table leads to the status it names."""
    assert advance(Status(status), ActionEvent(event)) is Status(after)


def test_status_table_is_exactly_the_listed_steps() -> None:
    """The module's table holds the listed steps and nothing else."""
    assert {(s.value, e.value, t.value) for (s, e), t in STATUS_TRANSITIONS.items()} == set(LEGAL)


@pytest.mark.parametrize(("status", "event"), ILLEGAL, ids=[" ".join(s) for s in ILLEGAL])
def test_illegal_status_transition(status: str, event: str) -> None:
    """A step not in the table raises IllegalTransition."""
    with pytest.raises(IllegalTransition, match=f"{status}.*{event}"):
        advance(Status(status), ActionEvent(event))


INITIAL = [
    (Category.CHILDREN, Status.ACTIVE),
    (Category.PHISHING, Status.ACTIVE),
    (Category.THREAT, Status.ACTIVE),
    (Category.DMCA, Status.PENDING),
    (Category.TRADEMARK, Status.PENDING),
    (Category.GENERAL, Status.PENDING),
    (Category.NCSEI, Status.PENDING),
    (Category.REGISTRAR_WHOIS, Status.PENDING),
]


@pytest.mark.parametrize(("category", "status"), INITIAL, ids=[c.value for c, _ in INITIAL])
def test_initial_status(category: Category, status: Status) -> None:
    """Urgent categories start active; the rest start pending so the customer can answer."""
    assert initial_status(category) is status


T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
URL = "https://shop.example/dress-1"
BLOCK = Action(ActionType.LEGAL_BLOCK, Status.PENDING, T0, targets=(URL,))

EFFECT = [
    ("pending", -timedelta(seconds=1), False),
    ("pending", timedelta(0), True),  # effective on its effective date
    ("pending", timedelta(seconds=1), True),
    ("active", -timedelta(days=1), True),
    ("active", timedelta(days=1), True),
    ("in_review", timedelta(days=1), False),  # review holds the block
    ("cancelled", timedelta(days=1), False),
    ("removed", timedelta(days=1), False),
]


@pytest.mark.parametrize(
    ("status", "offset", "expected"), EFFECT, ids=[f"{s}{o}" for s, o, _ in EFFECT]
)
def test_effective_around_effective_date(status: str, offset: timedelta, expected: bool) -> None:
    """Pending acts from its effective date; active always; review, cancelled, removed never."""
    action = replace(BLOCK, status=Status(status))
    assert effective(action, T0 + offset) is expected


def test_effective_refuses_naive_now() -> None:
    """`now` without a zone is refused."""
    with pytest.raises(ValueError, match="now"):
        effective(BLOCK, datetime(2026, 3, 1))


GEO = Action(
    ActionType.LEGAL_BLOCK, Status.ACTIVE, T0, targets=(URL,), countries=frozenset({"de", "FR"})
)

SCOPE = [
    ("worldwide-any-country", BLOCK, URL, "US", True),
    ("worldwide-unknown-country", BLOCK, URL, None, True),
    ("worldwide-other-url", BLOCK, "https://shop.example/dress-2", "US", False),
    ("url-spelled-differently", BLOCK, "HTTPS://Shop.Example:443/a/../dress-1#x", "US", True),
    ("url-not-a-url", BLOCK, "mailto:x@example.com", "US", False),
    ("geo-listed-upper", GEO, URL, "DE", True),
    ("geo-listed-lower", GEO, URL, "fr", True),
    ("geo-listed-padded", GEO, URL, " de ", True),
    ("geo-unlisted", GEO, URL, "US", False),
    ("geo-unknown-country", GEO, URL, None, False),
    ("geo-listed-other-url", GEO, "https://shop.example/other", "DE", False),
    (
        "suspend-covers-everything",
        Action(ActionType.ACCOUNT_SUSPEND, Status.ACTIVE, T0),
        "https://anything.example/",
        "JP",
        True,
    ),
]


@pytest.mark.parametrize(
    ("action", "url", "country", "expected"),
    [s[1:] for s in SCOPE],
    ids=[s[0] for s in SCOPE],
)
def test_applies_to(action: Action, url: str, country: str | None, expected: bool) -> None:
    """URL in canonical form must be a target; a country list limits it, case-insensitively."""
    assert applies_to(action, url, country) is expected


def test_countries_normalised_upper_case() -> None:
    """Country codes are stored upper-case."""
    assert GEO.countries == frozenset({"DE", "FR"})


@pytest.mark.parametrize(
    "codes", [["DEU"], ["1A"], ["d"], ["UK-"]], ids=["alpha3", "digit", "short", "punct"]
)
def test_bad_country_codes_refused(codes: list[str]) -> None:
    """Only two-letter ISO 3166-1 alpha-2 codes are accepted."""
    with pytest.raises(ValueError, match="alpha-2"):
        Action(
            ActionType.LEGAL_BLOCK, Status.PENDING, T0, targets=(URL,), countries=frozenset(codes)
        )


def test_only_legal_block_can_be_geo_scoped() -> None:
    """An interstitial or purge cannot be limited to countries."""
    with pytest.raises(ValueError, match="cannot be scoped"):
        Action(
            ActionType.PHISHING_INTERSTITIAL,
            Status.ACTIVE,
            T0,
            targets=(URL,),
            countries=frozenset({"DE"}),
        )


def test_targets_required_except_for_suspension() -> None:
    """A block with no URL is refused; a suspension needs none."""
    with pytest.raises(ValueError, match="target"):
        Action(ActionType.CACHE_PURGE, Status.PENDING, T0)
    assert Action(ActionType.ACCOUNT_SUSPEND, Status.PENDING, T0).targets == ()


def test_targets_stored_canonical_and_bad_ones_refused() -> None:
    """Targets are kept in canonical form; a non-URL target is refused."""
    action = Action(ActionType.LEGAL_BLOCK, Status.PENDING, T0, targets=("HTTP://A.Example:80/x",))
    assert action.targets == ("http://a.example/x",)
    with pytest.raises(ValueError, match="URL"):
        Action(ActionType.LEGAL_BLOCK, Status.PENDING, T0, targets=("ftp://a.example/",))


def test_effective_date_must_be_utc() -> None:
    """A naive effective date is refused."""
    with pytest.raises(ValueError, match="effective_date"):
        Action(ActionType.LEGAL_BLOCK, Status.PENDING, datetime(2026, 1, 1), targets=(URL,))


def test_enforced_needs_both_time_and_scope() -> None:
    """The edge enforces an action only when it is effective and in scope."""
    assert enforced(BLOCK, URL, "US", T0)
    assert not enforced(BLOCK, URL, "US", T0 - timedelta(seconds=1))
    assert not enforced(GEO, URL, "US", T0)


REASONS = StatementOfReasons(
    restriction="Access disabled with HTTP 451 (legal_block)",
    duration="indefinite",
    facts="Notice of 2026-02-27 named the URL as a copy of gown 42; the customer did not reply.",
    followed_notice=True,
    automated_detection=False,
    automated_decision=False,
    ground=Ground.ILLEGAL_CONTENT,
    ground_reference="17 U.S.C. §512(b)(2)(E); Copyright Act",
    explanation="The page reproduces the catalogue photograph without licence.",
    redress=("internal complaint via the case page", "counter-notice", "court"),
    territorial_scope=frozenset({"de"}),
    notice_reference="case-42",
)


def test_complete_statement_has_nothing_missing() -> None:
    """A statement with every Art. 17(3) field filled passes."""
    assert missing_reasons(REASONS) == []
    assert REASONS.territorial_scope == frozenset({"DE"})


MISSING = [
    ("restriction", {"restriction": " "}, ["restriction"]),
    ("duration", {"duration": ""}, ["duration"]),
    ("facts", {"facts": ""}, ["facts"]),
    ("ground_reference", {"ground_reference": ""}, ["ground_reference"]),
    ("explanation", {"explanation": "\n"}, ["explanation"]),
    ("redress-empty", {"redress": ()}, ["redress"]),
    ("redress-blank", {"redress": ("  ",)}, ["redress"]),
    ("notice-without-reference", {"notice_reference": ""}, ["notice_reference"]),
    ("own-initiative-needs-no-reference", {"notice_reference": "", "followed_notice": False}, []),
    ("worldwide-is-fine", {"territorial_scope": frozenset()}, []),
    ("several", {"facts": "", "redress": ()}, ["facts", "redress"]),
]


@pytest.mark.parametrize(
    ("changes", "missing"), [m[1:] for m in MISSING], ids=[m[0] for m in MISSING]
)
def test_missing_reasons(changes: dict[str, object], missing: list[str]) -> None:
    """Each empty Art. 17(3) field is named, in order."""
    assert missing_reasons(replace(REASONS, **changes)) == missing  # type: ignore[arg-type]
