"""Range requests answered from a stored full representation (RFC 9110 §14). Pure.

Theory of operation. `plan_ranges(range_value, length, ...)` turns a visitor's Range field and
the stored length into a `RangePlan`: ignore the Range (send the whole object with 200), 416
with `Content-Range: bytes */length`, or 206. A 206 plan carries the header fields to add, the
exact Content-Length, and `pieces`: literal bytes (multipart part heads and the closing
delimiter) interleaved with `slice`s of the stored body. The edge writes each piece in order,
`body[piece]` from memory or `os.sendfile(fd, piece.start, piece.stop - piece.start)` from disk,
and frames the 206 with Content-Length, never chunking.

Callers apply a Range only to GET (§14.2: "GET is the only method for which range handling is
defined") and only when `conditional.if_range_holds` says so (§13.1.5).

Ranges that overlap or touch are coalesced (§15.3.7.2 allows it "regardless of the order");
the parts that remain keep the order of the request (§15.3.7.2: "SHOULD send the parts in the
same order"). A Range with more than `max_ranges` members, with more than two overlapping
ranges, or whose multipart framing would cost more bytes than the whole object is ignored and
the whole object sent (§14.2: "MAY ignore or reject a Range header field that contains ...
more than two overlapping ranges, or a set of many small ranges", the denial-of-service shape
of §17.15 and CVE-2011-3192).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

Header = tuple[bytes, bytes]
RangeSpec = tuple[int | None, int | None]  # (first, last) as sent; (None, n) is a suffix
Piece = bytes | slice

MAX_RANGES = 100
_HUGE = 10**18  # a position with more digits than this is "past any stored object"


class RangeOutcome(Enum):
    """What a Range field gets."""

    IGNORE = "ignore"  # 200 with the whole representation
    PARTIAL = "partial"  # 206
    UNSATISFIABLE = "unsatisfiable"  # 416


@dataclass(frozen=True, slots=True)
class RangePlan:
    """How to answer a Range: fields to add, exact Content-Length, and pieces to write."""

    outcome: RangeOutcome
    ranges: tuple[tuple[int, int], ...] = ()  # (first, last) inclusive, in send order
    headers: tuple[Header, ...] = ()  # Content-Range, or the multipart Content-Type
    pieces: tuple[Piece, ...] = ()  # bytes to write as they are; slices of the stored body
    content_length: int = 0  # of the 206 content; 0 for IGNORE / UNSATISFIABLE


IGNORE = RangePlan(RangeOutcome.IGNORE)


def _position(digits: bytes) -> int | None:
    if not digits.isdigit():
        return None
    digits = digits.lstrip(b"0") or b"0"
    return int(digits) if len(digits) <= 18 else _HUGE


def parse_range(value: bytes) -> list[RangeSpec] | None:
    """The range-specs of a `bytes=` Range value (RFC 9110 §14.1.1), or None to ignore it.

    None for another range unit (§14.2: an unknown unit is ignored), for a syntax error, and
    for an int-range whose last-pos is below its first-pos (§14.1.1: invalid). The unit is
    compared in any case (§14.1); OWS is allowed around list members and the "=".
    """
    unit, eq, spec_list = value.partition(b"=")
    if not eq or unit.strip().lower() != b"bytes":
        return None
    specs: list[RangeSpec] = []
    for member in spec_list.split(b","):
        member = member.strip()
        if not member:
            continue  # RFC 9110 §5.6.1: empty list elements are allowed
        first_raw, dash, last_raw = member.partition(b"-")
        if not dash:
            return None
        last = _position(last_raw) if last_raw else None
        if not first_raw:
            if last is None:
                return None
            specs.append((None, last))  # suffix-range
            continue
        first = _position(first_raw)
        if first is None or (last_raw and last is None) or (last is not None and last < first):
            return None
        specs.append((first, last))
    return specs or None


def resolve(specs: list[RangeSpec], length: int) -> list[tuple[int, int]]:
    """The satisfiable ranges as (first, last) inclusive, in request order (RFC 9110 §14.1.2).

    A last-pos at or past the end means "to the end"; a suffix longer than the object means
    the whole object; a first-pos at or past the end, or a zero-length suffix, is dropped.
    """
    out = []
    for first, last in specs:
        if first is None:
            if last and length:
                out.append((max(0, length - last), length - 1))
        elif first < length:
            out.append((first, length - 1 if last is None or last >= length else last))
    return out


def coalesce(ranges: list[tuple[int, int]]) -> tuple[list[tuple[int, int]], int]:
    """Merge overlapping and adjacent ranges; also count overlaps (RFC 9110 §15.3.7.2).

    The merged ranges come back in the order the request first named any of their parts.
    """
    order = sorted(range(len(ranges)), key=ranges.__getitem__)
    merged: list[list[int]] = []  # [first, last, index of the earliest-named member]
    overlaps = 0
    for index in order:
        first, last = ranges[index]
        if merged and first <= merged[-1][1] + 1:
            top = merged[-1]
            if first <= top[1]:
                overlaps += 1
            top[1] = max(top[1], last)
            top[2] = min(top[2], index)
        else:
            merged.append([first, last, index])
    merged.sort(key=lambda m: m[2])
    return [(m[0], m[1]) for m in merged], overlaps


def content_range(first: int, last: int, length: int) -> bytes:
    """RFC 9110 §14.4: b"bytes first-last/complete-length"."""
    return b"bytes %d-%d/%d" % (first, last, length)


def unsatisfied_range(length: int) -> bytes:
    """RFC 9110 §14.4 / §15.5.17: the 416's b"bytes */complete-length"."""
    return b"bytes */%d" % length


