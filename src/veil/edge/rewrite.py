"""Rebuilding heads on the way through (pure; the edge never forwards a client's raw bytes).

* `scan_request` reads what the edge needs from a visitor's header list in one pass.
* `upstream_request_head` rebuilds the request for the origin: hop-by-hop fields and
  Connection-named options dropped (RFC 9110 §7.6.1), edge-set fields replaced, X-Forwarded-*,
  Forwarded (RFC 7239), CDN-Loop (RFC 8586), Veil-Connecting-IP and Veil-Ray added, exactly one
  framing header.
* `client_response_head` rebuilds the origin's response for the visitor: hop-by-hop dropped,
  `Server: veil`, `Veil-Ray`, our own framing and connection management, and a Location that
  points at the origin's own address rewritten to the visitor's host (origin hiding).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from veil.http.headers import (
    EDGE_SET_REQUEST_FIELDS,
    HOP_BY_HOP,
    ORIGIN_PRIVATE_RESPONSE_FIELDS,
    FieldNames,
    Header,
    connection_tokens,
    count_cdn_loop,
    forwarded_element,
)

_PLAIN_CONNECTION_OPTIONS: Final = frozenset({b"keep-alive", b"close"})
# Connection values that name no other field: the usual spellings, recognised without parsing.
_PLAIN_CONNECTION_VALUES: Final = frozenset(
    {b"keep-alive", b"Keep-Alive", b"close", b"Close", b"keep-alive, close"}
)

# Request field codes. Codes at or above R_SKIP are never copied upstream: hop-by-hop fields,
# the ones the edge sets itself, and the ones it rebuilds (Host, framing, X-Forwarded-For,
# Forwarded, Expect).
R_KEEP: Final = 0
R_ACCEPT: Final = 1
R_CDN_LOOP: Final = 2
R_CONDITIONAL: Final = 3
R_RANGE: Final = 4
R_ACCEPT_ENCODING: Final = 5
R_CACHE_CONTROL: Final = 6
R_AUTHORIZATION: Final = 7
R_SKIP: Final = 10
R_HOST: Final = 11
R_LENGTH: Final = 12
R_CHUNKED: Final = 13
R_CONNECTION: Final = 14
R_EXPECT: Final = 15
R_UPGRADE: Final = 16
R_XFF: Final = 17
R_FORWARDED: Final = 18
R_TE: Final = 19
REQUEST_FIELDS: Final = FieldNames(
    {
        **dict.fromkeys(HOP_BY_HOP | EDGE_SET_REQUEST_FIELDS, R_SKIP),
        b"accept": R_ACCEPT,
        b"cdn-loop": R_CDN_LOOP,
        b"host": R_HOST,
        b"content-length": R_LENGTH,
        b"transfer-encoding": R_CHUNKED,
        b"connection": R_CONNECTION,
        b"expect": R_EXPECT,
        b"upgrade": R_UPGRADE,
        b"x-forwarded-for": R_XFF,
        b"forwarded": R_FORWARDED,
        b"te": R_TE,
        b"if-none-match": R_CONDITIONAL,
        b"if-modified-since": R_CONDITIONAL,
        b"if-match": R_CONDITIONAL,
        b"if-unmodified-since": R_CONDITIONAL,
        b"range": R_RANGE,
        b"accept-encoding": R_ACCEPT_ENCODING,
        b"cache-control": R_CACHE_CONTROL,
        b"authorization": R_AUTHORIZATION,
    }
)
# Response field codes: hop-by-hop (RFC 9110 §7.6.1), the origin's self-description and
# framing (the edge frames the body itself) are dropped; Location may be rewritten.
S_KEEP: Final = 0
S_LOCATION: Final = 1
S_SKIP: Final = 2
S_CONNECTION: Final = 3
S_AGE: Final = 4
# Meant for Veil only: the targeted cache fields (RFC 9213) and the purge tags.
EDGE_ONLY_RESPONSE_FIELDS = frozenset(
    {
        b"veil-cache-control",
        b"cdn-cache-control",
        b"surrogate-control",
        b"cache-tag",
        b"surrogate-key",
    }
)
RESPONSE_FIELDS: Final = FieldNames(
    {
        **dict.fromkeys(
            HOP_BY_HOP
            | ORIGIN_PRIVATE_RESPONSE_FIELDS
            | EDGE_ONLY_RESPONSE_FIELDS
            | {b"content-length"},
            S_SKIP,
        ),
        b"connection": S_CONNECTION,
        b"location": S_LOCATION,
        b"content-location": S_LOCATION,
        b"age": S_AGE,
    }
)
# Request fields a cache fill does not forward: the fill fetches the whole object, and the
# visitor's conditional or range is then answered from it.
_FILL_DROPS: Final = frozenset({b"if-none-match", b"if-modified-since", b"if-range", b"range"})

CDN_LOOP_TOKEN: Final = b"veil"
MAX_CDN_LOOP: Final = 4  # more passes than this through Veil is a loop (RFC 8586 §3)


class RequestScan:
    """Facts about a visitor's request head, gathered in one pass over its fields."""

    __slots__ = (
        "accept",
        "accept_encoding",
        "authorization",
        "cache_control",
        "cdn_loops",
        "conditional",
        "connection",
        "content_length",
        "expect_continue",
        "hosts",
        "range",
        "transfer_encoding",
        "upgrade",
        "xff",
    )

    def __init__(self) -> None:
        self.hosts: list[bytes] = []
        self.connection: list[bytes] = []
        self.content_length: int | None = None
        self.transfer_encoding = False
        self.expect_continue = False
        self.upgrade: bytes | None = None
        self.accept: bytes | None = None
        self.xff: bytes | None = None
        self.cdn_loops = 0
        self.conditional = False  # If-None-Match, If-Modified-Since, If-Match or -Unmodified-
        self.range: bytes | None = None
        self.accept_encoding: bytes | None = None
        self.cache_control: list[bytes] | None = None  # the values, when there are any
        self.authorization = False


