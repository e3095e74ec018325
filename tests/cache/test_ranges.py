"""Range requests from a stored full representation (RFC 9110 §14)."""

from __future__ import annotations

from email import message_from_bytes

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil.cache.ranges import (
    IGNORE,
    RangeOutcome,
    RangePlan,
    RangeSpec,
    coalesce,
    make_boundary,
    parse_range,
    plan_ranges,
    resolve,
    starts_beyond,
)

BOUNDARY = make_boundary(bytes(range(16)))
BODY = bytes(range(256)) * 40  # 10240 bytes, every offset distinguishable mod 256


def _content(plan: RangePlan, body: bytes = BODY) -> bytes:
    return b"".join(p if isinstance(p, bytes) else body[p] for p in plan.pieces)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"bytes=0-499", [(0, 499)]),
        (b"bytes=500-", [(500, None)]),
        (b"bytes=-500", [(None, 500)]),
        (b"bytes=0-0,-1", [(0, 0), (None, 1)]),
        (b"BYTES=1-2", [(1, 2)]),
        (b"bytes = 1-2 , 4-5", [(1, 2), (4, 5)]),
        (b"bytes=,1-2,,", [(1, 2)]),
        (b"bytes=0001-0002", [(1, 2)]),
        (b"bytes=5-5", [(5, 5)]),
        (b"bytes=99999999999999999999999-", [(10**18, None)]),
        (b"bytes=0-99999999999999999999999", [(0, 10**18)]),
        (b"items=0-1", None),
        (b"0-1", None),
        (b"bytes=", None),
        (b"bytes=,", None),
        (b"bytes=5-4", None),
        (b"bytes=-", None),
        (b"bytes=a-b", None),
        (b"bytes=1-2-3", None),
        (b"bytes=1", None),
        (b"bytes=1 -2", None),
        (b"bytes=-0x10", None),
        (b"bytes=\xd9\xa1-2", None),
    ],
    ids=[
        "first-last",
        "first-open",
        "suffix",
        "list",
        "unit-any-case",
        "ows",
        "empty-members",
        "leading-zeros",
        "one-byte",
        "huge-first",
        "huge-last",
        "other-unit",
        "no-unit",
        "empty-set",
        "only-commas",
        "last-below-first",
        "bare-dash",
        "letters",
        "two-dashes",
        "no-dash",
        "space-inside-spec",
        "hex",
        "non-ascii-digit",
    ],
)
def test_parse_range(value: bytes, expected: list[RangeSpec] | None) -> None:
    """`bytes=` range sets parse per RFC 9110 §14.1.1; other units and bad syntax are None."""
    assert parse_range(value) == expected


@given(st.binary(max_size=100))
def test_parse_range_never_raises_on_bytes(value: bytes) -> None:
    """Arbitrary bytes give specs or None; every int-range is ordered."""
    specs = parse_range(value)
    assert specs is None or all(f is None or last is None or f <= last for f, last in specs)


@given(st.text(alphabet="bytes=0123456789-, ", max_size=60))
def test_parse_range_never_raises_on_range_like_text(value: str) -> None:
    """Range-shaped text gives specs or None, and planning it never raises."""
    parse_range(value.encode())
    plan = plan_ranges(value.encode(), 1000, boundary=BOUNDARY)
    assert plan.content_length == len(_content(plan, bytes(1000)))


@pytest.mark.parametrize(
    ("specs", "length", "expected"),
    [
        ([(0, 499)], 1000, [(0, 499)]),
        ([(500, None)], 1000, [(500, 999)]),
        ([(900, 5000)], 1000, [(900, 999)]),
        ([(None, 100)], 1000, [(900, 999)]),
        ([(None, 5000)], 1000, [(0, 999)]),
        ([(None, 0)], 1000, []),
        ([(1000, None)], 1000, []),
        ([(1000, None), (0, 0)], 1000, [(0, 0)]),
        ([(None, 5)], 0, []),
    ],
    ids=[
        "inside",
        "open",
        "last-past-end",
        "suffix",
        "suffix-longer-than-object",
        "zero-suffix",
        "first-at-end",
        "one-unsatisfiable-one-fine",
        "empty-object",
    ],
)
def test_resolve(specs: list[RangeSpec], length: int, expected: list[tuple[int, int]]) -> None:
    """RFC 9110 §14.1.2: positions clamp to the representation; unsatisfiable specs drop out."""
    assert resolve(specs, length) == expected


