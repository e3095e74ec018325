"""XARF v4 JSON reports as notices (pure; https://xarf.org, schemas/v4).

A XARF report carries `xarf_version`, `reporter` {org, contact, type}, `class` and `type`,
`source_identifier`, and per type the material: `url` (content class), `infringing_url`,
`work_title` and `rights_holder` (copyright). It does not carry the §512(c)(3) signature or
statements, so a XARF copyright report validates as incomplete and the reporter gets the repair
list like anyone else — never silently upgraded."""

from __future__ import annotations

from collections.abc import Mapping

from veil.abuse.notices import Category

_TYPES: dict[tuple[str, str], Category] = {
    ("copyright", "copyright"): Category.DMCA,
    ("content", "phishing"): Category.PHISHING,
    ("content", "malware"): Category.PHISHING,  # Cloudflare files malware with phishing
    ("content", "brand_infringement"): Category.TRADEMARK,
    ("content", "csam"): Category.CHILDREN,
    ("content", "csem"): Category.CHILDREN,
}
_URL_KEYS = ("url", "infringing_url", "source_identifier", "target_url")


class XarfError(ValueError):
    """Not a XARF v4 report we can read (the message says which field)."""


def is_xarf(body: Mapping[str, object]) -> bool:
    return isinstance(body.get("xarf_version"), str)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def category_of(report: Mapping[str, object]) -> Category:
    key = (_text(report.get("class")).lower(), _text(report.get("type")).lower())
    if key[0] == "copyright":
        return Category.DMCA
    return _TYPES.get(key, Category.GENERAL)


def _urls(report: Mapping[str, object]) -> list[str]:
    found: list[str] = []
    for key in _URL_KEYS:
        value = report.get(key)
        values = value if isinstance(value, list) else [value]
        for item in values:
            text = _text(item)
            if text.lower().startswith(("http://", "https://")) and text not in found:
                found.append(text)
    return found


def notice_fields(report: Mapping[str, object]) -> dict[str, object]:
    """The Cloudflare-named notice fields of a XARF v4 report."""
    if not _text(report.get("xarf_version")).startswith("4"):
        raise XarfError("only XARF v4 reports are accepted (xarf_version 4.x)")
    reporter = report.get("reporter")
    if not isinstance(reporter, Mapping):
        raise XarfError("a XARF report needs `reporter` with `contact`")
    urls = _urls(report)
    if not urls:
        raise XarfError("the XARF report names no http(s) URL (url, infringing_url)")
    category = category_of(report)
    description = _text(report.get("description"))
    return {
        "act": category.value,
        "urls": "\n".join(urls),
        "email": _text(reporter.get("contact")),
        "name": _text(reporter.get("name")) or _text(reporter.get("org")),
        "company": _text(reporter.get("org")),
        "agent_name": _text(report.get("rights_holder")),
        "original_work": _text(report.get("work_title")),
        "justification": description,
        "comments": f"XARF report {_text(report.get('report_id'))}".strip(),
    }