def scan_request(headers: list[Header]) -> RequestScan:
    scan = RequestScan()
    memo = REQUEST_FIELDS.memo
    for name, value in headers:
        code = memo.get(name)
        if code is None:
            code = REQUEST_FIELDS.code(name)
        if not code or code in (R_SKIP, R_FORWARDED, R_TE):
            continue
        if code == R_HOST:
            scan.hosts.append(value)
        elif code == R_LENGTH:
            scan.content_length = int(value)  # llhttp already validated digits, no duplicates
        elif code == R_CHUNKED:
            scan.transfer_encoding = True
        elif code == R_CONNECTION:
            scan.connection.append(value)
        elif code == R_EXPECT:
            scan.expect_continue = value.strip().lower() == b"100-continue"
        elif code == R_UPGRADE:
            scan.upgrade = value.strip().lower()
        elif code == R_ACCEPT:
            scan.accept = value
        elif code == R_XFF:
            scan.xff = value if scan.xff is None else scan.xff + b", " + value
        elif code == R_CDN_LOOP:
            scan.cdn_loops += count_cdn_loop((value,), CDN_LOOP_TOKEN)
        elif code == R_CONDITIONAL:
            scan.conditional = True
        elif code == R_RANGE:
            scan.range = value
        elif code == R_ACCEPT_ENCODING:
            ae = scan.accept_encoding
            scan.accept_encoding = value if ae is None else ae + b", " + value
        elif code == R_CACHE_CONTROL:
            if scan.cache_control is None:
                scan.cache_control = [value]
            else:
                scan.cache_control.append(value)
        elif code == R_AUTHORIZATION:
            scan.authorization = True
    return scan