@pytest.mark.parametrize(
    ("ranges", "merged", "overlaps"),
    [
        ([(0, 9), (20, 29)], [(0, 9), (20, 29)], 0),
        ([(20, 29), (0, 9)], [(20, 29), (0, 9)], 0),
        ([(0, 9), (10, 19)], [(0, 19)], 0),
        ([(0, 9), (5, 19)], [(0, 19)], 1),
        ([(50, 59), (0, 9), (5, 19)], [(50, 59), (0, 19)], 1),
        ([(0, 9), (2, 3), (4, 5)], [(0, 9)], 2),
    ],
    ids=[
        "disjoint",
        "request-order-kept",
        "adjacent",
        "overlap",
        "merged-part-placed-by-first-member",
        "nested",
    ],
)
def test_coalesce(
    ranges: list[tuple[int, int]], merged: list[tuple[int, int]], overlaps: int
) -> None:
    """Overlapping and adjacent ranges merge; parts keep request order (RFC 9110 §15.3.7.2)."""
    assert coalesce(ranges) == (merged, overlaps)


def test_single_range_plan() -> None:
    """One range: 206 with Content-Range and the slice alone, never multipart (§15.3.7.1)."""
    plan = plan_ranges(b"bytes=10-19", len(BODY), boundary=BOUNDARY, content_type=b"text/plain")
    assert plan.outcome is RangeOutcome.PARTIAL
    assert plan.headers == ((b"Content-Range", b"bytes 10-19/10240"),)
    assert plan.pieces == (slice(10, 20),)
    assert plan.content_length == 10 and _content(plan) == BODY[10:20]


def test_ranges_coalescing_into_one_are_sent_as_one() -> None:
    """Two adjacent ranges become one single-part 206."""
    plan = plan_ranges(b"bytes=0-9,10-19", len(BODY), boundary=BOUNDARY)
    assert plan.headers == ((b"Content-Range", b"bytes 0-19/10240"),)
    assert _content(plan) == BODY[:20]


@pytest.mark.parametrize(
    ("value", "length"),
    [
        (b"bytes=5000-", 1000),
        (b"bytes=-0", 1000),
        (b"bytes=0-", 0),
        (b"bytes=1000-1001,2000-", 1000),
    ],
    ids=["first-past-end", "zero-suffix", "empty-object", "all-past-end"],
)
def test_unsatisfiable_is_416_with_the_length(value: bytes, length: int) -> None:
    """No satisfiable range: 416 with `Content-Range: bytes */length` (RFC 9110 §15.5.17)."""
    plan = plan_ranges(value, length, boundary=BOUNDARY)
    assert plan.outcome is RangeOutcome.UNSATISFIABLE
    assert plan.headers == ((b"Content-Range", b"bytes */%d" % length),)


@pytest.mark.parametrize(
    "value",
    [
        b"items=0-5",
        b"bytes=5-1",
        b"bytes=junk",
        b"bytes=" + b",".join(b"%d-%d" % (i * 10, i * 10) for i in range(101)),
        b"bytes=0-100,10-110,20-120",
        b"bytes=" + b",".join(b"%d-%d" % (i * 2, i * 2) for i in range(20)),
    ],
    ids=[
        "other-unit",
        "invalid",
        "junk",
        "too-many",
        "three-overlapping",
        "framing-costlier-than-whole",
    ],
)
def test_ignored_ranges_serve_the_whole_object(value: bytes) -> None:
    """Invalid, foreign-unit or abusive Range fields are ignored: 200 with everything (§14.2)."""
    assert plan_ranges(value, 1000, boundary=BOUNDARY) is IGNORE


