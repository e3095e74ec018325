"""Token format, checksum and grants (pure)."""

from __future__ import annotations

import re
import zlib

import pytest

from veil.control.tokens import (
    BASE62,
    TOKEN_LENGTH,
    Grant,
    Permission,
    base62,
    checksum,
    generate_token,
    hash_token,
    hashes_match,
    is_well_formed,
    token_hint,
)

TOKEN_RE = re.compile(r"^veil_[0-9A-Za-z]{40}[0-9A-Za-z]{6}$")


def test_generated_tokens_have_the_scanner_shape() -> None:
    """A token is veil_ + 40 base62 characters + a 6-character base62 checksum."""
    for _ in range(50):
        token = generate_token()
        assert TOKEN_RE.match(token)
        assert len(token) == TOKEN_LENGTH == 51
        assert is_well_formed(token)


def test_generated_tokens_are_unique() -> None:
    """Tokens come from a CSPRNG: no repeats in a few hundred."""
    assert len({generate_token() for _ in range(300)}) == 300


@pytest.mark.parametrize(
    ("number", "width", "expected"),
    [(0, 6, "000000"), (61, 1, "z"), (62, 2, "10"), (2**32 - 1, 6, "4gfFC3")],
)
def test_base62_table(number: int, width: int, expected: str) -> None:
    """base62 uses 0-9A-Za-z and pads on the left to the width."""
    assert base62(number, width=width) == expected


def test_checksum_is_crc32_of_the_random_part() -> None:
    """The checksum decodes back to zlib.crc32 of the 40 random characters."""
    token = generate_token()
    random_part, check = token[5:45], token[45:]
    value = 0
    for char in check:
        value = value * 62 + BASE62.index(char)
    assert value == zlib.crc32(random_part.encode())
    assert checksum(random_part) == check


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"),  # bad checksum
        lambda t: t[:10] + ("A" if t[10] != "A" else "B") + t[11:],  # typo in random part
        lambda t: "ghp_" + t[5:],  # wrong prefix
        lambda t: t[:-1],  # too short
        lambda t: t + "0",  # too long
        lambda t: t[:20] + "-" + t[21:],  # not base62
        lambda t: "",
    ],
)
def test_malformed_tokens_are_rejected_without_a_lookup(mutate: object) -> None:
    """A typo, a wrong prefix or a bad checksum is caught by the format check alone."""
    token = generate_token()
    assert callable(mutate)
    assert not is_well_formed(mutate(token))


def test_only_a_sha256_hash_is_compared() -> None:
    """hash_token is SHA-256 hex and hashes_match compares in constant time."""
    token = generate_token()
    digest = hash_token(token)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert hashes_match(digest, token)
    assert not hashes_match(digest, generate_token())


def test_hint_shows_prefix_and_last_four() -> None:
    """The display hint never contains the secret part beyond 4+4 characters."""
    token = generate_token()
    prefix, last4 = token_hint(token)
    assert prefix == token[:9] and last4 == token[-4:]


@pytest.mark.parametrize(
    ("holder", "target", "covers"),
    [
        (Grant.of(["admin"]), Grant.of(["admin"]), True),
        (Grant.of(["admin"]), Grant.of(["dns:edit"], ["z1"]), True),
        (Grant.of(["token:edit", "dns:edit"]), Grant.of(["dns:edit"]), True),
        (Grant.of(["token:edit", "dns:edit"]), Grant.of(["zone:edit"]), False),
        (Grant.of(["token:edit", "dns:edit"]), Grant.of(["admin"]), False),
        (Grant.of(["token:edit", "dns:edit"], ["z1"]), Grant.of(["dns:edit"]), False),
        (Grant.of(["token:edit", "dns:edit"], ["z1", "z2"]), Grant.of(["dns:edit"], ["z1"]), True),
        (Grant.of(["token:edit", "dns:edit"], ["z1"]), Grant.of(["dns:edit"], ["z2"]), False),
        (Grant.of(["admin"], ["z1"]), Grant.of(["admin"]), False),
        (Grant.of(["admin"], ["z1"]), Grant.of(["dns:edit"], ["z1"]), True),
    ],
)
def test_a_grant_only_covers_weaker_grants(holder: Grant, target: Grant, covers: bool) -> None:
    """No token may mint or manage a token more powerful than itself."""
    assert holder.covers(target) is covers


def test_admin_implies_every_permission() -> None:
    """`admin` allows every permission; others allow only themselves."""
    admin = Grant.of(["admin"])
    assert all(admin.allows(p) for p in Permission)
    dns = Grant.of(["dns:read"])
    assert dns.allows(Permission.DNS_READ) and not dns.allows(Permission.DNS_EDIT)


def test_zone_scope() -> None:
    """A grant without zones sees every zone; with zones, only those."""
    assert Grant.of(["zone:read"]).sees_zone("any")
    scoped = Grant.of(["zone:read"], ["a"])
    assert scoped.sees_zone("a") and not scoped.sees_zone("b")
