"""Names and DNS record rules: pure functions, no I/O.

Every function either returns a normalised value or raises `NameError_` with a message fit
for an API user. Names are IDNA-encoded (punycode) and lower-cased, without a trailing dot,
the way Cloudflare stores them (RFC 1035 §2.3.1 for the label syntax, RFC 5891 for IDNA).
"""

from __future__ import annotations

import ipaddress
import re

MAX_NAME_LENGTH = 253
MAX_TXT_LENGTH = 2048
PROXIABLE_TYPES = frozenset({"A", "AAAA", "CNAME"})
RECORD_TYPES = ("A", "AAAA", "CNAME", "TXT", "MX", "NS", "PTR")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_RECORD_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(xn--[a-z0-9-]{1,59}|[a-z][a-z0-9-]{0,62})$")


class InvalidName(ValueError):
    """A name or record content that cannot be used; the message says why."""


def to_ascii(name: str) -> str:
    """Lower-case punycode form of a possibly Unicode name, without the trailing dot."""
    text = name.strip().rstrip(".")
    if not text:
        raise InvalidName("name is empty")
    if text.isascii():
        return text.lower()
    try:
        return ".".join(
            label.encode("idna").decode("ascii").lower() if label != "*" else "*"
            for label in text.split(".")
        )
    except UnicodeError:
        raise InvalidName(f"{name!r} is not a valid internationalised name") from None


def _check_labels(name: str, label: re.Pattern[str], *, wildcard: bool) -> None:
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName(f"name is longer than {MAX_NAME_LENGTH} characters")
    labels = name.split(".")
    for index, part in enumerate(labels):
        if part == "*" and wildcard and index == 0:
            continue
        if not label.match(part):
            raise InvalidName(f"{name!r} has an invalid label {part!r}")


def normalize_hostname(name: str) -> str:
    """A host name (letters, digits, hyphens), lower-case punycode."""
    ascii_name = to_ascii(name)
    _check_labels(ascii_name, _HOST_LABEL, wildcard=False)
    return ascii_name


def normalize_zone_name(name: str) -> str:
    """A zone apex such as `example.com` or `demo.localhost`: two labels or more, a real TLD."""
    ascii_name = to_ascii(name)
    _check_labels(ascii_name, _HOST_LABEL, wildcard=False)
    labels = ascii_name.split(".")
    if len(labels) < 2:
        raise InvalidName(f"{ascii_name!r} is not a registrable domain name (no TLD)")
    if not _TLD.match(labels[-1]):
        raise InvalidName(f"{ascii_name!r} does not end in a valid top-level domain")
    return ascii_name


def normalize_record_name(name: str, *, zone_name: str) -> str:
    """A record owner name inside `zone_name`: `@` is the apex; relative names get the zone
    appended (as Cloudflare does); `_service` labels and one leading `*` are allowed."""
    text = name.strip()
    if text in ("@", ""):
        return zone_name
    ascii_name = to_ascii(text)
    if ascii_name != zone_name and not ascii_name.endswith("." + zone_name):
        ascii_name = f"{ascii_name}.{zone_name}"
    _check_labels(ascii_name, _RECORD_LABEL, wildcard=True)
    return ascii_name


def normalize_content(record_type: str, content: str) -> str:
    """Validate and normalise a record's content for its type."""
    text = content.strip()
    if record_type == "A":
        try:
            return str(ipaddress.IPv4Address(text))
        except ValueError:
            raise InvalidName("content for an A record must be a valid IPv4 address") from None
    if record_type == "AAAA":
        try:
            return str(ipaddress.IPv6Address(text))
        except ValueError:
            raise InvalidName("content for an AAAA record must be a valid IPv6 address") from None
    if record_type == "TXT":
        if not text or len(text) > MAX_TXT_LENGTH:
            raise InvalidName(f"content for a TXT record must be 1 to {MAX_TXT_LENGTH} chars")
        return text
    # CNAME, MX, NS, PTR: a host name, never an IP literal.
    try:
        ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        raise InvalidName(f"content for a {record_type} record must be a host name, not an IP")
    try:
        ascii_name = to_ascii(text)
        _check_labels(ascii_name, _RECORD_LABEL, wildcard=False)
    except InvalidName:
        raise InvalidName(f"content for a {record_type} record must be a valid host name") from None
    return ascii_name


def check_ttl(ttl: int, *, proxied: bool) -> int:
    """1 means automatic; otherwise 30 s to one day. Proxied records are always automatic."""
    if proxied:
        return 1
    if ttl != 1 and not 30 <= ttl <= 86400:
        raise InvalidName("ttl must be 1 (automatic) or between 30 and 86400 seconds")
    return ttl
