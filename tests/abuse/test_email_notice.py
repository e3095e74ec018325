"""Reading e-mailed notices into notice fields (pure, table-tested)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.abuse.email_notice import email_answer, find_urls, html_to_text, parse_email
from veil.abuse.letters import Letter
from veil.abuse.notices import Notice, Status, validate

STATEMENTS = (
    "I have a good faith belief that use of the material in the manner complained of is not\n"
    "authorized by the copyright owner, its agent, or the law.\n\n"
    "I swear, under penalty of perjury, that the information in this notification is accurate\n"
    "and that I am authorized to act on behalf of the owner of an exclusive right that is\n"
    "allegedly infringed.\n"
)

DMCA_TEXT = (
    "From: Jane Rights <jane@acme-films.example>\n"
    "To: abuse@veil.example\n"
    "Subject: DMCA Notice of Copyright Infringement\n"
    "Message-ID: <n1@acme-films.example>\n"
    "Content-Type: text/plain; charset=utf-8\n\n"
    "Dear Sir or Madam,\n\n"
    "I write on behalf of Acme Films Inc. about copyright infringement on a site you serve.\n\n"
    'Original work: "The Long Night" (feature film, 2024), https://acme-films.example/long-night\n\n'
    "Infringing material:\n"
    "https://www.pirate.example/watch/long-night.mp4\n"
    "www.pirate.example/dl?id=42.\n\n"
    + STATEMENTS
    + "\nAddress: 1 Film Way, Los Angeles, CA 90001\n"
    "Phone: +1 310 555 0100\n\n"
    "Sincerely,\n"
    "Jane Rights\n"
    "www.acme-films.example\n"
)

DMCA_HTML = (
    "From: rights@studio.example\n"
    "Subject: Copyright complaint\n"
    "MIME-Version: 1.0\n"
    'Content-Type: multipart/alternative; boundary="b"\n\n'
    "--b\n"
    "Content-Type: text/html; charset=iso-8859-1\n"
    "Content-Transfer-Encoding: quoted-printable\n\n"
    "<html><head><style>p {color: red}</style></head><body>"
    "<p>The copyrighted work: <b>Caf=E9 Songs</b> (album)</p>"
    '<p>It is copied <a href=3D"https://music.pirate.example/album/7">here</a>.</p>'
    "<p>I have a good faith belief that this use is not authorized by the copyright owner.</p>"
    "<p>The information in this notice is accurate, and under penalty of perjury, I am "
    "authorized to act for the owner.</p>"
    "<p>/s/ Marie Dupont<br>Telephone: +33 1 23 45 67 89</p>"
    "</body></html>\n"
    "--b--\n"
)

NO_PERJURY = (
    "From: Bob Owner <bob@owner.example>\n"
    "Subject: DMCA takedown request\n\n"
    "My copyrighted work is the photograph Sunset Over Lake Erie.\n"
    "It appears without permission at http://photos.pirate.example/sunset.jpg\n\n"
    "I have a good faith belief that the use is not authorized by me, the copyright owner.\n\n"
    "Regards,\n"
    "Bob Owner\n"
)

PHISHING = (
    "From: SOC Team <soc@bank.example>\n"
    "Subject: Phishing site impersonating our bank\n\n"
    "Hello abuse team,\n\n"
    "The page https://secure-login.bank-verify.example/signin is a phishing page copying our\n"
    "online banking login and harvesting customer credentials. Please take it down.\n"
)


@pytest.mark.parametrize(
    ("raw", "expected", "status", "missing"),
    [
        (
            DMCA_TEXT,
            {
                "act": "abuse_dmca",
                "urls": "https://www.pirate.example/watch/long-night.mp4\n"
                "http://www.pirate.example/dl?id=42",
                "email": "jane@acme-films.example",
                "name": "Jane Rights",
                "signature": "Jane Rights",
                "original_work": '"The Long Night" (feature film, 2024), '
                "https://acme-films.example/long-night",
                "address1": "1 Film Way, Los Angeles, CA 90001",
                "tele": "+1 310 555 0100",
                "statement_good_faith": True,
                "statement_accuracy_perjury": True,
            },
            Status.COMPLETE,
            [],
        ),
        (
            DMCA_HTML,
            {
                "act": "abuse_dmca",
                "urls": "https://music.pirate.example/album/7",
                "email": "rights@studio.example",
                "name": "Marie Dupont",
                "signature": "Marie Dupont",
                "original_work": "Café Songs (album)",
                "tele": "+33 1 23 45 67 89",
                "statement_good_faith": True,
                "statement_accuracy_perjury": True,
            },
            Status.COMPLETE,
            [],
        ),
        (
            NO_PERJURY,
            {
                "act": "abuse_dmca",
                "urls": "http://photos.pirate.example/sunset.jpg",
                "name": "Bob Owner",
                "signature": "Bob Owner",
                "original_work": "the photograph Sunset Over Lake Erie",
                "statement_good_faith": True,
                "statement_accuracy_perjury": False,
            },
            Status.INCOMPLETE_AWAITING_REPORTER,
            ["accuracy_and_authority"],
        ),
        (
            PHISHING,
            {
                "act": "abuse_phishing",
                "urls": "https://secure-login.bank-verify.example/signin",
                "email": "soc@bank.example",
                "name": "SOC Team",
            },
            Status.COMPLETE,
            [],
        ),
    ],
    ids=["dmca-text", "dmca-html", "dmca-no-perjury", "phishing"],
)
def test_realistic_notices_are_read(
    raw: str, expected: dict[str, object], status: Status, missing: list[str]
) -> None:
    """Typical notices give the fields (Cloudflare names) and validate as a person would."""
    read = parse_email(raw.encode("utf-8"), envelope_from="sender@example.net")
    for name, value in expected.items():
        assert read.fields[name] == value, name
    verdict = validate(Notice.from_fields(read.fields))
    assert verdict.status is status and verdict.missing == missing


@pytest.mark.parametrize(
    ("text", "act"),
    [
        (
            "Counterfeit handbags bearing our registered trademark (USPTO Reg. No. 1234567)",
            "abuse_trademark",
        ),
        ("This page hosts pirated copies of our copyrighted software", "abuse_dmca"),
        ("A fake login page steals credentials", "abuse_phishing"),
        ("This site sends spam from its contact form", "abuse_general"),
    ],
)
def test_category_is_guessed_from_the_words(text: str, act: str) -> None:
    """Copyright/DMCA, trademark and phishing words pick the category; else general."""
    raw = f"From: a@b.example\nSubject: report\n\n{text} at https://x.example/p\n"
    assert parse_email(raw.encode()).fields["act"] == act


def test_trademark_number_and_office_are_read() -> None:
    """A trademark notice's registration number and office are picked out."""
    raw = b"From: tm@brand.example\nSubject: Trademark infringement\n\nCounterfeits of our mark (USPTO Reg. No. 1234567) at https://fake.example/bags\n"
    fields = parse_email(raw).fields
    assert fields["trademark_number"] == "1234567" and fields["trademark_office"] == "USPTO"


