"""API tokens and permissions: pure functions, no I/O.

Theory of operation
-------------------
A token is `veil_` + 40 random base62 characters + a 6-character base62 CRC32 of the random
part (the shape of GitHub's `ghp_` tokens), so secret scanners can recognise a Veil token and
reject typos without a database lookup. Only `hash_token(value)` (SHA-256, hex) is stored; a
request's token is hashed, looked up by hash, and compared again with `hmac.compare_digest`.

A token grants a set of permissions, optionally limited to some zones. `admin` implies every
permission. A holder may only mint or manage tokens that its own grant `covers` — no token can
create a more powerful one.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
import string
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

TOKEN_PREFIX = "veil_"  # noqa: S105 (a name, not a secret)
RANDOM_LENGTH = 40
CHECKSUM_LENGTH = 6
TOKEN_LENGTH = len(TOKEN_PREFIX) + RANDOM_LENGTH + CHECKSUM_LENGTH
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


class Permission(enum.StrEnum):
    ZONE_READ = "zone:read"
    ZONE_EDIT = "zone:edit"
    DNS_READ = "dns:read"
    DNS_EDIT = "dns:edit"
    CACHE_PURGE = "cache:purge"
    ACCOUNT_READ = "account:read"
    ACCOUNT_EDIT = "account:edit"
    TOKEN_EDIT = "token:edit"  # noqa: S105 (a name, not a secret)
    EDGE_READ = "edge:read"
    ABUSE_REPORT = "abuse:report"  # file abuse reports (a reporter's token)
    ABUSE_READ = "abuse:read"  # a customer: read the cases about its zones
    ABUSE_EDIT = "abuse:edit"  # a customer: reply, request review, counter-notice
    ABUSE_DESK = "abuse:desk"  # the operator's desk: queue, actions, reporters, records
    ADMIN = "admin"


def base62(number: int, *, width: int) -> str:
    """`number` in base62, left-padded with '0' to `width` characters."""
    digits: list[str] = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def checksum(random_part: str) -> str:
    """The 6-character base62 CRC32 of a token's random part."""
    return base62(zlib.crc32(random_part.encode("ascii")), width=CHECKSUM_LENGTH)


def generate_token() -> str:
    random_part = "".join(secrets.choice(BASE62) for _ in range(RANDOM_LENGTH))
    return TOKEN_PREFIX + random_part + checksum(random_part)


def is_well_formed(value: str) -> bool:
    """True when `value` has the token shape and a matching checksum."""
    if len(value) != TOKEN_LENGTH or not value.startswith(TOKEN_PREFIX):
        return False
    body = value[len(TOKEN_PREFIX) :]
    if not all(c in BASE62 for c in body):
        return False
    random_part, check = body[:RANDOM_LENGTH], body[RANDOM_LENGTH:]
    return hmac.compare_digest(checksum(random_part), check)


def hash_token(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def hashes_match(stored: str, value: str) -> bool:
    return hmac.compare_digest(stored.encode("ascii"), hash_token(value).encode("ascii"))


def token_hint(value: str) -> tuple[str, str]:
    """(prefix, last4) shown to people in place of the secret."""
    return value[: len(TOKEN_PREFIX) + 4], value[-4:]


@dataclass(frozen=True, slots=True)
class Grant:
    """What a token may do: permissions, and the zones it may touch (None: every zone)."""

    permissions: frozenset[Permission]
    zone_ids: frozenset[str] | None = None

    @classmethod
    def of(cls, permissions: Iterable[str], zone_ids: Iterable[str] | None = None) -> Grant:
        return cls(
            permissions=frozenset(Permission(p) for p in permissions),
            zone_ids=None if zone_ids is None else frozenset(zone_ids),
        )

    @property
    def is_admin(self) -> bool:
        return Permission.ADMIN in self.permissions

    def allows(self, permission: Permission) -> bool:
        return self.is_admin or permission in self.permissions

    def sees_zone(self, zone_id: str) -> bool:
        return self.zone_ids is None or zone_id in self.zone_ids

    def covers(self, other: Grant) -> bool:
        """True when this grant is at least as powerful as `other` (may mint or manage it)."""
        if self.is_admin and self.zone_ids is None:
            return True
        if other.is_admin and not self.is_admin:
            return False
        if not all(self.allows(p) for p in other.permissions):
            return False
        if self.zone_ids is None:
            return True
        return other.zone_ids is not None and other.zone_ids <= self.zone_ids