def make_boundary(random: bytes) -> bytes:
    """A multipart boundary from caller-supplied randomness (e.g. os.urandom(16)): hex digits.

    RFC 2046 §5.1.1 boundaries are 1-70 characters; 16 random bytes make a 32-character one
    that no stored body will contain by chance.
    """
    if not 8 <= len(random) <= 35:
        raise ValueError("a boundary takes 8 to 35 random bytes")
    return random.hex().encode()


def multipart_pieces(
    ranges: list[tuple[int, int]], length: int, boundary: bytes, content_type: bytes | None
) -> tuple[tuple[Piece, ...], int]:
    """The multipart/byteranges content (RFC 9110 §14.6) as pieces, and its exact length.

    Each part: delimiter, its own Content-Type (when the representation has one) and
    Content-Range, a blank line, the bytes. The CRLF before each later delimiter belongs to the
    delimiter (RFC 2046 §5.1.1), so the first part starts straight with "--boundary".
    """
    type_line = b"Content-Type: " + content_type + b"\r\n" if content_type else b""
    pieces: list[Piece] = []
    total = 0
    lead = b"--"
    for first, last in ranges:
        head = b"%s%s\r\n%sContent-Range: %s\r\n\r\n" % (
            lead,
            boundary,
            type_line,
            content_range(first, last, length),
        )
        pieces.append(head)
        pieces.append(slice(first, last + 1))
        total += len(head) + last + 1 - first
        lead = b"\r\n--"
    tail = b"\r\n--" + boundary + b"--\r\n"
    pieces.append(tail)
    return tuple(pieces), total + len(tail)


def starts_beyond(range_value: bytes, offset: int) -> bool:
    """Does every range of a valid `bytes=` Range begin at or past `offset`? (A suffix range
    counts from an end not known before the response, so it does not.)

    A cache fills an object from its first byte: a visitor seeking far into an object that is
    not stored would wait for everything before its range. Such a request is better passed
    to the origin with its Range, and the object filled by a request that starts near the
    beginning."""
    specs = parse_range(range_value)
    if not specs:
        return False
    return all(first is not None and first >= offset for first, _ in specs)


def plan_ranges(
    range_value: bytes,
    length: int,
    *,
    boundary: bytes,
    content_type: bytes | None = None,
    max_ranges: int = MAX_RANGES,
) -> RangePlan:
    """Decide how to answer `Range: range_value` for a stored object of `length` bytes.

    `boundary` (from `make_boundary`) is used only for a multipart answer; `content_type` is
    the stored Content-Type, repeated in each part (§14.6).
    """
    specs = parse_range(range_value)
    if specs is None or len(specs) > max_ranges:
        return IGNORE  # §14.2: an invalid or abusive Range is ignored
    ranges = resolve(specs, length)
    if not ranges:
        if length == 0 and any(f is None and (n or 0) > 0 for f, n in specs):
            return IGNORE  # satisfiable by §14.1.2, but no Content-Range can say "0 bytes"
        return RangePlan(
            RangeOutcome.UNSATISFIABLE, headers=((b"Content-Range", unsatisfied_range(length)),)
        )
    ranges, overlaps = coalesce(ranges) if len(ranges) > 1 else (ranges, 0)
    if overlaps > 1:
        return IGNORE  # §14.2: "more than two overlapping ranges"
    if len(ranges) == 1:
        # §15.3.7.1: one range (as asked, or after coalescing) is sent alone with Content-Range.
        first, last = ranges[0]
        return RangePlan(
            RangeOutcome.PARTIAL,
            ranges=((first, last),),
            headers=((b"Content-Range", content_range(first, last, length)),),
            pieces=(slice(first, last + 1),),
            content_length=last + 1 - first,
        )
    pieces, total = multipart_pieces(ranges, length, boundary, content_type)
    if total >= length:
        return IGNORE  # §15.3.7.2: many small parts cost more than the whole object
    return RangePlan(
        RangeOutcome.PARTIAL,
        ranges=tuple(ranges),
        headers=((b"Content-Type", b"multipart/byteranges; boundary=" + boundary),),
        pieces=pieces,
        content_length=total,
    )
