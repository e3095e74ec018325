"""A notice sent by e-mail, read into the fields of `veil.abuse.notices.Notice` (pure).

Theory of operation. Most notices arrive as mail to abuse@ (issue 4), written by people or by
rights holders' tools, as text/plain or HTML. `parse_email(raw)`:

1. parses the message (RFC 5322 / MIME, stdlib `email`, the lenient `default` policy) and takes
   the text: the inline text/plain parts, else the HTML parts with the tags stripped (anchors'
   `href`s kept), else text attachments. Quoted reply text (`>` lines, what follows "On … wrote:"
   or "-----Original Message-----") is dropped, so our own letters quoted back are never read
   as the sender's statements;
2. finds the URLs (http/https, and bare `www.` names read as http) — except those on lines
   naming the original work and those on the sender's own domain (the rights holder's site in
   a signature is not reported material);
3. guesses the category from its words (copyright/DMCA, trademark, phishing, else general);
4. picks out the elements of 17 U.S.C. §512(c)(3)(A) it can find: (i) the signature ("/s/
   Name", a "Signature:" line, or the name under a closing such as "Sincerely"), (ii) the
   original work, (iv) contact details (From header; "Address:", "Phone:" lines), (v) the
   good-faith statement and (vi) the accuracy statement under penalty of perjury, in their
   usual wording. Validation (`veil.abuse.notices.validate`) then says what is still missing.

Nothing here decides: a notice read from mail is validated like any other. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from email.utils import getaddresses
from html.parser import HTMLParser

from veil.abuse.letters import Letter

MAX_TEXT = 20_000  # characters of the message kept as the notice's explanation

_URL = re.compile(r"(?:https?://|(?<![\w.@/-])www\.)[^\s<>\"'`{}|\\^\[\]]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\")]>*"
_QUOTE_CUT = re.compile(
    r"^(?:On .{3,200} wrote:|-{2,}\s*Original Message\s*-{2,})\s*$", re.IGNORECASE | re.MULTILINE
)

_CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (  # first wins a tie
    (
        "abuse_dmca",
        ("dmca", "copyright", "512(c)", "17 u.s.c", "digital millennium", "pirat"),
    ),
    ("abuse_trademark", ("trademark", "trade mark", "counterfeit", "registered mark", "uspto")),
    (
        "abuse_phishing",
        ("phishing", "phish", "credential", "fake login", "login page", "malware", "spoof"),
    ),
)

_SLASH_S = re.compile(r"^\s*/s/\s*(\S.{0,118}?)\s*$", re.MULTILINE)
_CLOSINGS = re.compile(
    r"^\s*(?:sincerely|regards|best regards|kind regards|yours (?:truly|faithfully|sincerely)|"
    r"respectfully(?: submitted)?|thank you|thanks|best)[,.!]?\s*$",
    re.IGNORECASE,
)
_NAME_LINE = re.compile(r"[^\W\d_][^\W\d_.'-]*(?:[ .'-]+[^\W\d_][^\W\d_'-]*\.?){1,4}")
_WORK_LABEL = re.compile(
    r"^[\s>*\-•\d.()]*(?:the\s+)?(?:original|copyrighted|infringed)\s+works?"
    r"(?:\s+(?:infringed|at issue|concerned))?\s*(?:\(s\))?\s*[:\-\u2013]\s*(.*)$",
    re.IGNORECASE,
)
_WORK_SENTENCE = re.compile(
    r"\b(?:the\s+)?(?:original|copyrighted)\s+works?\s+(?:at issue\s+)?(?:is|are)\s+(.{3,300}?)"
    r"(?:\.\s|\.$|\n|$)",
    re.IGNORECASE,
)
_GOOD_FAITH = re.compile(
    r"good[\s-]+faith\s+belief.{0,300}?(?:not\s+authori[sz]ed|unauthori[sz]ed)",
    re.IGNORECASE | re.DOTALL,
)
_PERJURY = re.compile(
    r"accura\w*.{0,300}?penalty\s+of\s+perjury|penalty\s+of\s+perjury.{0,300}?accura\w*",
    re.IGNORECASE | re.DOTALL,
)
_TM_NUMBER = re.compile(
    r"\b(?:registration|reg\.?|trademark)\s*(?:no\.?|number|#)\s*:?\s*([A-Z0-9][\w/.,-]{2,30})",
    re.IGNORECASE,
)
_TM_OFFICES = ("USPTO", "EUIPO", "WIPO", "UKIPO", "DPMA", "INPI", "JPO", "CIPO", "IP Australia")


def _labelled(*labels: str) -> re.Pattern[str]:
    names = "|".join(labels)
    return re.compile(rf"^\s*(?:{names})\s*:\s*(\S.*?)\s*$", re.IGNORECASE | re.MULTILINE)


_SIGNATURE = _labelled("signature", "signed", "electronic signature")
_ADDRESS = _labelled("address", "postal address", "mailing address")
_PHONE = _labelled("phone", "telephone", "tel\\.?", "phone number", "tele")
_COMPANY = _labelled("company", "organi[sz]ation")
_AGENT = _labelled("on behalf of", "rights holder", "copyright owner", "principal")
_CITY = _labelled("city")
_COUNTRY = _labelled("country")


@dataclass(frozen=True, slots=True)
class EmailNotice:
    """What was read from one message: the notice fields, and facts about the message."""

    fields: dict[str, object]
    subject: str = ""
    message_id: str = ""
    sender: str = ""  # the address answers go to ("" when there is none)
    automatic: bool = False  # RFC 3834 §2: never answer automatically
    text: str = ""
    found: tuple[str, ...] = field(default=())  # the §512(c)(3) elements read from the text


class _Html(HTMLParser):
    """HTML -> text: block elements end lines, script/style dropped, hrefs collected."""

    _BLOCKS = frozenset(
        {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hrefs: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "head"}:
            self._skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")
        if tag == "a":
            self.hrefs.extend(v for k, v in attrs if k == "href" and v)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "head"}:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, list[str]]:
    """The text of an HTML document (one line per block) and its links' targets."""
    parser = _Html()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text, parser.hrefs


