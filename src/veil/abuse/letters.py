"""The desk's letters: what each party is told, as plain text (pure; no I/O).

Who learns what (issue 4, docs/abuse.md):
- the reporter's receipt: case id, status link, the hosting provider's name and abuse
  contact, what is still missing, which URLs are not on our network — never the origin IP
  (the receipt takes no origin argument, so it cannot leak one);
- the customer: the notice, with the reporter's identity unless it is withheld;
- the hosting provider: the notice and the origin IP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from veil.abuse.counter import CounterNotice
from veil.abuse.notices import Notice, Problem

NOT_ON_NETWORK = "not on our network"

_CATEGORY_NAMES = {
    "abuse_dmca": "copyright infringement (DMCA)",
    "abuse_trademark": "trademark infringement",
    "abuse_general": "general abuse",
    "abuse_phishing": "phishing or malware",
    "abuse_children": "child sexual abuse material",
    "abuse_threat": "violent threats",
    "abuse_registrar_whois": "registrar and WHOIS request",
    "abuse_ncsei": "non-consensual sexual imagery",
}


@dataclass(frozen=True, slots=True)
class Letter:
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class HostLine:
    """The hosting provider as the reporter may learn it: name and abuse contact."""

    name: str
    abuse_email: str | None


def category_name(act: str) -> str:
    return _CATEGORY_NAMES.get(act, act)


def repair_lines(problems: Sequence[Problem]) -> list[str]:
    return [f"  - {p.repair}" for p in problems]


def receipt(
    *,
    case_id: str,
    status_url: str,
    act: str,
    host: HostLine | None,
    problems: Sequence[Problem],
    incomplete: bool,
    off_network: Sequence[str],
    on_network: Sequence[str],
) -> Letter:
    """The reporter's receipt (at once, on every channel)."""
    lines = [f"We received your report of {category_name(act)}: case {case_id}.", ""]
    lines.append(f"Follow it here: {status_url}")
    lines.append("")
    if on_network:
        if host is not None:
            contact = host.abuse_email or "no abuse contact published"
            lines.append(f"The site is hosted by {host.name} (abuse contact: {contact}).")
        else:
            lines.append("We could not determine the site's hosting provider.")
        lines.append("")
    if problems:
        lines.append(
            "Your report is incomplete. We keep it open; please send these:"
            if incomplete
            else "We cannot act on your report as sent. Please correct these and send it again:"
        )
        lines.extend(repair_lines(problems))
        lines.append("")
    if off_network:
        lines.append(f"These addresses are {NOT_ON_NETWORK}; we cannot act on them:")
        lines.extend(f"  - {url}" for url in off_network)
        lines.append("")
    return Letter(subject=f"[case {case_id}] Your abuse report", body="\n".join(lines))


def _notice_lines(notice: Notice, *, with_identity: bool) -> list[str]:
    lines = [f"Category: {category_name(notice.act.value)}", "Reported URLs:"]
    lines.extend(f"  {url}" for url in notice.urls.splitlines() if url.strip())
    for label, value in (
        ("Original work", notice.original_work),
        ("Trademark number", notice.trademark_number),
        ("Trademark office", notice.trademark_office),
        ("Justification", notice.justification),
        ("Comments", notice.comments),
    ):
        if value.strip():
            lines.append(f"{label}: {value.strip()}")
    lines.append("")
    if with_identity:
        lines.append("Reported by:")
        for label, value in (
            ("Name", notice.name),
            ("Company", notice.company),
            ("On behalf of", notice.agent_name),
            ("E-mail", notice.email),
            ("Telephone", notice.tele),
            ("Signature", notice.signature),
        ):
            if value.strip():
                lines.append(f"  {label}: {value.strip()}")
    else:
        lines.append("The reporter's identity is withheld.")
    return lines


def to_customer(
    *, case_id: str, notice: Notice, with_identity: bool, domain: str, answer_url: str
) -> Letter:
    """The notice, forwarded to the customer whose zone serves the URLs."""
    lines = [
        f"We received a report of {category_name(notice.act.value)} about {domain}, "
        f"a site you serve through us (case {case_id}).",
        "",
        *_notice_lines(notice, with_identity=with_identity),
        "",
        f"Please review it and answer: {answer_url}",
        "You may reply, remove the material, contest a pending action, or send a counter-notice.",
        "Unanswered valid notices are escalated.",
    ]
    return Letter(subject=f"[case {case_id}] Abuse report about {domain}", body="\n".join(lines))


