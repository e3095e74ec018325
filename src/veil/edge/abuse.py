"""Which abuse-desk action answers a request: pure matching, no I/O (docs/abuse.md).

Theory of operation. A zone's `AbuseBlock`s (veil.snapshot) are indexed once per snapshot
(`build_index`): account suspensions apart, every other block under the *match key* of each
of its targets. The match key is a canonical URL (`veil.abuse.urls`, RFC 3986 §6) without its
scheme and port: `host` + `path` + `?query`. Scheme-insensitive because http and https serve
the same material; port-insensitive because the edge routes by host name alone, so every port
of a host serves the same thing.

A visitor's request is normalised the same way (`visitor_keys`) and looked up: the exact key,
and when the request has a query, also the key without it — a target named without a query
covers that path with any query string (`?x=1` must not walk around a court order), while a
target named with a query covers that query only.

`in_force` then keeps what applies now: `now >= effective_at` (a pending action is shipped
with its date and enforced from then on without a new snapshot: veil.abuse.actions.effective),
the visitor's country for a geo-scoped block, and the visitor's click-through pass for an
interstitial. The strongest wins: suspension, then legal block, then the interstitials.

Country. `country` is the visitor's ISO 3166-1 alpha-2 code or None when unknown. With a
country source configured, an unknown country is not blocked by a geo-scoped block (the order
names countries; veil.abuse.actions.applies_to). With *no* source configured (`geo_known`
False), a geo-scoped block is enforced everywhere: failing closed is the only way to honour
the order at all, and the operator is told once in the log.

Interstitial passes. A visitor who clicks "continue" gets a cookie `veil_pass_<block id>` =
`<expiry>.<HMAC-SHA256(secret, host|block|expiry)>` (RFC 2104); it is valid for that host and
block until the expiry, and no longer than `PASS_SECONDS`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

from veil.abuse.urls import normalise_url
from veil.snapshot import AbuseBlock

LEGAL_BLOCK = "legal_block"
ACCOUNT_SUSPEND = "account_suspend"
INTERSTITIALS = frozenset({"phishing_interstitial", "misleading_interstitial"})
STRENGTH = {
    ACCOUNT_SUSPEND: 3,
    LEGAL_BLOCK: 2,
    "phishing_interstitial": 1,
    "misleading_interstitial": 0,
}
PASS_SECONDS = 3600  # a click-through lasts an hour, then the warning is shown again
CLEARANCE_COOKIE = "veil_pass_"


# An origin-form target normalise_url leaves as it is: no character to escape, escapes in upper
# case and none of an unreserved character (RFC 3986 §6.2.2.2), no empty query; with no "/."
# in it, no dot-segment either (the caller checks). Most requests are like this.
_PCHARS = rb"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})"
_ALREADY_CANONICAL = re.compile(rb"/" + _PCHARS + rb"*(?:\?(?:" + _PCHARS + rb"|\?)+)?")
_UNRESERVED_ESCAPE = re.compile(rb"%(?:2[DE]|3[0-9]|4[1-9A-F]|5[0-9AF]|6[1-9A-F]|7[0-9AE])")
_PLAIN_HOST = re.compile(r"[a-z0-9_\-]+(?:\.[a-z0-9_\-]+)*").fullmatch


@dataclass(frozen=True, slots=True)
class AbuseIndex:
    """A zone's blocks, ready for one dict lookup per request."""

    suspend: tuple[AbuseBlock, ...]
    by_key: dict[str, tuple[AbuseBlock, ...]]


def match_key(url: str) -> str | None:
    """`host/path?query` of a URL's canonical form; None when it is no http(s) URL."""
    n = normalise_url(url)
    if n is None:
        return None
    return n.host + n.path + ("" if n.query is None else "?" + n.query)