def test_quoted_reply_text_is_not_read_as_the_senders_statements() -> None:
    """Our own repair list quoted back ('>' lines, after 'On ... wrote:') states nothing."""
    raw = (
        b"From: Bob Owner <bob@owner.example>\nSubject: Re: [case 0123] Your abuse report\n\n"
        b"/s/ Bob Owner\n\n"
        b"On Sun, 29 Nov 2026 at 10:00, Veil abuse desk <abuse@veil.example> wrote:\n"
        b"Confirm the notice is accurate and, under penalty of perjury, that you are authorised\n"
        b"> Confirm you believe in good faith that the use is not authorised by the owner\n"
    )
    read = parse_email(raw)
    assert read.fields["signature"] == "Bob Owner"
    assert read.fields["statement_accuracy_perjury"] is False
    assert read.fields["statement_good_faith"] is False


@pytest.mark.parametrize(
    ("headers", "envelope_from", "automatic"),
    [
        ("", "bob@owner.example", False),
        ("Auto-Submitted: auto-generated\n", "bob@owner.example", True),
        ("Auto-Submitted: no\n", "bob@owner.example", False),
        ("Precedence: bulk\n", "bob@owner.example", True),
        ("", "", True),  # a bounce: null reverse-path
    ],
)
def test_automatic_mail_is_recognised(headers: str, envelope_from: str, automatic: bool) -> None:
    """RFC 3834 §2: auto-submitted, bulk and bounce messages are flagged (never answered)."""
    raw = f"From: bob@owner.example\n{headers}Subject: x\n\nhttps://x.example/\n".encode()
    assert parse_email(raw, envelope_from=envelope_from).automatic is automatic


def test_sender_falls_back_to_the_envelope() -> None:
    """Without a usable From, the address answers go to is MAIL FROM."""
    read = parse_email(b"Subject: x\n\nhttps://x.example/\n", envelope_from="bob@owner.example")
    assert read.sender == "bob@owner.example" and read.fields["email"] == "bob@owner.example"


def test_unknown_charset_and_binary_junk_still_read() -> None:
    """A part in an unknown charset is decoded as UTF-8 with replacement, not refused."""
    raw = b"From: a@b.example\nContent-Type: text/plain; charset=x-nonsense\n\nsee https://x.example/ \xff\xfe\n"
    assert parse_email(raw).fields["urls"] == "https://x.example/"


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        ("(see https://a.example/x_(y))", ["https://a.example/x_(y)"]),
        ("at <https://a.example/p?q=1>.", ["https://a.example/p?q=1"]),
        ("mail me at me@www.a.example", []),
        ("https://a.example/1 and https://a.example/1 again", ["https://a.example/1"]),
        ("our site www.mine.example/legal", []),  # the sender's own domain
    ],
)
def test_urls_are_found_cleanly(text: str, urls: list[str]) -> None:
    """Trailing punctuation and brackets are not part of a URL; duplicates and the sender's
    own site are dropped."""
    assert find_urls(text, exclude_lines=set(), own_domain="mine.example") == urls


def test_html_to_text_keeps_blocks_and_links() -> None:
    """Tags are stripped, blocks become lines, script is dropped, hrefs are kept."""
    text, links = html_to_text(
        "<div>One &amp; two</div><script>evil()</script><p>three <a href='https://l.example/'>x</a></p>"
    )
    assert text == "One & two\n\nthree x" and links == ["https://l.example/"]


def test_answer_names_the_case_what_was_read_and_how_to_complete() -> None:
    """The one answer: the receipt, the elements read, and the reply instruction."""
    read = parse_email(NO_PERJURY.encode())
    receipt = Letter(subject="[case abc] Your abuse report", body="case abc\n  - Confirm ...\n")
    answer = email_answer(letters=[receipt], read=read, repair_case="abc")
    assert answer.subject == "[case abc] Your abuse report"
    assert answer.body.startswith("case abc")
    assert "  - the good-faith statement" in answer.body
    assert "penalty of perjury" not in answer.body.split("What we read")[1]
    assert "keeping [case abc] in the subject" in answer.body


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_parse_without_raising(raw: bytes) -> None:
    """Whatever arrives, the reader returns fields (a category, strings) and never raises."""
    read = parse_email(raw, envelope_from="x@y.example")
    assert read.fields["act"] in {
        "abuse_dmca",
        "abuse_trademark",
        "abuse_phishing",
        "abuse_general",
    }
    Notice.from_fields(read.fields)
