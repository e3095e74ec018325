"""Conditional requests against a stored response (RFC 9110 §13, RFC 9111 §4.3). Pure.

Theory of operation. Two directions meet here.

Answering a visitor: `evaluate_preconditions` applies RFC 9110 §13.2.2's order to the
visitor's If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since, with the stored
response standing in for the selected representation, and says proceed (serve it), 304 or 412.
`if_range_holds` is step 5 of that order: whether a Range may be honoured. `not_modified_headers`
lists the fields a 304 carries (§15.4.5).

Revalidating with the origin: `validators_for_revalidation` gives the fields the cache sends
(RFC 9111 §4.3.1), `not_modified_applies` says whether the origin's 304 is about the stored
response (§4.3.4), and `merge_not_modified` freshens the stored fields with the 304's (§3.2).

Entity tags are parsed by a small scanner rather than by splitting on commas: an opaque-tag may
itself hold a comma (RFC 9110 §8.8.3: etagc includes %x23-7E). Unquoted tags, which some origins
send, are read up to the next comma or space so that a visitor echoing them still matches.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from enum import Enum

from veil.cache.vary import field_lines
from veil.http.dates import parse_http_date
from veil.http.headers import HOP_BY_HOP, connection_tokens

Header = tuple[bytes, bytes]
ETag = tuple[bool, bytes]  # (weak, opaque-tag without its quotes)


class Precondition(Enum):
    """What a conditional request gets from a stored response."""

    PROCEED = "proceed"  # serve the stored response (200, or 206 when a Range applies)
    NOT_MODIFIED = "not_modified"  # 304 with `not_modified_headers`
    PRECONDITION_FAILED = "precondition_failed"  # 412


# RFC 9110 §15.4.5: a 304 carries these if a 200 would have (Last-Modified: see below).
_NOT_MODIFIED_FIELDS = frozenset(
    {b"content-location", b"date", b"etag", b"vary", b"cache-control", b"expires"}
)

# RFC 9111 §3.2 exceptions when freshening stored fields from a 304: fields not stored at all
# (§3.1: hop-by-hop, proxy-specific), Content-Length, fields the recipient processes away
# (Content-Range), and fields the stored body depends on (Content-Encoding: Veil encodes
# stored copies itself, so the origin's word on it does not describe the stored bytes).
_NEVER_UPDATED = HOP_BY_HOP | frozenset(
    {
        b"content-length",
        b"content-range",
        b"content-encoding",
        b"proxy-authenticate",
        b"proxy-authentication-info",
        b"proxy-authorization",
    }
)

_CONDITIONAL_LENGTHS = frozenset({8, 13, 17, 19})  # if-match/if-range, if-none-match, ims, ius


def parse_etags(value: bytes) -> list[ETag] | None:
    """The entity tags of an ETag-list (RFC 9110 §8.8.3, §13.1.1), or None if malformed.

    `W/` marks a weak tag (case-sensitive, §8.8.3); empty list members are allowed (§5.6.1).
    """
    tags: list[ETag] = []
    i, end = 0, len(value)
    while i < end:
        if value[i] in b" \t,":
            i += 1
            continue
        weak = value.startswith(b"W/", i)
        if weak:
            i += 2
        if i < end and value[i] == 0x22:
            close = value.find(b'"', i + 1)
            if close == -1:
                return None
            tags.append((weak, value[i + 1 : close]))
            i = close + 1
            if i < end and value[i] not in b" \t,":
                return None
        else:
            j = i
            while j < end and value[j] not in b" \t,":
                j += 1
            if j == i or b'"' in value[i:j]:
                return None
            tags.append((weak, value[i:j]))
            i = j
    return tags


def parse_etag(value: bytes) -> ETag | None:
    """A single entity-tag (the ETag field, RFC 9110 §8.8.3), or None."""
    tags = parse_etags(value)
    return tags[0] if tags is not None and len(tags) == 1 else None


def weak_match(a: ETag, b: ETag) -> bool:
    """RFC 9110 §8.8.3.2 weak comparison: the opaque-tags are equal, either may be weak."""
    return a[1] == b[1]


def strong_match(a: ETag, b: ETag) -> bool:
    """RFC 9110 §8.8.3.2 strong comparison: neither is weak and the opaque-tags are equal."""
    return not a[0] and not b[0] and a[1] == b[1]


def _conditional_fields(headers: Sequence[Header]) -> dict[bytes, list[bytes]]:
    found: dict[bytes, list[bytes]] = {}
    for name, value in headers:
        if len(name) in _CONDITIONAL_LENGTHS:
            lower = name.lower()
            if lower.startswith(b"if-"):
                found.setdefault(lower, []).append(value)
    return found


def _single(headers: Sequence[Header], name: bytes) -> bytes | None:
    lines = field_lines(headers, name)
    return lines[0] if lines else None


def _one_date(lines: list[bytes]) -> int | None:
    # RFC 9110 §13.1.3/§13.1.4: ignore the field unless it is exactly one valid HTTP-date.
    return parse_http_date(lines[0]) if len(lines) == 1 else None


def _list_matches(
    lines: list[bytes], current: ETag | None, current_raw: bytes | None, *, strong: bool
) -> bool | None:
    """Does an If-Match / If-None-Match value name `current`? None when the field is malformed."""
    value = lines[0] if len(lines) == 1 else b",".join(lines)
    if current is not None and value == current_raw:
        return not strong or not current[0]  # the common case: the tag echoed verbatim
    if value.strip() == b"*":
        return True  # "*": any current representation, and the stored response is one
    tags = parse_etags(value)
    if tags is None:
        return None
    if current is None:
        return False
    compare = strong_match if strong else weak_match
    return any(compare(tag, current) for tag in tags)


def _modified_at(stored_headers: Sequence[Header], stored_at: int | None) -> int | None:
    """Last-Modified, else Date, else the time it was received (RFC 9111 §4.3.2)."""
    for name in (b"last-modified", b"date"):
        raw = _single(stored_headers, name)
        when = parse_http_date(raw) if raw is not None else None
        if when is not None:
            return when
    return stored_at


def evaluate_preconditions(
    method: bytes,
    request_headers: Sequence[Header],
    stored_headers: Sequence[Header],
    *,
    stored_status: int = 200,
    stored_at: int | None = None,
) -> Precondition:
    """RFC 9110 §13.2.2 steps 1-4 with the stored response as the selected representation.

    `stored_at` (epoch seconds the response was received) is the last resort date for
    If-Modified-Since. If-Match / If-Unmodified-Since are evaluated as the brief asks, which goes
    beyond RFC 9111 §4.3.2 ("not applicable to a cache"): a 412 is only given when the stored
    response shows the precondition fails.
    """
    found = _conditional_fields(request_headers)
    # §13.2.1: preconditions are ignored when the unconditional answer would not be 2xx.
    if not found or not 200 <= stored_status < 300:
        return Precondition.PROCEED
    etag_raw = _single(stored_headers, b"etag")
    current = parse_etag(etag_raw) if etag_raw is not None else None
    if_match = found.get(b"if-match")
    if if_match is not None:
        # Step 1 (§13.1.1): strong comparison; false means 412.
        if _list_matches(if_match, current, etag_raw, strong=True) is False:
            return Precondition.PRECONDITION_FAILED
    elif (ius := found.get(b"if-unmodified-since")) is not None:
        # Step 2 (§13.1.4): only with no If-Match, a valid date, and a Last-Modified to test.
        date = _one_date(ius)
        lm_raw = _single(stored_headers, b"last-modified")
        modified = parse_http_date(lm_raw) if lm_raw is not None else None
        if date is not None and modified is not None and modified > date:
            return Precondition.PRECONDITION_FAILED
    safe_read = method in (b"GET", b"HEAD")
    if_none_match = found.get(b"if-none-match")
    if if_none_match is not None:
        # Step 3 (§13.1.2): weak comparison; a match means 304 for GET/HEAD, else 412.
        if _list_matches(if_none_match, current, etag_raw, strong=False):
            return Precondition.NOT_MODIFIED if safe_read else Precondition.PRECONDITION_FAILED
    elif safe_read and (ims := found.get(b"if-modified-since")) is not None:
        # Step 4 (§13.1.3): only GET/HEAD, only without If-None-Match, only a valid date.
        date = _one_date(ims)
        modified = _modified_at(stored_headers, stored_at) if date is not None else None
        if date is not None and modified is not None and modified <= date:
            return Precondition.NOT_MODIFIED
    return Precondition.PROCEED


def _last_modified_is_strong(stored_headers: Sequence[Header], modified: int) -> bool:
    # RFC 9110 §8.8.2.2: for an intermediate cache, a Last-Modified is strong when the entry
    # has a Date and the Last-Modified is at least 60 seconds before it.
    date_raw = _single(stored_headers, b"date")
    date = parse_http_date(date_raw) if date_raw is not None else None
    return date is not None and modified <= date - 60


def if_range_holds(request_headers: Sequence[Header], stored_headers: Sequence[Header]) -> bool:
    """RFC 9110 §13.1.5 (§13.2.2 step 5): may a Range be honoured? True when no If-Range.

    An entity-tag must match the stored ETag by strong comparison; an HTTP-date must equal the
    stored Last-Modified exactly, and that Last-Modified must be a strong validator. Otherwise
    the Range is ignored and the whole representation sent with 200.
    """
    lines = field_lines(request_headers, b"if-range")
    if not lines:
        return True
    if len(lines) != 1:
        return False
    value = lines[0].strip()
    if value.startswith((b'"', b"W/")):
        wanted = parse_etag(value)
        etag_raw = _single(stored_headers, b"etag")
        current = parse_etag(etag_raw) if etag_raw is not None else None
        return wanted is not None and current is not None and strong_match(wanted, current)
    date = parse_http_date(value)
    lm_raw = _single(stored_headers, b"last-modified")
    modified = parse_http_date(lm_raw) if lm_raw is not None else None
    if date is None or modified is None or date != modified:
        return False
    return _last_modified_is_strong(stored_headers, modified)


def not_modified_headers(stored_headers: Sequence[Header]) -> list[Header]:
    """The stored fields a 304 carries (RFC 9110 §15.4.5), in stored order.

    Content-Location, Date, ETag, Vary, Cache-Control and Expires; Last-Modified only when
    there is no ETag ("might be useful if the response does not have an ETag field"). The
    edge adds Age and Cache-Status itself.
    """
    has_etag = any(len(n) == 4 and n.lower() == b"etag" for n, _ in stored_headers)
    out = []
    for name, value in stored_headers:
        lower = name.lower()
        if lower in _NOT_MODIFIED_FIELDS or (not has_etag and lower == b"last-modified"):
            out.append((name, value))
    return out


def validators_for_revalidation(stored_headers: Sequence[Header]) -> list[Header]:
    """The conditional fields the cache sends the origin to revalidate (RFC 9111 §4.3.1).

    The stored entity tag in If-None-Match (MUST when present) and the stored Last-Modified in
    If-Modified-Since (SHOULD, for a full, single stored response); [] when it has neither.
    """
    out = []
    etag = _single(stored_headers, b"etag")
    if etag is not None and parse_etag(etag) is not None:
        out.append((b"If-None-Match", etag.strip()))
    modified = _single(stored_headers, b"last-modified")
    if modified is not None and parse_http_date(modified) is not None:
        out.append((b"If-Modified-Since", modified.strip()))
    return out


def not_modified_applies(stored_headers: Sequence[Header], not_modified: Sequence[Header]) -> bool:
    """Is the origin's 304 about this stored response (RFC 9111 §4.3.4)?

    A strong ETag in the 304 must equal the stored one strongly; a weak one must match it
    weakly; with no ETag, a Last-Modified must equal the stored one. A 304 with no validator
    at all is taken to apply: Veil only sends conditionals built from this stored response
    (`validators_for_revalidation`), which is the case §4.3.4's last rule has in mind.
    """
    new_raw = _single(not_modified, b"etag")
    if new_raw is not None:
        new, old_raw = parse_etag(new_raw), _single(stored_headers, b"etag")
        old = parse_etag(old_raw) if old_raw is not None else None
        if new is None or old is None:
            return False
        return strong_match(new, old) if not new[0] else weak_match(new, old)
    new_lm = _single(not_modified, b"last-modified")
    if new_lm is not None:
        old_lm = _single(stored_headers, b"last-modified")
        new_at = parse_http_date(new_lm)
        return new_at is not None and old_lm is not None and new_at == parse_http_date(old_lm)
    return True


def merge_not_modified(
    stored_headers: Sequence[Header],
    not_modified: Sequence[Header],
    *,
    exclude: Collection[bytes] = (),
) -> list[Header]:
    """The stored fields freshened by a 304 (RFC 9111 §4.3.4, updating as per §3.2).

    Each field in the 304 replaces every stored line of that name, in the place of the first
    one; new fields are appended. Not updated: hop-by-hop fields and those the 304's Connection
    names (§3.1), proxy-specific fields, Content-Length, Content-Range and Content-Encoding (see
    `_NEVER_UPDATED`), and `exclude` (lower-case names, e.g. the field-names of a
    `no-cache="..."` or `private="..."` directive).
    """
    skip = _NEVER_UPDATED | connection_tokens(field_lines(not_modified, b"connection"))
    if exclude:
        skip |= frozenset(exclude)
    updates: dict[bytes, list[Header]] = {}
    for name, value in not_modified:
        lower = name.lower()
        if lower not in skip:
            updates.setdefault(lower, []).append((name, value))
    if not updates:
        return list(stored_headers)
    merged: list[Header] = []
    placed: set[bytes] = set()
    for name, value in stored_headers:
        lower = name.lower()
        if lower not in updates:
            merged.append((name, value))
        elif lower not in placed:
            merged.extend(updates[lower])
            placed.add(lower)
    for lower, lines in updates.items():
        if lower not in placed:
            merged.extend(lines)
    return merged