def to_host(
    *, case_id: str, notice: Notice, with_identity: bool, domain: str, origin: str
) -> Letter:
    """The notice, forwarded to the hosting provider, with the origin address."""
    lines = [
        f"We operate a CDN in front of {domain}. A report of "
        f"{category_name(notice.act.value)} concerns material served from your network "
        f"(case {case_id}).",
        "",
        f"Origin address: {origin}",
        "",
        *_notice_lines(notice, with_identity=with_identity),
    ]
    return Letter(
        subject=f"[case {case_id}] Abuse report: {domain} ({origin})", body="\n".join(lines)
    )


def counter_notice_lines(counter: CounterNotice, *, email: str, response: str) -> list[str]:
    """The counter-notice as the customer signed it, element by element (§512(g)(3)(A)-(D))."""
    lines = [
        f"Name: {counter.name}",
        f"Address: {counter.address}",
        f"Telephone: {counter.tele}",
    ]
    if email.strip():
        lines.append(f"E-mail: {email.strip()}")
    lines += [
        f"Material removed: {counter.material}",
        f"Where it appeared: {counter.location}",
        "Statement: under penalty of perjury, the customer has a good faith belief that the "
        "material was removed or disabled as a result of mistake or misidentification.",
        "Consent: the customer consents to the jurisdiction of the competent US federal district "
        "court and will accept service of process from the person who sent the notice.",
    ]
    if response.strip():
        lines += ["", "The customer's explanation:", response.strip()]
    lines += ["", f"Signature: {counter.signature}"]
    return lines


def counter_notice_to_reporter(
    *, case_id: str, counter: CounterNotice, email: str, response: str, restore_on: str
) -> Letter:
    """§512(g)(2)(B): a copy of the counter-notice to the notice's sender, with the date the
    material comes back unless they tell us of an action filed to restrain the customer."""
    lines = [
        f"The customer answered your notice (case {case_id}) with a counter-notice under "
        "17 U.S.C. §512(g)(3). A copy follows.",
        "",
        *counter_notice_lines(counter, email=email, response=response),
        "",
        f"We will restore the material on {restore_on} (§512(g)(2)(C)) unless, before then, "
        "you tell us that you have filed an action seeking a court order to restrain the "
        f"customer from the infringing activity. Reply to this message quoting case {case_id}.",
    ]
    return Letter(subject=f"[case {case_id}] Counter-notice received", body="\n".join(lines))


def restored(*, case_id: str, urls: Sequence[str], to_reporter: bool) -> Letter:
    """The material is back after a counter-notice and no lawsuit (§512(g)(2)(C))."""
    who = (
        "No notice of a filed action reached us within the legal window"
        if to_reporter
        else "The complainant did not tell us of a filed action within the legal window"
    )
    lines = [
        f"{who}, so the material of case {case_id} has been restored (17 U.S.C. §512(g)(2)(C)):",
        *(f"  {url}" for url in urls),
    ]
    if not to_reporter:
        lines += ["", "The strike this case had placed on your account is withdrawn."]
    return Letter(subject=f"[case {case_id}] Material restored", body="\n".join(lines))


def lawsuit_to_customer(*, case_id: str) -> Letter:
    """The complainant showed a filed action: the material stays down (§512(g)(2)(C))."""
    body = (
        f"The person who sent the notice in case {case_id} has told us that they filed an "
        "action seeking a court order to restrain you from the activity. The material "
        "therefore stays unavailable (17 U.S.C. §512(g)(2)(C)); the court decides."
    )
    return Letter(subject=f"[case {case_id}] Lawsuit filed: material stays down", body=body)


def to_operator(*, case_id: str, subject: str, text: str) -> Letter:
    """A note for the desk's operator (an escalation, a repeat-infringer review)."""
    return Letter(subject=f"[case {case_id}] {subject}", body=text)
