"""What the public abuse form asks, per report type, in plain words.

Theory of operation. Each `Category` of `veil.abuse.notices` gets a `FormSpec`: a title, a
plain description for the chooser, and its fields in order, each marked required or not. The
input names are Cloudflare's abuse-report field names (`Notice`), so what the form posts is a
notice as the API would take it. `field_for(element, values)` says next to which input a
validation problem (`Problem.element`) is shown.

Required marks follow the validators: §512(c)(3)(A)(i)-(vi) for copyright (17 U.S.C.), the
category rules of `veil.abuse.notices` for the rest. The marks are advice; the server decides.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from veil.abuse.notices import ALWAYS_ANONYMOUS, NEVER_ANONYMOUS, Category, Notification

TEXT_MAX = 255
LONG_MAX = 5000
URLS_MAX = 200_000  # characters of the urls field; the count is capped at MAX_URLS lines


@dataclass(frozen=True, slots=True)
class Field:
    """One input: Cloudflare's name, a label, a hint, its kind and its size limit."""

    name: str
    label: str
    kind: str  # text | email | tel | textarea | checkbox | radio
    hint: str = ""
    max_length: int = TEXT_MAX
    autocomplete: str = ""
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()  # radio: (value, label)
    default: str = ""


_NOTIFY_LABELS = {
    Notification.SEND.value: "Send, with my name and contact details",
    Notification.SEND_ANON.value: "Send, without my identity",
    Notification.NONE.value: "Do not send",
}

_CATALOG: dict[str, Field] = {
    f.name: f
    for f in (
        Field(
            "urls",
            "Addresses (URLs) of the material",
            "textarea",
            "One full address per line, starting with http:// or https:// (at most 1000).",
            URLS_MAX,
        ),
        Field(
            "original_work",
            "The copyrighted work",
            "textarea",
            "Name or describe the work that is copied, or give a representative list; a link "
            "to the original helps.",
            2000,
        ),
        Field(
            "agent_name",
            "Copyright owner",
            "text",
            "The owner of the rights, if you act on someone else's behalf.",
        ),
        Field("trademark_number", "Registration number of the mark", "text", "", 1000),
        Field(
            "trademark_office",
            "Office that registered the mark",
            "text",
            "For example USPTO, EUIPO or WIPO.",
            1000,
        ),
        Field(
            "trademark_symbol",
            "The mark",
            "text",
            "The word or a description of the logo.",
            1000,
        ),
        Field(
            "justification",
            "What is wrong, and how to see it",
            "textarea",
            "Explain why you consider the material unlawful or abusive, and how to find it on "
            "the page.",
            LONG_MAX,
        ),
        Field("name", "Your full name", "text", "", autocomplete="name"),
        Field(
            "email",
            "Your e-mail address",
            "email",
            "We send the receipt and the status link here.",
            254,
            "email",
        ),
        Field("email2", "Confirm your e-mail address", "email", "", 254, "email"),
        Field("title", "Your job title", "text", "", autocomplete="organization-title"),
        Field("company", "Company or organisation", "text", "", autocomplete="organization"),
        Field("tele", "Telephone", "tel", "", 40, "tel"),
        Field("address1", "Street address", "text", "", autocomplete="street-address"),
        Field("city", "City", "text", "", autocomplete="address-level2"),
        Field("state", "State or region", "text", "", autocomplete="address-level1"),
        Field("country", "Country", "text", "", autocomplete="country-name"),
        Field(
            "signature",
            "Signature",
            "text",
            "Type your full name as your electronic signature (§512(c)(3)(A)(i)).",
        ),
        Field("comments", "Anything else we should know", "textarea", "", LONG_MAX),
        Field(
            "statement_good_faith",
            "I have a good faith belief that the use of the material in the manner complained "
            "of is not authorised by the copyright owner, its agent, or the law.",
            "checkbox",
            "Required by 17 U.S.C. §512(c)(3)(A)(v).",
        ),
        Field(
            "statement_accuracy_perjury",
            "The information in this notice is accurate, and under penalty of perjury, I am "
            "authorised to act on behalf of the owner of an exclusive right that is allegedly "
            "infringed.",
            "checkbox",
            "Required by 17 U.S.C. §512(c)(3)(A)(vi). Knowingly false claims carry liability "
            "(§512(f)).",
        ),
    )
}

_BONA_FIDE = replace(
    _CATALOG["statement_accuracy_perjury"],
    label="I believe in good faith that the information in this report is accurate and complete.",
    hint="The statement of a notice under the EU Digital Services Act, Art. 16(2)(d).",
)


@dataclass(frozen=True, slots=True)
class FormSpec:
    category: Category
    title: str
    summary: str
    fields: tuple[Field, ...]
    notify_rule: str

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


def _pick(spec: str, overrides: Mapping[str, Field] | None = None) -> tuple[Field, ...]:
    """Fields from a compact list: "name*" is required, "name" optional."""
    out = []
    for token in spec.split():
        name = token.rstrip("*")
        base = (overrides or {}).get(name) or _CATALOG[name]
        out.append(replace(base, required=token.endswith("*")))
    return tuple(out)


