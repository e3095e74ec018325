"""Veil's caching defaults as tiny named rules, in the spirit of Varnish's builtin.vcl. Pure.

Each rule looks at the facts of one request or response and returns the `Reason` that stops
caching, or None to let the next rule speak. The policy walks the ordered tuples below and the
first reason wins; it reaches Cache-Status `detail=` and the access log. A zone can run with a
different tuple (drop a rule, add one) without touching the policy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote_to_bytes

from veil.cache.freshness import HEURISTICALLY_CACHEABLE
from veil.cache.reasons import Reason
from veil.http.cache_control import CacheControl

CACHEABLE_METHODS: Final = frozenset({b"GET", b"HEAD"})  # RFC 9110 §9.2.3 (case-sensitive)
# RFC 9111 §5.2.2.3: the status codes whose caching rules Veil implements. 302, 303 and 307
# count only with explicit freshness (they are not heuristically cacheable).
UNDERSTOOD_WITH_EXPLICIT_FRESHNESS: Final = frozenset({302, 303, 307})


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What the request-side rules look at."""

    method: bytes
    development_mode: bool = False
    bypass_cache: bool = False


class ResponseFacts:
    """What the storage rules look at. `directives` is the field that governs this cache:
    Veil-Cache-Control, else CDN-Cache-Control, else Cache-Control (RFC 9213 §2.1).

    A plain class, not a frozen dataclass: one is built per origin response, and a compiled
    frozen dataclass costs about fifteen times as much to construct. Read-only by convention.
    """

    __slots__ = (
        "content_type",
        "directives",
        "explicit_freshness",
        "method",
        "path",
        "request_authorization",
        "request_no_store",
        "set_cookie",
        "status",
        "vary_star",
    )

    def __init__(
        self,
        method: bytes,
        path: bytes,
        status: int,
        directives: CacheControl,
        explicit_freshness: bool,  # s-maxage, max-age or Expires in the governing field(s)
        request_authorization: bool = False,
        request_no_store: bool = False,
        set_cookie: bool = False,
        content_type: bytes | None = None,
        vary_star: bool = False,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.directives = directives
        self.explicit_freshness = explicit_freshness
        self.request_authorization = request_authorization
        self.request_no_store = request_no_store
        self.set_cookie = set_cookie
        self.content_type = content_type
        self.vary_star = vary_star


RequestRule = Callable[[RequestFacts], Reason | None]
StoreRule = Callable[[ResponseFacts], Reason | None]


# --- Request rules: bypass the cache entirely ------------------------------------------------


def development_mode(f: RequestFacts) -> Reason | None:
    """The zone is in development mode: everything goes to the origin."""
    return Reason.DEVELOPMENT_MODE if f.development_mode else None


def cache_level_bypass(f: RequestFacts) -> Reason | None:
    """The zone's cache level is "bypass"."""
    return Reason.CACHE_LEVEL_BYPASS if f.bypass_cache else None


def method_not_cacheable(f: RequestFacts) -> Reason | None:
    """Only GET and HEAD are answered from the cache (RFC 9110 §9.2.3, RFC 9111 §2)."""
    return None if f.method in CACHEABLE_METHODS else Reason.METHOD


REQUEST_RULES: Final[tuple[RequestRule, ...]] = (
    development_mode,
    cache_level_bypass,
    method_not_cacheable,
)


# --- Storage rules: the response is not stored -----------------------------------------------


def response_to_head(f: ResponseFacts) -> Reason | None:
    """A HEAD response has no body to answer a later GET with."""
    return Reason.HEAD_RESPONSE if f.method == b"HEAD" else None


def status_not_storable(f: ResponseFacts) -> Reason | None:
    """Interim responses and 304 carry no representation to store (RFC 9111 §3)."""
    return Reason.STATUS if f.status < 200 or f.status == 304 else None


def partial_content(f: ResponseFacts) -> Reason | None:
    """206: the store keeps whole representations and cuts ranges from them (RFC 9111 §3.3)."""
    return Reason.PARTIAL if f.status == 206 else None


def status_understood(status: int, explicit_freshness: bool) -> bool:
    """Does Veil implement the caching rules of this status code (RFC 9111 §5.2.2.3)?"""
    return status in HEURISTICALLY_CACHEABLE or (
        explicit_freshness and status in UNDERSTOOD_WITH_EXPLICIT_FRESHNESS
    )


def must_understand_unknown_status(f: ResponseFacts) -> Reason | None:
    """must-understand: store only a status code whose caching rules we implement."""
    if f.directives.must_understand and not status_understood(f.status, f.explicit_freshness):
        return Reason.MUST_UNDERSTAND
    return None


def response_no_store(f: ResponseFacts) -> Reason | None:
    """no-store forbids storing, unless must-understand applies to a known status (§3)."""
    d = f.directives
    if not d.no_store:
        return None
    if d.must_understand and status_understood(f.status, f.explicit_freshness):
        return None  # §5.2.2.3: "caches ignore no-store if they understand the status code"
    return Reason.NO_STORE


def response_private(f: ResponseFacts) -> Reason | None:
    """Unqualified private: for one user's cache only (RFC 9111 §5.2.2.7)."""
    d = f.directives
    return Reason.PRIVATE if d.private and not d.private_fields else None


def request_no_store(f: ResponseFacts) -> Reason | None:
    """The request said no-store: store no part of the response (RFC 9111 §5.2.1.5)."""
    return Reason.REQUEST_NO_STORE if f.request_no_store else None


def authorization_not_shareable(f: ResponseFacts) -> Reason | None:
    """A response to a request with Authorization is shared only if it says so (§3.5)."""
    if not f.request_authorization:
        return None
    d = f.directives
    if d.public or d.s_maxage is not None or d.must_revalidate:
        return None
    return Reason.AUTHORIZATION


def vary_star(f: ResponseFacts) -> Reason | None:
    """Vary: * never matches a later request (RFC 9111 §4.1): storing it only wastes space."""
    return Reason.VARY_STAR if f.vary_star else None


def response_sets_cookie(f: ResponseFacts) -> Reason | None:
    """A response that sets a cookie is risky to share (unless private="set-cookie" strips it)."""
    if f.set_cookie and b"set-cookie" not in f.directives.private_fields:
        return Reason.SET_COOKIE
    return None


def error_without_explicit_freshness(f: ResponseFacts) -> Reason | None:
    """4xx/5xx are stored only when the origin says for how long (CPDoS: one bad request must
    not poison the URL for everyone)."""
    if f.status >= 400 and not f.explicit_freshness:
        return Reason.ERROR_WITHOUT_FRESHNESS
    return None


def not_cacheable(f: ResponseFacts) -> Reason | None:
    """No explicit freshness, not public, and not heuristically cacheable (RFC 9111 §3)."""
    if f.explicit_freshness or f.directives.public or f.status in HEURISTICALLY_CACHEABLE:
        return None
    return Reason.NOT_CACHEABLE


@dataclass(frozen=True, slots=True)
class TypeFamily:
    """The media types a file extension may legitimately be served as."""

    types: frozenset[bytes] = frozenset()
    prefixes: tuple[bytes, ...] = ()
    suffixes: tuple[bytes, ...] = ()
    binary: bool = False  # application/octet-stream is acceptable too

    def admits(self, media_type: bytes) -> bool:
        if media_type in self.types or media_type.startswith(self.prefixes):
            return True
        if self.suffixes and media_type.endswith(self.suffixes):
            return True
        return self.binary and media_type == b"application/octet-stream"


_SCRIPT = TypeFamily(
    types=frozenset(
        {
            b"text/javascript",
            b"application/javascript",
            b"application/x-javascript",
            b"application/ecmascript",
            b"text/ecmascript",
        }
    )
)
_JSON = TypeFamily(types=frozenset({b"application/json"}), suffixes=(b"+json",))
_IMAGE = TypeFamily(prefixes=(b"image/",), binary=True)
_FONT = TypeFamily(
    types=frozenset(
        {
            b"application/font-woff",
            b"application/x-font-woff",
            b"application/x-font-ttf",
            b"application/x-font-otf",
            b"application/font-sfnt",
            b"application/vnd.ms-fontobject",
        }
    ),
    prefixes=(b"font/",),
    binary=True,
)
_VIDEO = TypeFamily(prefixes=(b"video/",), types=frozenset({b"application/mp4"}), binary=True)
_AUDIO = TypeFamily(prefixes=(b"audio/",), binary=True)

# Cache deception armour: extensions that announce a static file, and what they may be.
EXTENSION_FAMILIES: Final[dict[bytes, TypeFamily]] = {
    b"css": TypeFamily(types=frozenset({b"text/css"})),
    b"js": _SCRIPT,
    b"mjs": _SCRIPT,
    b"json": _JSON,
    b"map": _JSON,
    b"txt": TypeFamily(types=frozenset({b"text/plain"})),
    b"xml": TypeFamily(types=frozenset({b"application/xml", b"text/xml"}), suffixes=(b"+xml",)),
    b"pdf": TypeFamily(types=frozenset({b"application/pdf"}), binary=True),
    b"wasm": TypeFamily(types=frozenset({b"application/wasm"}), binary=True),
    **dict.fromkeys(
        (b"jpg", b"jpeg", b"png", b"gif", b"webp", b"avif", b"svg", b"ico", b"bmp"), _IMAGE
    ),
    **dict.fromkeys((b"woff", b"woff2", b"ttf", b"otf", b"eot"), _FONT),
    **dict.fromkeys((b"mp4", b"m4v", b"webm", b"mov"), _VIDEO),
    **dict.fromkeys((b"mp3", b"m4a", b"ogg", b"oga", b"wav", b"flac", b"aac"), _AUDIO),
}


def path_extension(path: bytes) -> bytes:
    """The lower-cased extension of the path's last segment (after decoding %XX), or b""."""
    path = path.split(b"?", 1)[0]
    if b"%" in path:
        path = unquote_to_bytes(path)
    last = path.rsplit(b"/", 1)[-1]
    dot = last.rfind(b".")
    return last[dot + 1 :].lower() if dot >= 0 else b""


def content_type_contradicts_extension(f: ResponseFacts) -> Reason | None:
    """Cache deception armour: /account.php/x.css answered as text/html is not stored."""
    if f.content_type is None:
        return None  # nothing to contradict
    family = EXTENSION_FAMILIES.get(path_extension(f.path))
    if family is None:
        return None
    media_type = f.content_type.split(b";", 1)[0].strip().lower()
    return None if family.admits(media_type) else Reason.CONTENT_TYPE_MISMATCH


STORE_RULES: Final[tuple[StoreRule, ...]] = (
    response_to_head,
    status_not_storable,
    partial_content,
    must_understand_unknown_status,
    response_no_store,
    response_private,
    request_no_store,
    authorization_not_shareable,
    vary_star,
    response_sets_cookie,
    error_without_explicit_freshness,
    not_cacheable,
    content_type_contradicts_extension,
)
