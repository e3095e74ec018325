"""Cache-Control (RFC 9111 §5.2) and targeted fields (RFC 9213 §2.2) parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil.http.cache_control import (
    DELTA_SECONDS_MAX,
    EMPTY,
    MAX_STALE_ANY,
    CacheControl,
    directive_members,
    parse_cache_control,
    parse_targeted,
)

CC = CacheControl


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param([], EMPTY, id="absent"),
        pytest.param([b""], EMPTY, id="empty"),
        pytest.param([b"max-age=60"], CC(max_age=60), id="max-age"),
        pytest.param([b"public, max-age=60"], CC(public=True, max_age=60), id="two"),
        pytest.param([b"public", b"max-age=60"], CC(public=True, max_age=60), id="two-lines"),
        pytest.param([b"Max-Age=60, PUBLIC"], CC(public=True, max_age=60), id="case"),
        pytest.param([b"  max-age = 60 ,, public  "], CC(public=True, max_age=60), id="ows"),
        pytest.param([b'max-age="60"'], CC(max_age=60), id="quoted-accepted"),
        pytest.param([b"s-maxage=10, max-age=60"], CC(s_maxage=10, max_age=60), id="s-maxage"),
        pytest.param([b"max-age=60, max-age=30"], CC(max_age=30), id="duplicate-smaller"),
        pytest.param([b"max-age=30", b"max-age=60"], CC(max_age=30), id="duplicate-lines"),
        pytest.param([b"max-age=soon"], CC(max_age=0), id="invalid-is-stale"),
        pytest.param([b"max-age=-1"], CC(max_age=0), id="negative-is-stale"),
        pytest.param([b"max-age"], CC(max_age=0), id="no-value-is-stale"),
        pytest.param([b"max-age="], CC(max_age=0), id="empty-value-is-stale"),
        pytest.param([b"max-age=1.5"], CC(max_age=0), id="decimal-is-stale"),
        pytest.param([b"max-age=99999999999999"], CC(max_age=DELTA_SECONDS_MAX), id="clamped"),
        pytest.param([b"max-age=" + b"9" * 5000], CC(max_age=DELTA_SECONDS_MAX), id="huge"),
        pytest.param([b"max-age=2147483648"], CC(max_age=2**31), id="exactly-2^31"),
        pytest.param([b"max-stale"], CC(max_stale=MAX_STALE_ANY), id="max-stale-any"),
        pytest.param([b"max-stale=30"], CC(max_stale=30), id="max-stale"),
        pytest.param([b"min-fresh=5, min-fresh=10"], CC(min_fresh=10), id="min-fresh-larger"),
        pytest.param(
            [b"stale-while-revalidate=30, stale-if-error=600"],
            CC(stale_while_revalidate=30, stale_if_error=600),
            id="rfc5861",
        ),
        pytest.param([b"no-store"], CC(no_store=True), id="no-store"),
        pytest.param([b"no-store=whatever"], CC(no_store=True), id="restrictive-with-arg"),
        pytest.param([b"public=yes"], EMPTY, id="permissive-with-arg-ignored"),
        pytest.param([b"no-cache"], CC(no_cache=True), id="no-cache"),
        pytest.param(
            [b'no-cache="Set-Cookie, X-Foo"'],
            CC(no_cache=True, no_cache_fields=frozenset({b"set-cookie", b"x-foo"})),
            id="no-cache-fields",
        ),
        pytest.param(
            [b"no-cache=Set-Cookie"],
            CC(no_cache=True, no_cache_fields=frozenset({b"set-cookie"})),
            id="no-cache-token",
        ),
        pytest.param(
            [b'no-cache="a", no-cache'], CC(no_cache=True), id="unqualified-no-cache-wins"
        ),
        pytest.param([b'no-cache=""'], CC(no_cache=True), id="empty-list-unqualified"),
        pytest.param([b'no-cache="a, b'], CC(no_cache=True), id="unterminated-unqualified"),
        pytest.param(
            [b'private="a", private="b"'],
            CC(private=True, private_fields=frozenset({b"a", b"b"})),
            id="private-lists-merge",
        ),
        pytest.param(
            [b'private="x\\"y", max-age=5'],
            CC(private=True, private_fields=frozenset({b'x"y'}), max_age=5),
            id="escaped-quote",
        ),
        pytest.param(
            [b"must-revalidate, proxy-revalidate, must-understand, no-transform, immutable"],
            CC(
                must_revalidate=True,
                proxy_revalidate=True,
                must_understand=True,
                no_transform=True,
                immutable=True,
            ),
            id="flags",
        ),
        pytest.param([b"only-if-cached"], CC(only_if_cached=True), id="only-if-cached"),
        pytest.param([b"foo=bar, baz"], EMPTY, id="extensions-ignored"),
        pytest.param([b"=60, ,"], EMPTY, id="garbage"),
    ],
)
def test_cache_control(lines: list[bytes], expected: CacheControl) -> None:
    """Each field line's directives, with invalid or duplicated values read conservatively."""
    assert parse_cache_control(lines) == expected


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param([b"max-age=600"], CC(max_age=600), id="integer"),
        pytest.param([b"max-age=60, private"], CC(max_age=60, private=True), id="two"),
        pytest.param([b"max-age=60", b"no-store"], CC(max_age=60, no_store=True), id="lines"),
        pytest.param([b"none"], EMPTY, id="unknown-directive-is-valid"),
        pytest.param([b'max-age="60"'], CC(max_age=0), id="string-is-invalid"),
        pytest.param([b"max-age=1.5"], CC(max_age=0), id="decimal-is-invalid"),
        pytest.param([b"max-age=-5"], CC(max_age=0), id="negative-is-invalid"),
        pytest.param([b"max-age=999999999999999"], CC(max_age=2**31), id="clamped"),
        pytest.param([b"max-age=60, max-age=30"], CC(max_age=30), id="last-wins"),
        pytest.param([b"max-age=30, max-age=60"], CC(max_age=60), id="last-wins-larger"),
        pytest.param([b"no-store=?0, max-age=5"], CC(max_age=5), id="boolean-false"),
        pytest.param([b"public;foo=1, max-age=5"], CC(public=True, max_age=5), id="params"),
        pytest.param(
            [b'private="set-cookie"'],
            CC(private=True, private_fields=frozenset({b"set-cookie"})),
            id="private-string",
        ),
        pytest.param([b"no-cache=set-cookie"], CC(no_cache=True), id="token-list-unqualified"),
        pytest.param([b'no-cache=("a" "b")'], CC(no_cache=True), id="inner-list"),
        pytest.param([b"max-age=60, s-maxage=5"], CC(max_age=60, s_maxage=5), id="s-maxage"),
    ],
)
def test_targeted_field(lines: list[bytes], expected: CacheControl) -> None:
    """A targeted field is a Structured Fields Dictionary with typed directive values."""
    assert parse_targeted(lines) == expected


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param([], id="absent"),
        pytest.param([b""], id="empty"),
        pytest.param([b"  "], id="blank"),
        pytest.param([b"Max-Age=60"], id="upper-case-key"),
        pytest.param([b"max-age=60,"], id="trailing-comma"),
        pytest.param([b"max-age=60 private"], id="missing-comma"),
        pytest.param([b'private="unterminated'], id="unterminated-string"),
        pytest.param([b"max-age=1234567890123456"], id="integer-too-long"),
        pytest.param([b"max-age=?2"], id="bad-boolean"),
        pytest.param([b"max-age=60;"], id="bad-parameter"),
        pytest.param([b"a=:abc"], id="bad-byte-sequence"),
    ],
)
def test_targeted_field_ignored_when_invalid(lines: list[bytes]) -> None:
    """RFC 9213 §2.2: an empty or unparseable targeted field is as if absent."""
    assert parse_targeted(lines) is None


