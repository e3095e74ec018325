"""HTTP-date parsing and formatting (RFC 9110 §5.6.7)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil.http.dates import format_http_date, parse_http_date

NOV6 = 784111777


@pytest.mark.parametrize(
    "value",
    [
        b"Sun, 06 Nov 1994 08:49:37 GMT",
        b"Sunday, 06-Nov-94 08:49:37 GMT",
        b"Sun Nov  6 08:49:37 1994",
        b"  Sun, 06 Nov 1994 08:49:37 GMT ",
        b"Sun, 06 nov 1994 08:49:37 GMT",
    ],
)
def test_all_three_forms_parse(value: bytes) -> None:
    """IMF-fixdate, RFC 850 and asctime all name the same instant."""
    assert parse_http_date(value) == NOV6


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"0",
        b"-1",
        b"yesterday",
        b"Sun, 06 Foo 1994 08:49:37 GMT",
        b"Sun, 32 Nov 1994 08:49:37 GMT",
        b"Sun, 06 Nov 1994 25:49:37 GMT",
        b"Sun, 06 Nov 1994 08:49:37 PST",
        b"Sun, 31 Feb 1994 08:49:37 GMT",
    ],
)
def test_invalid_dates_are_none(value: bytes) -> None:
    """Anything else is invalid, never a guess."""
    assert parse_http_date(value) is None


def test_format_is_imf_fixdate() -> None:
    """The edge writes only the preferred form."""
    assert format_http_date(NOV6) == b"Sun, 06 Nov 1994 08:49:37 GMT"


@given(st.integers(min_value=0, max_value=4_102_444_799))
def test_round_trip(epoch: int) -> None:
    """What the edge writes, it reads back exactly."""
    assert parse_http_date(format_http_date(epoch)) == epoch
