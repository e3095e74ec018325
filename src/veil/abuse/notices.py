"""Abuse notices: the model (Cloudflare's abuse-reports field names) and its validation.

Theory of operation. A `Notice` is what a reporter sent, as typed, whatever the channel (form,
API, e-mail). `validate(notice)` checks it by category and returns a `Validation`: a status and
the missing elements, each with a repair message in plain words, in the order the law lists them.

- Copyright: the six elements of 17 U.S.C. §512(c)(3)(A)(i)-(vi). A notice with (ii)-(iv) but
  lacking others is not thrown away: the provider must help complete it (§512(c)(3)(B)(ii)),
  so it is "incomplete, awaiting reporter". Lacking any of (ii)-(iv) it is invalid.
- EU: `validate_dsa` checks DSA Art. 16(2)(a)-(d); name and e-mail are not required for child
  sexual abuse material (Art. 16(2)(c)).
- Others: per category (trademark, phishing, general, …), plus e-mail syntax, `email2`
  confirmation, and the anonymity rule (DMCA and trademark reports cannot be anonymous).

The acknowledgements: Cloudflare's API has a single `agree` (0/1, "must be 1 for DMCA"); it
stands for both statements of (v) and (vi). Veil's own form records them separately as
`statement_good_faith` and `statement_accuracy_perjury`; either way satisfies the element.
Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum

from veil.abuse.urls import normalise_url, split_urls


class Category(StrEnum):
    """The report type (`act`) of Cloudflare's abuse-reports API."""

    DMCA = "abuse_dmca"
    TRADEMARK = "abuse_trademark"
    GENERAL = "abuse_general"
    PHISHING = "abuse_phishing"
    CHILDREN = "abuse_children"
    THREAT = "abuse_threat"
    REGISTRAR_WHOIS = "abuse_registrar_whois"
    NCSEI = "abuse_ncsei"


class Notification(StrEnum):
    """Who is told, and whether with the reporter's identity."""

    SEND = "send"
    SEND_ANON = "send-anon"
    NONE = "none"


class Status(StrEnum):
    """What validation makes of a notice."""

    COMPLETE = "complete"
    INCOMPLETE_AWAITING_REPORTER = "incomplete_awaiting_reporter"  # §512(c)(3)(B)(ii)
    INVALID = "invalid"


ALWAYS_ANONYMOUS = frozenset({Category.THREAT, Category.CHILDREN, Category.NCSEI})
NEVER_ANONYMOUS = frozenset({Category.DMCA, Category.TRADEMARK})

# RFC 5322 addr-spec, lite: a dot-atom local part and a dotted domain of LDH labels.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+"
_EMAIL = re.compile(
    rf"{_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9](?:[A-Za-z0-9\-]{{0,61}}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)+"
)


@dataclass(frozen=True, slots=True)
class Notice:
    """One abuse report, with Cloudflare's field names (`urls` newline-separated)."""

    act: Category
    urls: str = ""
    email: str = ""
    email2: str = ""
    name: str = ""
    signature: str = ""
    original_work: str = ""
    agent_name: str = ""
    company: str = ""
    address1: str = ""
    city: str = ""
    state: str = ""
    country: str = ""
    tele: str = ""
    title: str = ""
    justification: str = ""
    comments: str = ""
    trademark_number: str = ""
    trademark_office: str = ""
    trademark_symbol: str = ""
    host_notification: Notification = Notification.SEND
    owner_notification: Notification = Notification.SEND
    ncmec_notification: Notification = Notification.NONE
    agree: bool = False
    statement_good_faith: bool = False
    statement_accuracy_perjury: bool = False

    @classmethod
    def from_fields(cls, data: Mapping[str, object]) -> Notice:
        """Build from a form or API body; unknown keys are ignored, `act` must be known."""
        values: dict[str, object] = {}
        for field in fields(cls):
            if field.name not in data:
                continue
            raw = data[field.name]
            if field.name == "act":
                values["act"] = Category(str(raw))
            elif field.name.endswith("_notification"):
                values[field.name] = Notification(str(raw))
            elif field.type == "bool":
                values[field.name] = _truthy(raw)
            else:
                values[field.name] = "" if raw is None else str(raw)
        if "act" not in values:
            raise ValueError("a notice needs `act`, the report type")
        return cls(**values)  # type: ignore[arg-type]