def test_suffix_on_empty_object_is_ignored() -> None:
    """A suffix range of an empty object is satisfiable but not expressible: send the 200."""
    assert plan_ranges(b"bytes=-5", 0, boundary=BOUNDARY) is IGNORE


def test_multipart_framing_is_exact_and_parseable() -> None:
    """multipart/byteranges (§14.6): Content-Length matches the bytes, each part names its range."""
    plan = plan_ranges(
        b"bytes=9000-9099, 0-49", len(BODY), boundary=BOUNDARY, content_type=b"application/pdf"
    )
    assert plan.outcome is RangeOutcome.PARTIAL
    assert plan.ranges == ((9000, 9099), (0, 49))
    content = _content(plan)
    assert plan.content_length == len(content)
    head = dict(plan.headers)
    message = message_from_bytes(b"Content-Type: " + head[b"Content-Type"] + b"\r\n\r\n" + content)
    parts = message.get_payload()
    assert isinstance(parts, list) and len(parts) == 2
    assert [p["Content-Range"] for p in parts] == ["bytes 9000-9099/10240", "bytes 0-49/10240"]
    assert [p["Content-Type"] for p in parts] == ["application/pdf"] * 2
    assert [p.get_payload(decode=True) for p in parts] == [BODY[9000:9100], BODY[:50]]
    assert content.startswith(b"--" + BOUNDARY + b"\r\n")
    assert content.endswith(b"\r\n--" + BOUNDARY + b"--\r\n")


def test_multipart_without_content_type_has_no_part_type() -> None:
    """Parts repeat the representation's Content-Type only when it has one."""
    plan = plan_ranges(b"bytes=0-9,100-109", len(BODY), boundary=BOUNDARY)
    assert b"Content-Type" not in _content(plan)


@given(
    st.integers(min_value=0, max_value=3000),
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(0, 3500)), st.one_of(st.none(), st.integers(0, 3500))
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_planned_content_always_matches_its_length(
    length: int, specs: list[tuple[int | None, int | None]]
) -> None:
    """Any plan's pieces add up to its Content-Length and every slice lies inside the object."""
    members = []
    for first, last in specs:
        if first is None and last is None:
            continue
        if first is not None and last is not None and last < first:
            first, last = last, first
        members.append(
            b"%s-%s"
            % (b"" if first is None else b"%d" % first, b"" if last is None else b"%d" % last)
        )
    if not members:
        return
    body = bytes(i % 251 for i in range(length))
    plan = plan_ranges(b"bytes=" + b",".join(members), length, boundary=BOUNDARY)
    content = _content(plan, body)
    assert plan.content_length == len(content)
    for piece in plan.pieces:
        if isinstance(piece, slice):
            assert 0 <= piece.start < piece.stop <= length
    if plan.outcome is RangeOutcome.PARTIAL and len(plan.ranges) == 1:
        first, last = plan.ranges[0]
        assert content == body[first : last + 1]


@pytest.mark.parametrize("size", [7, 36], ids=["too-short", "too-long"])
def test_boundary_needs_enough_randomness(size: int) -> None:
    """Boundaries come from 8-35 random bytes (RFC 2046: at most 70 characters)."""
    with pytest.raises(ValueError):
        make_boundary(bytes(size))


def test_boundary_is_hex_of_the_randomness() -> None:
    """The boundary is the hex of the caller's bytes: deterministic under test."""
    assert make_boundary(b"\x00\xff" * 4) == b"00ff00ff00ff00ff"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"bytes=2000000-2000099", True),
        (b"bytes=1048576-", True),
        (b"bytes=1048575-", False),
        (b"bytes=2000000-2000099,0-9", False),  # one range near the start: fill
        (b"bytes=-500", False),  # a suffix counts from an unknown end
        (b"bytes=3000000-, 4000000-4000001", True),
        (b"items=2000000-", False),  # ignored Range
        (b"bytes=", False),
    ],
)
def test_starts_beyond(value: bytes, expected: bool) -> None:
    assert starts_beyond(value, 1024 * 1024) is expected