def _hop_fields(
    client_ip: str, proto: str, host: bytes, xff: bytes | None, forwarded: list[bytes]
) -> bytes:
    """X-Forwarded-For, X-Forwarded-Proto, Forwarded (RFC 7239), CDN-Loop (RFC 8586) and
    Veil-Connecting-IP for this hop, appended to what earlier hops said."""
    ip = client_ip.encode()
    element = forwarded_element(client_ip=client_ip, proto=proto, host=host)
    return b"".join(
        (
            b"X-Forwarded-For: ",
            xff + b", " + ip if xff else ip,
            b"\r\nX-Forwarded-Proto: ",
            proto.encode(),
            b"\r\nForwarded: ",
            b", ".join([*forwarded, element]),
            b"\r\nCDN-Loop: veil\r\nVeil-Connecting-IP: ",
            ip,
            b"\r\n",
        )
    )


_FRESH_HOP_FIELDS: Final[dict[tuple[str, str, bytes], bytes]] = {}


def _fresh_hop_fields(client_ip: str, proto: str, host: bytes) -> bytes:
    """`_hop_fields` for a visitor that names no earlier hop — the common case, memoised
    (bounded: the memo is emptied when it reaches 4096 entries)."""
    key = (client_ip, proto, host)
    fields = _FRESH_HOP_FIELDS.get(key)
    if fields is None:
        if len(_FRESH_HOP_FIELDS) >= 4096:
            _FRESH_HOP_FIELDS.clear()
        fields = _FRESH_HOP_FIELDS[key] = _hop_fields(client_ip, proto, host, None, [])
    return fields


def upstream_request_head(
    *,
    method: bytes,
    target: bytes,
    headers: list[Header],
    scan: RequestScan,
    host_out: bytes,
    client_ip: str,
    proto: str,
    ray: bytes,
    chunked_body: bool,
    websocket: bool,
) -> bytes:
    """The request head sent to the origin, rebuilt field by field."""
    options: frozenset[bytes] = frozenset()
    if scan.connection:
        options = connection_tokens(scan.connection) - _PLAIN_CONNECTION_OPTIONS
    out = [method, b" ", target, b" HTTP/1.1\r\nHost: ", host_out, b"\r\n"]
    forwarded: list[bytes] = []
    memo = REQUEST_FIELDS.memo
    for pair in headers:
        code = memo.get(pair[0])
        if code is None:
            code = REQUEST_FIELDS.code(pair[0])
        if code >= R_SKIP:
            if code == R_FORWARDED:
                forwarded.append(pair[1])
            continue
        if options and pair[0].lower() in options:
            continue  # named in Connection: hop-by-hop for this message (RFC 9110 §7.6.1)
        out.append(pair[0])  # four appends: measurably cheaper than b"%b: %b\r\n" % pair
        out.append(b": ")
        out.append(pair[1])
        out.append(b"\r\n")
    if scan.xff or forwarded:
        out.append(_hop_fields(client_ip, proto, scan.hosts[0], scan.xff, forwarded))
    else:
        out.append(_fresh_hop_fields(client_ip, proto, scan.hosts[0]))
    out.append(b"Veil-Ray: ")
    out.append(ray)
    out.append(b"\r\n")
    if websocket:
        out.append(b"Connection: Upgrade\r\nUpgrade: ")
        out.append(scan.upgrade or b"websocket")
        out.append(b"\r\n")
    if chunked_body:
        out.append(b"Transfer-Encoding: chunked\r\n")
    elif scan.content_length is not None:
        out.append(b"Content-Length: ")
        out.append(str(scan.content_length).encode())
        out.append(b"\r\n")
    out.append(b"\r\n")
    return b"".join(out)