def _truthy(raw: object) -> bool:
    """Form and JSON spellings of yes: true, 1, "1", "true", "on", "yes"."""
    if isinstance(raw, str):
        return raw.strip().lower() in {"1", "true", "on", "yes"}
    return bool(raw)


@dataclass(frozen=True, slots=True)
class Problem:
    """One missing or defective element and how to repair it."""

    element: str
    repair: str


@dataclass(frozen=True, slots=True)
class Validation:
    """The verdict on a notice: status, and the problems in statutory order."""

    status: Status
    problems: tuple[Problem, ...] = ()

    @property
    def missing(self) -> list[str]:
        """The element ids of the problems, in order."""
        return [p.element for p in self.problems]

    @property
    def complete(self) -> bool:
        """True when nothing is missing."""
        return self.status is Status.COMPLETE


def _simple(problems: list[Problem]) -> Validation:
    """Complete when there are no problems, else invalid."""
    return Validation(Status.INVALID if problems else Status.COMPLETE, tuple(problems))


def _given(text: str) -> bool:
    return bool(text.strip())


def _good_urls(notice: Notice) -> list[str]:
    """The canonical forms of the notice's URLs that normalise."""
    found = (normalise_url(u) for u in split_urls(notice.urls).urls)
    return [u.canonical for u in found if u is not None]


def _url_problems(notice: Notice, element: str) -> list[Problem]:
    """No URL at all, or a line that is not an http(s) URL on a valid host."""
    lines = split_urls(notice.urls).urls
    if not lines:
        return [Problem(element, "Add the exact address (URL) of each item, one per line.")]
    bad = [line for line in lines if normalise_url(line) is None]
    if not bad:
        return []
    return [Problem("urls", f"Correct this address; it is not a web address we can use: {bad[0]}")]


def _email_problems(notice: Notice, *, required: bool) -> list[Problem]:
    """E-mail present (if required), well-formed, and confirmed by `email2` when given."""
    email = notice.email.strip()
    if not email:
        return [Problem("email", "Add your e-mail address in Email.")] if required else []
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        return [Problem("email", "Correct your e-mail address in Email (name@example.com).")]
    if _given(notice.email2) and notice.email2.strip() != email:
        return [Problem("email2", "Type the same e-mail address in Email and Confirm email.")]
    return []


def _anonymity_problems(notice: Notice) -> list[Problem]:
    """DMCA and trademark reports cannot be anonymous."""
    if notice.act not in NEVER_ANONYMOUS:
        return []
    chosen = (notice.host_notification, notice.owner_notification, notice.ncmec_notification)
    if Notification.SEND_ANON not in chosen:
        return []
    return [
        Problem(
            "anonymity",
            "Copyright and trademark reports cannot be anonymous: choose send or none.",
        )
    ]


# §512(c)(3)(A)(i)-(vi): element id, test, repair message.
_DMCA_ELEMENTS: tuple[tuple[str, Callable[[Notice], bool], str], ...] = (
    (
        "signature",
        lambda n: _given(n.signature),
        "Add your physical or electronic signature: type your full name in Signature.",
    ),
    (
        "work",
        lambda n: _given(n.original_work),
        "Name the copyrighted work (or a representative list) in Original work.",
    ),
    (
        "material",
        lambda n: bool(_good_urls(n)),
        "Add the exact address (URL) of each infringing item, one per line.",
    ),
    (
        "contact",
        lambda n: _given(n.name) and any(map(_given, (n.email, n.address1, n.tele))),
        "Add your name and a way to reach you: an e-mail address, postal address or phone.",
    ),
    (
        "good_faith",
        lambda n: n.statement_good_faith or n.agree,
        "Confirm you believe in good faith that the use is not authorised by the copyright "
        "owner, its agent or the law.",
    ),
    (
        "accuracy_and_authority",
        lambda n: n.statement_accuracy_perjury or n.agree,
        "Confirm the notice is accurate and, under penalty of perjury, that you are "
        "authorised to act for the copyright owner.",
    ),
)
_DMCA_ESSENTIAL = frozenset({"work", "material", "contact"})  # (ii)-(iv)