def _part_text(part: Message) -> str:
    """A MIME part's text; a wrong or unknown charset decodes as UTF-8 with replacement."""
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, ValueError, AssertionError):
        pass
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def message_text(message: Message) -> tuple[str, list[str]]:
    """The readable text of a message (see the module doc) and any HTML link targets."""
    plain: list[str] = []
    html: list[str] = []
    attached: list[str] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        attachment = part.get_content_disposition() == "attachment"
        if kind == "text/plain":
            (attached if attachment else plain).append(_part_text(part))
        elif kind == "text/html" and not attachment:
            html.append(_part_text(part))
    if plain:
        return "\n\n".join(plain), []
    if html:
        pairs = [html_to_text(h) for h in html]
        return "\n\n".join(t for t, _ in pairs), [u for _, links in pairs for u in links]
    return "\n\n".join(attached), []


def strip_quoted(text: str) -> str:
    """Drop quoted reply text: `>` lines and everything after an attribution line."""
    cut = _QUOTE_CUT.search(text)
    if cut is not None:
        text = text[: cut.start()]
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))


def _clean_url(raw: str) -> str:
    url = raw
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url if url.lower().startswith("http") else f"http://{url}"


def _host(url: str) -> str:
    rest = url.split("://", 1)[-1]
    host = re.split(r"[/?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1]
    return host.split(":", 1)[0].lower().removeprefix("www.")


def find_urls(text: str, *, exclude_lines: set[str], own_domain: str = "") -> list[str]:
    """http(s) and `www.` URLs in order, once each; not from `exclude_lines`, not on
    `own_domain` (or its subdomains)."""
    urls: dict[str, None] = {}
    for line in text.splitlines():
        if line.strip() in exclude_lines:
            continue
        for match in _URL.finditer(line):
            url = _clean_url(match.group(0))
            host = _host(url)
            if own_domain and (host == own_domain or host.endswith("." + own_domain)):
                continue
            if "." in host:
                urls.setdefault(url, None)
    return list(urls)


def guess_category(text: str) -> str:
    """The report type most of the text's words point to (ties: the earlier category)."""
    lowered = text.lower()
    best, best_score = "abuse_general", 0
    for category, words in _CATEGORY_WORDS:
        score = sum(1 for word in words if word in lowered)
        if score > best_score:
            best, best_score = category, score
    return best


def _original_work(text: str) -> tuple[str, set[str]]:
    """The work named (§512(c)(3)(A)(ii)) and the lines it was read from."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = _WORK_LABEL.match(line)
        if match is None:
            continue
        taken = [line.strip()]
        value = [match.group(1).strip()] if match.group(1).strip() else []
        for follow in lines[index + 1 : index + 12]:
            if not follow.strip() or (value and _WORK_LABEL.match(follow)):
                if value:
                    break
                continue
            if re.match(r"^\s*[\w ]{2,40}:\s", follow) and value:
                break  # the next labelled item
            value.append(follow.strip().lstrip("-*• ").strip())
            taken.append(follow.strip())
        if value:
            return " ".join(value)[:2000], set(taken)
    sentence = _WORK_SENTENCE.search(text)
    if sentence is not None:
        return sentence.group(1).strip(), set()
    return "", set()


def _signature(text: str) -> str:
    """(i): "/s/ Name", a "Signature:" line, or the name under a closing line."""
    for pattern in (_SLASH_S, _SIGNATURE):
        match = pattern.search(text)
        if match is not None:
            return match.group(1).strip()
    lines = [line.strip() for line in text.splitlines()]
    for index, line in enumerate(lines):
        if not _CLOSINGS.match(line):
            continue
        for follow in lines[index + 1 : index + 3]:
            if follow and len(follow) <= 80 and _NAME_LINE.fullmatch(follow):
                return follow
            if follow:
                break
    return ""


def _first(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.search(text)
    return "" if match is None else match.group(1).strip()[:255]


def _from(message: Message, envelope_from: str) -> tuple[str, str]:
    """(name, address) of the sender: From, else Reply-To, else the envelope's MAIL FROM."""
    for header in ("from", "reply-to"):
        for name, address in getaddresses([str(v) for v in message.get_all(header, [])]):
            if "@" in address:
                return name.strip(), address.strip()
    return "", envelope_from.strip()


def _automatic(message: Message, envelope_from: str) -> bool:
    """RFC 3834 §2: auto-submitted mail, bounces (null reverse-path) and bulk lists."""
    auto = str(message.get("auto-submitted", "no")).strip().lower()
    precedence = str(message.get("precedence", "")).strip().lower()
    return auto != "no" or precedence in {"bulk", "junk", "list"} or not envelope_from.strip()


def _trademark_fields(text: str) -> dict[str, object]:
    offices = [o for o in _TM_OFFICES if re.search(rf"\b{re.escape(o)}\b", text)]
    fields: dict[str, object] = {"trademark_number": _first(_TM_NUMBER, text)}
    if offices:
        fields["trademark_office"] = offices[0]
    return fields


def parse_email(raw: bytes, *, envelope_from: str = "") -> EmailNotice:
    """Read one message (bytes as received) into notice fields; see the module doc."""
    message = message_from_bytes(raw, policy=policy.default)
    body, links = message_text(message)
    text = strip_quoted(body).strip()
    subject = " ".join(str(message.get("subject", "")).split())
    name, address = _from(message, envelope_from)
    category = guess_category(f"{subject}\n{text}")
    work, work_lines = _original_work(text)
    own = address.rsplit("@", 1)[-1].lower() if "@" in address else ""
    urls = find_urls(text + "\n" + "\n".join(links), exclude_lines=work_lines, own_domain=own)
    signature = _signature(text)
    fields: dict[str, object] = {
        "act": category,
        "urls": "\n".join(urls),
        "email": address,
        "name": name or signature,
        "signature": signature,
        "original_work": work,
        "company": _first(_COMPANY, text),
        "agent_name": _first(_AGENT, text),
        "address1": _first(_ADDRESS, text),
        "city": _first(_CITY, text),
        "country": _first(_COUNTRY, text),
        "tele": _first(_PHONE, text),
        "justification": text[:MAX_TEXT],
        "comments": f"Received by e-mail. Subject: {subject}" if subject else "Received by e-mail.",
        "statement_good_faith": bool(_GOOD_FAITH.search(text)),
        "statement_accuracy_perjury": bool(_PERJURY.search(text)),
    }
    if category == "abuse_trademark":
        fields.update(_trademark_fields(text))
    return EmailNotice(
        fields=fields,
        subject=subject,
        message_id=str(message.get("message-id", "")).strip(),
        sender=address,
        automatic=_automatic(message, envelope_from),
        text=text,
        found=_found(fields),
    )


def _found(fields: dict[str, object]) -> tuple[str, ...]:
    """The §512(c)(3)(A) elements present, by the ids validation uses."""
    present = {
        "signature": bool(fields["signature"]),
        "work": bool(fields["original_work"]),
        "material": bool(fields["urls"]),
        "contact": bool(fields["name"]) and bool(fields["email"] or fields["tele"]),
        "good_faith": bool(fields["statement_good_faith"]),
        "accuracy_and_authority": bool(fields["statement_accuracy_perjury"]),
    }
    return tuple(element for element, ok in present.items() if ok)


def notice_fields_from_email(raw: bytes, *, envelope_from: str = "") -> dict[str, object]:
    """The Notice fields dict read from a message (Cloudflare's field names)."""
    return parse_email(raw, envelope_from=envelope_from).fields


_ELEMENT_NAMES = {
    "signature": "your signature",
    "work": "the copyrighted work",
    "material": "the addresses (URLs) of the material",
    "contact": "your name and contact details",
    "good_faith": "the good-faith statement",
    "accuracy_and_authority": "the statement of accuracy, under penalty of perjury",
}


def email_answer(
    *, letters: Sequence[Letter], read: EmailNotice, repair_case: str | None
) -> Letter:
    """The one answer to an e-mailed notice: each case's receipt, what was read from the
    message, and — when a case awaits the reporter — how to complete it by replying."""
    first = letters[0]
    subject = first.subject if len(letters) == 1 else first.subject.replace("report", "reports")
    parts = [letter.body.rstrip() for letter in letters]
    read_lines = ["What we read from your e-mail:"]
    if read.fields.get("act") == "abuse_dmca":
        read_lines += [f"  - {_ELEMENT_NAMES[e]}" for e in read.found] or [
            "  - nothing we could use"
        ]
    urls = [u for u in str(read.fields.get("urls", "")).splitlines() if u]
    read_lines.append(f"  - {len(urls)} address(es) reported")
    parts.append("\n".join(read_lines))
    if repair_case is not None:
        parts.append(
            "To complete your report, reply to this message keeping "
            f"[case {repair_case}] in the subject, and write the missing items in your reply "
            '(for your signature, a line "/s/ Your Name").'
        )
    return Letter(subject=subject, body="\n\n".join(parts) + "\n")
