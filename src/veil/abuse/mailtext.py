"""The readable text of a mail message (pure, stdlib `email` and `html.parser`).

`message_text` takes the inline text/plain parts, else the HTML parts with their tags stripped
(block elements end lines, script and style dropped, anchors' `href`s collected), else text
attachments; a part in a wrong or unknown charset is decoded as UTF-8 with replacement.
`strip_quoted` drops quoted reply text. Used by `veil.abuse.email_notice`.
"""

from __future__ import annotations

import re
from email.message import Message
from html.parser import HTMLParser

_QUOTE_CUT = re.compile(
    r"^(?:On .{3,200} wrote:|-{2,}\s*Original Message\s*-{2,})\s*$", re.IGNORECASE | re.MULTILINE
)


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