def validate_dmca(notice: Notice) -> Validation:
    """17 U.S.C. §512(c)(3)(A)(i)-(vi), element by element, then e-mail and anonymity."""
    problems = [Problem(eid, repair) for eid, ok, repair in _DMCA_ELEMENTS if not ok(notice)]
    if "material" not in {p.element for p in problems}:
        problems += _url_problems(notice, "material")
    problems += _email_problems(notice, required=True)
    problems += _anonymity_problems(notice)
    if not problems:
        return Validation(Status.COMPLETE)
    if _DMCA_ESSENTIAL & {p.element for p in problems}:
        return Validation(Status.INVALID, tuple(problems))
    return Validation(Status.INCOMPLETE_AWAITING_REPORTER, tuple(problems))


def validate_dsa(notice: Notice) -> Validation:
    """DSA Art. 16(2)(a)-(d); (c) name and e-mail are not required for CSAM."""
    problems: list[Problem] = []
    if not (_given(notice.justification) or _given(notice.comments)):
        problems.append(
            Problem(
                "explanation", "Explain why you consider the content illegal, in Justification."
            )
        )
    problems += _url_problems(notice, "location")
    if notice.act is not Category.CHILDREN:
        if not _given(notice.name):
            problems.append(Problem("name", "Add your name in Name."))
        problems += _email_problems(notice, required=True)
    else:
        problems += _email_problems(notice, required=False)
    if not (notice.statement_accuracy_perjury or notice.agree):
        problems.append(
            Problem(
                "bona_fide",
                "Confirm you believe in good faith that the notice is accurate and complete.",
            )
        )
    return _simple(problems)


def _validate_trademark(notice: Notice) -> list[Problem]:
    problems = _url_problems(notice, "urls")
    if not _given(notice.trademark_number):
        problems.append(Problem("trademark_number", "Add the registration number of the mark."))
    if not _given(notice.trademark_office):
        problems.append(
            Problem("trademark_office", "Add the office that registered the mark (e.g. USPTO).")
        )
    if not _given(notice.name):
        problems.append(Problem("name", "Add your name in Name."))
    return problems + _email_problems(notice, required=True)


def _needs_justification(notice: Notice) -> list[Problem]:
    problems = _url_problems(notice, "urls")
    if not _given(notice.justification):
        problems.append(
            Problem("justification", "Describe what is at the address and how to see it.")
        )
    return problems + _email_problems(notice, required=True)


def _validate_general(notice: Notice) -> list[Problem]:
    problems = _url_problems(notice, "urls")
    if not (_given(notice.comments) or _given(notice.justification)):
        problems.append(Problem("explanation", "Describe the abuse in Comments or Justification."))
    return problems + _email_problems(notice, required=True)


def _validate_children(notice: Notice) -> list[Problem]:
    return _url_problems(notice, "urls") + _email_problems(notice, required=False)


def _validate_plain(notice: Notice) -> list[Problem]:
    return _url_problems(notice, "urls") + _email_problems(notice, required=True)


_BY_CATEGORY: dict[Category, Callable[[Notice], list[Problem]]] = {
    Category.TRADEMARK: _validate_trademark,
    Category.PHISHING: _needs_justification,
    Category.THREAT: _needs_justification,
    Category.GENERAL: _validate_general,
    Category.CHILDREN: _validate_children,
    Category.NCSEI: _validate_plain,
    Category.REGISTRAR_WHOIS: _validate_plain,
}


def validate(notice: Notice) -> Validation:
    """Validate by category: §512(c)(3) for DMCA, the category's own rules for the others."""
    if notice.act is Category.DMCA:
        return validate_dmca(notice)
    return _simple(_BY_CATEGORY[notice.act](notice) + _anonymity_problems(notice))


def reporter_identity_withheld(notice: Notice) -> bool:
    """Whether the customer is told who reported (threats, CSAM, NCSEI never; else send-anon)."""
    if notice.act in ALWAYS_ANONYMOUS:
        return True
    if notice.act in NEVER_ANONYMOUS:
        return False
    return notice.owner_notification is Notification.SEND_ANON