def client_response_head(
    *,
    status_line: bytes,
    headers: list[Header],
    ray: bytes,
    keep_alive: bool,
    http10_client: bool,
    framing: bytes,
    origin_authorities: Callable[[], frozenset[bytes]],
    visitor_host: bytes,
    upgrade: bytes | None = None,
    named: frozenset[bytes] | None = None,
    extra: bytes = b"",
) -> bytes:
    """The response head sent to the visitor, in one pass over the origin's fields.

    `framing` is the framing field line to add (b"Content-Length: N\\r\\n",
    b"Transfer-Encoding: chunked\\r\\n" or b"" for close-delimited / bodiless responses).
    """
    out = [status_line]
    memo = RESPONSE_FIELDS.memo
    for pair in headers:
        code = memo.get(pair[0])
        if code is None:
            code = RESPONSE_FIELDS.code(pair[0])
        if code and code != S_AGE:  # Age passes through here; cache hits carry their own
            if code == S_CONNECTION and named is None and pair[1] not in _PLAIN_CONNECTION_VALUES:
                options = connection_tokens((pair[1],)) - _PLAIN_CONNECTION_OPTIONS
                if options:  # rare: the origin names more hop-by-hop fields; start over
                    return client_response_head(
                        status_line=status_line,
                        headers=headers,
                        ray=ray,
                        keep_alive=keep_alive,
                        http10_client=http10_client,
                        framing=framing,
                        origin_authorities=origin_authorities,
                        visitor_host=visitor_host,
                        upgrade=upgrade,
                        named=_connection_options(headers),
                        extra=extra,
                    )
            if code == S_LOCATION:
                value = hide_origin_in_url(pair[1], origin_authorities(), visitor_host)
                out.append(b"%b: %b\r\n" % (pair[0], value))
            continue
        if named and pair[0].lower() in named:
            continue
        out.append(pair[0])
        out.append(b": ")
        out.append(pair[1])
        out.append(b"\r\n")
    out.append(extra)
    out.append(b"Server: veil\r\nVeil-Ray: ")
    out.append(ray)
    out.append(b"\r\n")
    out.append(framing)
    if upgrade is not None:
        out.append(b"Connection: Upgrade\r\nUpgrade: ")
        out.append(upgrade)
        out.append(b"\r\n")
    elif not keep_alive:
        out.append(b"Connection: close\r\n")
    elif http10_client:
        out.append(b"Connection: keep-alive\r\n")
    out.append(b"\r\n")
    return b"".join(out)


def visitor_fields(
    headers: list[Header], origin_authorities: frozenset[bytes], visitor_host: bytes
) -> list[Header]:
    """The origin's fields a visitor may see, as the cache stores them: what
    `client_response_head` would send, without Age (a hit carries its own)."""
    named = _connection_options(headers) - _PLAIN_CONNECTION_OPTIONS
    kept: list[Header] = []
    for name, value in headers:
        code = RESPONSE_FIELDS.code(name)
        if code in (S_SKIP, S_CONNECTION, S_AGE) or (named and name.lower() in named):
            continue
        if code == S_LOCATION:
            value = hide_origin_in_url(value, origin_authorities, visitor_host)
        kept.append((name, value))
    return kept


def fill_request_fields(headers: list[Header]) -> list[Header]:
    """The visitor's fields for a cache fill: no conditionals or ranges (see _FILL_DROPS)."""
    return [pair for pair in headers if pair[0].lower() not in _FILL_DROPS]


def _connection_options(headers: list[Header]) -> frozenset[bytes]:
    return connection_tokens([v for n, v in headers if n.lower() == b"connection"])


def hide_origin_in_url(value: bytes, origin_authorities: frozenset[bytes], host: bytes) -> bytes:
    """Rewrite an absolute URL whose authority is the origin's address to the visitor's host."""
    lower = value[:8].lower()
    if lower.startswith(b"http://"):
        scheme_len = 7
    elif lower.startswith(b"https://"):
        scheme_len = 8
    else:
        return value
    rest = value[scheme_len:]
    end = len(rest)
    for sep in (b"/", b"?", b"#"):
        i = rest.find(sep)
        if i != -1 and i < end:
            end = i
    authority = rest[:end].lower()
    if authority in origin_authorities or authority.rsplit(b":", 1)[0] in origin_authorities:
        return value[:scheme_len] + host + rest[end:]
    return value
