"""Reported URLs: split the `urls` field and normalise each URL to one canonical form.

Theory of operation. A notice names material by URL, and the same material arrives spelled many
ways (`HTTP://Bücher.Example:80/a/./b/%7e`). Before a URL is matched against zones or compared
with an open case it is normalised the RFC 3986 §6 way, plus the CDN's own choices:

- scheme lower-cased; only http and https; a bare `example.com/x` is read as http (§6.2.2.1);
- no userinfo (a reporter has no business sending credentials, and it hides the real host);
- host IDNA-encoded (stdlib codec), lower-cased, trailing dot dropped; it must be a DNS name
  (letters, digits, hyphen, underscore; labels ≤ 63, name ≤ 253) or an IP literal;
- default port dropped (§6.2.3); path dot-segments removed (§5.2.4); empty path is "/";
- percent-encoding of unreserved characters decoded, other escapes' hex upper-cased (§6.2.2.2);
  characters a URL may not hold (space, non-ASCII, `"<>\\^`{|}`) and a lone `%` are escaped;
- fragment dropped (it never reaches the server); an empty query is dropped.

Normalising a canonical string gives it back (the tests check this as a property).
Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import NamedTuple

MAX_URLS = 1000
DEFAULT_PORTS = {"http": 80, "https": 443}

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_PORT_AFTER_HOST = re.compile(r"[0-9]*(?:[/?#]|\Z)")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ALLOWED = _UNRESERVED | frozenset(":/?#[]@!$&'()*+,;=")
_HEX = frozenset("0123456789abcdefABCDEF")


@dataclass(frozen=True, slots=True)
class NormalisedURL:
    """One reported URL in canonical form; `host` is bare (no IPv6 brackets)."""

    scheme: str
    host: str
    port: int
    path: str
    query: str | None

    @property
    def canonical(self) -> str:
        """The canonical string: scheme://host[:port]path[?query]."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if DEFAULT_PORTS[self.scheme] == self.port else f":{self.port}"
        query = "" if self.query is None else f"?{self.query}"
        return f"{self.scheme}://{host}{port}{self.path}{query}"


class URLLines(NamedTuple):
    """The `urls` field split into lines; `truncated` when more than the limit were given."""

    urls: list[str]
    truncated: bool


def split_urls(field: str, *, limit: int = MAX_URLS) -> URLLines:
    """Split the newline-separated `urls` field: strip, drop blanks, dedupe keeping order, cap."""
    seen: dict[str, None] = {}
    for line in field.splitlines():
        if stripped := line.strip():
            seen.setdefault(stripped, None)
    urls = list(seen)
    return URLLines(urls[:limit], len(urls) > limit)


def normalise_url(text: str) -> NormalisedURL | None:
    """The canonical form of `text`, or None when it is not an acceptable http(s) URL."""
    text = text.strip()
    if not text or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return None
    split = _split_scheme(text)
    if split is None:
        return None
    scheme, rest = split
    authority, path, query = _split_rest(rest)
    hostport = _host_and_port(authority, scheme)
    if hostport is None:
        return None
    host, port = hostport
    path = _remove_dot_segments(_normalise_escapes(path)) or "/"
    query_part = _normalise_escapes(query) if query else None
    return NormalisedURL(scheme, host, port, path, query_part)


def _split_scheme(text: str) -> tuple[str, str] | None:
    """(scheme, text after `//`); a scheme-less `host[:port]/…` is read as http."""
    if text.startswith("//"):
        return "http", text[2:]
    match = _SCHEME.match(text)
    if match is None:
        return "http", text
    rest = text[match.end() :]
    if rest.startswith("//"):
        scheme = match.group(1).lower()
        return (scheme, rest[2:]) if scheme in DEFAULT_PORTS else None
    if match.group(1).lower() not in DEFAULT_PORTS and _PORT_AFTER_HOST.match(rest):
        # `example.com:8080/x`: a host and port, no scheme
        return "http", text
    return None


def _split_rest(rest: str) -> tuple[str, str, str]:
    """(authority, path, query) with the fragment dropped (RFC 3986 §3)."""
    rest = rest.split("#", 1)[0]
    rest, _, query = rest.partition("?")
    slash = rest.find("/")
    if slash < 0:
        return rest, "", query
    return rest[:slash], rest[slash:], query


def _host_and_port(authority: str, scheme: str) -> tuple[str, int] | None:
    """Validate the authority: no userinfo, a DNS name or IP literal, a port in range."""
    if "@" in authority:
        return None
    if authority.startswith("["):
        literal, bracket, port_text = authority[1:].partition("]")
        if not bracket or (port_text and not port_text.startswith(":")):
            return None
        host = _ipv6(literal)
        port_text = port_text[1:]
    else:
        name, _, port_text = authority.partition(":")
        host = _dns_name_or_ipv4(name)
    port = _port(port_text, scheme)
    if host is None or port is None:
        return None
    return host, port


def _ipv6(literal: str) -> str | None:
    """A bracketed IPv6 literal, compressed; zone ids are refused."""
    try:
        return ipaddress.IPv6Address(literal).compressed if "%" not in literal else None
    except ValueError:
        return None


def _dns_name_or_ipv4(name: str) -> str | None:
    """A dotted-quad IPv4 address or an IDNA-encoded, lower-cased DNS name."""
    if "%" in name:
        return None
    try:
        ascii_name = name.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    ascii_name = ascii_name.removesuffix(".")
    labels = ascii_name.split(".")
    if labels[-1].isdigit():  # all-numeric final label: an IPv4 address or nothing
        try:
            return str(ipaddress.IPv4Address(ascii_name))
        except ValueError:
            return None
    if len(ascii_name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return ascii_name


def _port(text: str, scheme: str) -> int | None:
    """The port number; empty means the scheme's default (RFC 3986 §3.2.3)."""
    if not text:
        return DEFAULT_PORTS[scheme]
    if not (text.isascii() and text.isdigit()):
        return None
    port = int(text)
    return port if 0 < port <= 65535 else None


def _normalise_escapes(part: str) -> str:
    """Decode escaped unreserved characters, upper-case other escapes, escape what must be."""
    out: list[str] = []
    i = 0
    while i < len(part):
        char = part[i]
        if char == "%" and len(part) - i >= 3 and part[i + 1] in _HEX and part[i + 2] in _HEX:
            decoded = chr(int(part[i + 1 : i + 3], 16))
            out.append(decoded if decoded in _UNRESERVED else part[i : i + 3].upper())
            i += 3
            continue
        if char == "%" or char not in _ALLOWED:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
        else:
            out.append(char)
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, step by step."""
    output: list[str] = []
    while path:
        if path.startswith("../"):
            path = path[3:]
        elif path.startswith(("./", "/./")):
            path = path[2:]
        elif path == "/.":
            path = "/"
        elif path.startswith("/../"):
            path = path[3:]
            if output:
                output.pop()
        elif path == "/..":
            path = "/"
            if output:
                output.pop()
        elif path in (".", ".."):
            path = ""
        else:
            end = path.find("/", 1)
            end = len(path) if end < 0 else end
            output.append(path[:end])
            path = path[end:]
    return "".join(output)