def test_directive_members_keep_quoted_commas() -> None:
    """Rewriting a value keeps each member whole, quoted commas included."""
    assert directive_members(b'public, no-cache="a, b" ,max-age=5,') == [
        b"public",
        b'no-cache="a, b"',
        b"max-age=5",
    ]


_DIRECTIVE_NAMES = st.sampled_from(
    [
        "max-age",
        "s-maxage",
        "max-stale",
        "min-fresh",
        "no-cache",
        "private",
        "no-store",
        "public",
        "stale-if-error",
        "Max-Age",
        "x",
    ]
)
_ARGS = st.one_of(
    st.none(),
    st.integers(-(10**20), 10**20).map(str),
    st.text(alphabet=' ",\\=;abc-0', max_size=12),
)


@st.composite
def _cache_control_lines(draw: st.DrawFn) -> list[bytes]:
    members = draw(st.lists(st.tuples(_DIRECTIVE_NAMES, _ARGS), max_size=6))
    text = ", ".join(name if arg is None else f"{name}={arg}" for name, arg in members)
    return [text.encode()]


@given(st.lists(st.binary(max_size=64), max_size=4))
def test_parsers_never_raise_on_arbitrary_bytes(lines: list[bytes]) -> None:
    """Whatever arrives on the wire, both parsers return a value and never raise."""
    assert isinstance(parse_cache_control(lines), CacheControl)
    assert parse_targeted(lines) is None or isinstance(parse_targeted(lines), CacheControl)


_SF_ISH = st.lists(st.sampled_from(list(b'abm-=,;"\\ ?01:()*.9AZ\t/+_\x00\xff')), max_size=24)


@given(st.lists(_SF_ISH.map(bytes), max_size=3))
def test_targeted_parser_never_raises_on_near_miss_dictionaries(lines: list[bytes]) -> None:
    """Inputs close to Structured Fields syntax are parsed or refused, never raised on."""
    parsed = parse_targeted(lines)
    assert parsed is None or isinstance(parsed, CacheControl)


@given(_cache_control_lines())
def test_parsed_deltas_are_in_range(lines: list[bytes]) -> None:
    """Every delta-seconds value is an integer in [0, 2**31] (RFC 9111 §1.2.2)."""
    for parsed in (parse_cache_control(lines), parse_targeted(lines)):
        if parsed is None:
            continue
        for value in (parsed.max_age, parsed.s_maxage, parsed.max_stale, parsed.stale_if_error):
            assert value is None or 0 <= value <= DELTA_SECONDS_MAX


@given(_cache_control_lines())
def test_no_store_is_never_lost(lines: list[bytes]) -> None:
    """Whatever surrounds it, a no-store directive is always seen."""
    assert parse_cache_control([*lines, b"no-store"]).no_store