def _notifications(category: Category) -> tuple[Field, ...]:
    """The host / owner (/ NCMEC) choices, limited by the anonymity rules."""
    values: tuple[str, ...]
    if category in NEVER_ANONYMOUS:
        values = (Notification.SEND.value, Notification.NONE.value)
        default = Notification.SEND.value
    elif category in ALWAYS_ANONYMOUS:
        values = (Notification.SEND_ANON.value, Notification.NONE.value)
        default = Notification.SEND_ANON.value
    else:
        values = tuple(n.value for n in Notification)
        default = Notification.SEND.value
    choices = tuple((v, _NOTIFY_LABELS[v]) for v in values)
    fields = [
        Field(
            "host_notification",
            "Tell the hosting provider",
            "radio",
            "The company whose servers hold the site. It is told the site's server address.",
            choices=choices,
            default=default,
        ),
        Field(
            "owner_notification",
            "Tell the site's owner (our customer)",
            "radio",
            "The owner is asked to answer and may contest the report.",
            choices=choices,
            default=default,
        ),
    ]
    if category is Category.CHILDREN:
        fields.append(
            Field(
                "ncmec_notification",
                "Tell NCMEC (the US National Center for Missing & Exploited Children)",
                "radio",
                "",
                choices=tuple((v, _NOTIFY_LABELS[v]) for v in (n.value for n in Notification)),
                default=Notification.SEND_ANON.value,
            )
        )
    return tuple(fields)


_RULE_NEVER_ANON = (
    "Copyright and trademark reports cannot be anonymous: the person accused must be able to "
    "see who complains, and answer. Choose send, or do not send."
)
_RULE_ALWAYS_ANON = (
    "For this type of report your identity is never passed on: the site's owner and the "
    "hosting provider learn what was reported, not who reported it."
)
_RULE_CHOICE = (
    "You choose for each party: with your name and contact details, without your identity, "
    "or not at all."
)

_CONTACT = "name* email* email2* title company tele address1 city state country"
_SPECS: tuple[tuple[Category, str, str, str], ...] = (
    (
        Category.DMCA,
        "Copyright infringement (DMCA)",
        "Someone copies your work (text, images, music, video, software) without permission.",
        "urls* original_work* agent_name " + _CONTACT + " signature* comments "
        "statement_good_faith* statement_accuracy_perjury*",
    ),
    (
        Category.TRADEMARK,
        "Trademark infringement",
        "A site uses your registered mark to mislead buyers, for example to sell counterfeits.",
        "urls* trademark_number* trademark_office* trademark_symbol justification "
        + _CONTACT
        + " comments statement_accuracy_perjury",
    ),
    (
        Category.PHISHING,
        "Phishing or malware",
        "A page that steals passwords or payment details, or spreads malicious software.",
        "urls* justification* name email* email2 comments statement_accuracy_perjury",
    ),
    (
        Category.CHILDREN,
        "Child sexual abuse material",
        "Images or video of the sexual abuse of children. You need not give your name.",
        "urls* justification name email email2 comments",
    ),
    (
        Category.NCSEI,
        "Non-consensual intimate images",
        "Sexual or intimate images of a person shared without their consent.",
        "urls* justification name email* email2 comments statement_accuracy_perjury",
    ),
    (
        Category.THREAT,
        "Violent threats",
        "Threats of violence against a person or a group.",
        "urls* justification* name email* email2 comments statement_accuracy_perjury",
    ),
    (
        Category.GENERAL,
        "Other abuse",
        "Spam, harassment, fraud or other abuse not listed above.",
        "urls* justification* name email* email2 comments statement_accuracy_perjury",
    ),
    (
        Category.REGISTRAR_WHOIS,
        "Registrar and WHOIS",
        "A question about who registered a domain served through us.",
        "urls* name email* email2 justification comments",
    ),
)


def _rule(category: Category) -> str:
    if category in NEVER_ANONYMOUS:
        return _RULE_NEVER_ANON
    return _RULE_ALWAYS_ANON if category in ALWAYS_ANONYMOUS else _RULE_CHOICE


FORMS: dict[Category, FormSpec] = {
    category: FormSpec(
        category=category,
        title=title,
        summary=summary,
        fields=_pick(
            spec, None if category is Category.DMCA else {"statement_accuracy_perjury": _BONA_FIDE}
        )
        + _notifications(category),
        notify_rule=_rule(category),
    )
    for category, title, summary, spec in _SPECS
}

# Problem.element -> the input it is shown beside (same name when absent here).
_ELEMENT_FIELD = {
    "work": "original_work",
    "material": "urls",
    "location": "urls",
    "good_faith": "statement_good_faith",
    "accuracy_and_authority": "statement_accuracy_perjury",
    "bona_fide": "statement_accuracy_perjury",
    "anonymity": "host_notification",
    "explanation": "justification",
}


def field_for(element: str, values: Mapping[str, str]) -> str:
    """The input next to which the problem with `element` is shown."""
    if element == "contact":
        return "name" if not values.get("name", "").strip() else "email"
    return _ELEMENT_FIELD.get(element, element)


def spec_for(raw: str) -> FormSpec | None:
    """The form for a report type as spelled in a URL, or None when there is no such type."""
    try:
        return FORMS[Category(raw)]
    except ValueError:
        return None
