"""Property tests for the parsers and normalisers (Hypothesis)."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from veil.control.names import (
    InvalidName,
    normalize_content,
    normalize_record_name,
    normalize_zone_name,
)
from veil.control.tokens import TOKEN_PREFIX, checksum, generate_token, is_well_formed

LABEL = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=20)
ZONES = st.builds(lambda a, b: f"{a}.{b}", LABEL, st.from_regex(r"[a-z]{2,10}", fullmatch=True))


@given(st.text(max_size=300))
def test_zone_names_either_normalise_or_raise_invalid_name(text: str) -> None:
    """Any input yields a normalised name or InvalidName — never another exception."""
    try:
        name = normalize_zone_name(text)
    except InvalidName:
        return
    assert name == name.lower() and not name.endswith(".") and name.isascii()
    assert normalize_zone_name(name) == name  # idempotent


@given(ZONES, st.text(max_size=100))
def test_record_names_stay_inside_their_zone(zone: str, text: str) -> None:
    """A normalised record name is the zone or ends in `.zone`, whatever was sent."""
    try:
        name = normalize_record_name(text, zone_name=zone)
    except InvalidName:
        return
    assert name == zone or name.endswith("." + zone)


@given(st.sampled_from(["A", "AAAA", "CNAME", "TXT", "MX", "NS", "PTR"]), st.text(max_size=300))
def test_contents_either_normalise_or_raise_invalid_name(kind: str, text: str) -> None:
    """Record content validation never raises anything but InvalidName, and is idempotent."""
    try:
        value = normalize_content(kind, text)
    except InvalidName:
        return
    assert normalize_content(kind, value) == value


@given(st.text(max_size=80))
def test_token_format_check_never_raises(text: str) -> None:
    """is_well_formed answers False for arbitrary text (and True only with a valid checksum)."""
    result = is_well_formed(text)
    if result:
        body = text[len(TOKEN_PREFIX) :]
        assert checksum(body[:40]) == body[40:]


@given(st.integers(min_value=0, max_value=50), st.characters(categories=["L", "N"]))
def test_any_single_substitution_breaks_the_token(position: int, char: str) -> None:
    """Changing one character of the random part is caught by the checksum (CRC32)."""
    token = generate_token()
    index = len(TOKEN_PREFIX) + position % 40
    if token[index] == char:
        return
    assert not is_well_formed(token[:index] + char + token[index + 1 :])
