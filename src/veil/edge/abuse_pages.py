"""The pages the edge answers with for abuse-desk actions, in the look of `veil.edge.errors`.

Each names the action and links its public statement; none names the origin (nothing here
receives it). HTML, or JSON in Cloudflare's envelope when the visitor prefers JSON.
"""

from __future__ import annotations

import html
import json

from veil.edge.errors import PAGE_STYLE, page_time
from veil.snapshot import AbuseBlock

_WARNINGS = {
    "phishing_interstitial": (
        "Suspected phishing",
        "This page has been reported for phishing: it may try to trick you into giving away "
        "passwords, payment details or other personal information.",
    ),
    "misleading_interstitial": (
        "Possibly misleading content",
        "This page has been reported as deceptive or misleading. Be careful with what it asks "
        "of you.",
    ),
}


def _json(status: int, title: str, detail: str, block: AbuseBlock, ray: str, now: float) -> bytes:
    doc = {
        "success": False,
        "errors": [{"code": status, "message": f"{title}: {detail}"}],
        "action_id": block.id,
        "statement": block.statement_url or None,
        "ray_id": ray,
        "time": page_time(now),
    }
    return json.dumps(doc).encode()


def _page(status: int, title: str, paragraphs: str, ray: str, now: float) -> bytes:
    esc = html.escape
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{status} {esc(title)} | veil</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex">
<style>{PAGE_STYLE}</style>
</head><body><main><h1>{esc(title)}</h1>{paragraphs}</main>
<footer>Error {status} &middot; Ray ID <code>{esc(ray)}</code> &middot; {page_time(now)}
 &middot; veil</footer>
</body></html>
""".encode()


STATEMENTS_PATH = "/abuse/statements/"


def _statement(block: AbuseBlock) -> str:
    """The public statement, and the desk's published contact points beside it (the
    designated agent of 17 U.S.C. §512(c)(2), the DSA Art. 11/12 point of contact)."""
    if not block.statement_url:
        return ""
    url = html.escape(block.statement_url)
    text = f'<p>Read the <a rel="blocked-by" href="{url}">public statement</a> about it.</p>'
    base, found, _ = block.statement_url.partition(STATEMENTS_PATH)
    if found:
        desk = html.escape(base)
        text += (
            f'<p>Contact: <a href="{desk}/abuse/agent">designated agent</a> &middot; '
            f'<a href="{desk}/abuse/contact">DSA point of contact</a> &middot; '
            f'<a href="{desk}/abuse/policy">our policy</a></p>'
        )
    return text


def legal_block_page(
    block: AbuseBlock, *, ray: str, now: float, as_json: bool
) -> tuple[bytes, bytes]:
    """451 Unavailable For Legal Reasons (RFC 7725): (content-type, body)."""
    title = "Unavailable for legal reasons"
    detail = "Access to this page has been restricted in response to a legal demand."
    if as_json:
        return b"application/json", _json(451, title, detail, block, ray, now)
    return b"text/html; charset=utf-8", _page(
        451, title, f"<p>{detail}</p>{_statement(block)}", ray, now
    )


def suspended_page(
    block: AbuseBlock, *, ray: str, now: float, as_json: bool
) -> tuple[bytes, bytes]:
    """403 for every URL of a suspended account's zones."""
    title = "Site suspended"
    detail = "This website has been suspended by this network's abuse desk."
    if as_json:
        return b"application/json", _json(403, title, detail, block, ray, now)
    return b"text/html; charset=utf-8", _page(
        403, title, f"<p>{detail}</p>{_statement(block)}", ray, now
    )


def interstitial_page(
    block: AbuseBlock, *, continue_url: str, ray: str, now: float, as_json: bool
) -> tuple[bytes, bytes]:
    """The warning a visitor can click through (`continue_url` sets the pass)."""
    title, detail = _WARNINGS[block.kind]
    if as_json:
        return b"application/json", _json(403, title, detail, block, ray, now)
    go = html.escape(continue_url)
    body = (
        f"<p>{html.escape(detail)}</p>{_statement(block)}"
        f'<p><a href="{go}" rel="nofollow">Ignore this warning and continue</a></p>'
    )
    return b"text/html; charset=utf-8", _page(403, f"Warning: {title.lower()}", body, ray, now)