def build_index(blocks: Iterable[AbuseBlock]) -> AbuseIndex:
    """Index a zone's blocks by the match key of every target."""
    suspend: list[AbuseBlock] = []
    by_key: dict[str, list[AbuseBlock]] = {}
    for block in blocks:
        if block.kind == ACCOUNT_SUSPEND:
            suspend.append(block)
            continue
        for target in block.targets:
            key = match_key(target)
            if key is not None and block not in by_key.setdefault(key, []):
                by_key[key].append(block)
    return AbuseIndex(tuple(suspend), {k: tuple(v) for k, v in by_key.items()})


def visitor_keys(host: str, target: bytes) -> tuple[str, ...]:
    """The match keys of a request: exact, then without the query; () for `*` or garbage."""
    if (
        _ALREADY_CANONICAL.fullmatch(target)
        and b"/." not in target
        and (b"%" not in target or not _UNRESERVED_ESCAPE.search(target))
        and _PLAIN_HOST(host)
    ):
        key = host + target.decode("ascii")  # what normalise_url would give, without the work
    else:
        text = target.decode("utf-8", "replace")
        if text.startswith("/"):
            text = "http://" + host + text
        elif not text.lower().startswith(("http://", "https://")):
            return ()  # asterisk-form (OPTIONS *) names no material
        found = match_key(text)
        if found is None:
            return ()
        key = found
    slash = key.find("/")
    query = key.find("?", slash)
    return (key, key[:query]) if query > 0 else (key,)


def candidates(index: AbuseIndex, keys: tuple[str, ...]) -> tuple[AbuseBlock, ...]:
    """Every block that names this request's URL (time and country not yet considered)."""
    found: tuple[AbuseBlock, ...] = index.suspend
    for key in keys:
        hit = index.by_key.get(key)
        if hit:
            found += hit
    return found


def needs_country(blocks: Iterable[AbuseBlock]) -> bool:
    return any(block.countries for block in blocks)


def needs_pass(blocks: Iterable[AbuseBlock]) -> bool:
    return any(block.kind in INTERSTITIALS for block in blocks)


def in_force(
    blocks: Iterable[AbuseBlock],
    *,
    now: float,
    country: str | None,
    geo_known: bool,
    passed: frozenset[str] = frozenset(),
) -> AbuseBlock | None:
    """The strongest block that answers this request now, or None to serve it normally."""
    best: AbuseBlock | None = None
    for block in blocks:
        if now < block.effective_at:
            continue
        if block.countries and geo_known and (country is None or country not in block.countries):
            continue
        if block.kind in INTERSTITIALS and block.id in passed:
            continue
        if best is None or STRENGTH[block.kind] > STRENGTH[best.kind]:
            best = block
    return best


def pass_cookie_name(block_id: str) -> str:
    return CLEARANCE_COOKIE + block_id


def sign_pass(secret: bytes, *, host: str, block_id: str, expires: int) -> str:
    """The cookie value that lets this host's visitor past this interstitial until `expires`."""
    mac = hmac.new(secret, f"{host}|{block_id}|{expires}".encode(), hashlib.sha256)
    return f"{expires}.{mac.hexdigest()}"


def pass_valid(secret: bytes, value: str, *, host: str, block_id: str, now: float) -> bool:
    """A pass cookie made by `sign_pass` for this host and block, not yet expired."""
    expires_text, _, _ = value.partition(".")
    if not expires_text.isdigit() or len(expires_text) > 12:
        return False
    expires = int(expires_text)
    if not now < expires <= now + PASS_SECONDS:
        return False
    expected = sign_pass(secret, host=host, block_id=block_id, expires=expires)
    return hmac.compare_digest(expected, value)


def cookies(header_values: Iterable[bytes]) -> dict[str, str]:
    """`Cookie` field values (RFC 6265 §5.4: `name=value; name=value`) as a dict; first wins."""
    out: dict[str, str] = {}
    for raw in header_values:
        for pair in raw.decode("latin-1").split(";"):
            name, eq, value = pair.strip().partition("=")
            if eq and name and name not in out:
                out[name] = value.strip().strip('"')
    return out
