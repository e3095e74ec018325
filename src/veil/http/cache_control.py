"""Cache-Control (RFC 9111 §5.2) and targeted cache fields (RFC 9213) parsed into one value. Pure.

Theory of operation. Two parsers fill the same frozen `CacheControl`:

- `parse_cache_control` reads every `Cache-Control` field line with RFC 9110 list syntax
  (`token [ "=" ( token / quoted-string ) ]`, commas inside quoted strings respected). It never
  raises and never guesses in the origin's favour: RFC 9111 §4.2.1 asks a cache to treat
  duplicated or invalid freshness information conservatively, so an invalid delta-seconds
  (`max-age=soon`, `max-age=-1`, a missing value) reads as 0 — stale — and a directive given
  twice keeps its most restrictive value (the smaller lifetime, the larger min-fresh).
- `parse_targeted` reads a targeted field (`CDN-Cache-Control`, `Veil-Cache-Control`) the way
  RFC 9213 §2.2 requires: as a Structured Fields Dictionary (RFC 8941 §4.2.2). A field that fails
  to parse, or is empty, is ignored (None); a member whose value has the wrong type
  (`max-age="60"`, `max-age=1.5`) is treated as invalid, i.e. conservatively as above. A key
  given twice keeps the last value (RFC 8941 dictionary semantics).

Numbers are clamped to 2**31 (RFC 9111 §1.2.2). Field names in no-cache/private lists are
lower-cased. Unknown directives are ignored (§5.2.3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

# RFC 9111 §1.2.2: a delta-seconds larger than we can represent is 2**31.
DELTA_SECONDS_MAX: Final = 2**31
# A bare `max-stale` (§5.2.1.2): any staleness is acceptable; 2**31 s is "any" in practice.
MAX_STALE_ANY: Final = DELTA_SECONDS_MAX
# Parsed values are memoised per field value (origins repeat theirs on every response); the
# memo stops growing at this many entries, so values from the wire cannot grow memory.
MEMO_LIMIT: Final = 2048


@dataclass(frozen=True, slots=True)
class CacheControl:
    """The directives of one message's Cache-Control (or targeted) fields.

    `no_cache`/`private` are True when the directive is present; the matching `*_fields` set
    names the fields it is limited to, and is empty when the directive is unqualified.
    """

    max_age: int | None = None
    s_maxage: int | None = None
    max_stale: int | None = None
    min_fresh: int | None = None
    stale_while_revalidate: int | None = None  # RFC 5861 §3
    stale_if_error: int | None = None  # RFC 5861 §4
    no_store: bool = False
    no_cache: bool = False
    no_cache_fields: frozenset[bytes] = frozenset()
    private: bool = False
    private_fields: frozenset[bytes] = frozenset()
    must_revalidate: bool = False
    proxy_revalidate: bool = False
    public: bool = False
    must_understand: bool = False
    no_transform: bool = False
    only_if_cached: bool = False
    immutable: bool = False


EMPTY: Final = CacheControl()

_cc_memo: Final[dict[bytes | tuple[bytes, ...], CacheControl]] = {}
_targeted_memo: Final[dict[bytes, CacheControl | None]] = {}

# directive -> attribute. Deltas: duplicates keep the minimum, except min-fresh (maximum).
_DELTAS: Final = {
    b"max-age": "max_age",
    b"s-maxage": "s_maxage",
    b"max-stale": "max_stale",
    b"min-fresh": "min_fresh",
    b"stale-while-revalidate": "stale_while_revalidate",
    b"stale-if-error": "stale_if_error",
}
# Directives that only restrict: present with any argument counts as present (conservative).
_RESTRICTIVE: Final = {
    b"no-store": "no_store",
    b"must-revalidate": "must_revalidate",
    b"proxy-revalidate": "proxy_revalidate",
    b"no-transform": "no_transform",
    b"only-if-cached": "only_if_cached",
}
# Directives that grant something: §5.2 defines no argument, so one makes them invalid.
_PERMISSIVE: Final = {
    b"public": "public",
    b"immutable": "immutable",
    b"must-understand": "must_understand",
}
_LISTS: Final = {b"no-cache": "no_cache", b"private": "private"}

_INVALID: Final = object()  # an argument that is present but unusable


def _delta(arg: bytes) -> int:
    """delta-seconds (§1.2.2): digits only, clamped to 2**31; anything else is invalid (0)."""
    if not arg.isdigit():
        return 0  # §4.2.1: invalid freshness information is treated as stale
    if len(arg) > 10:
        return DELTA_SECONDS_MAX
    return min(int(arg), DELTA_SECONDS_MAX)


def _field_names(arg: bytes) -> frozenset[bytes]:
    return frozenset(n for part in arg.split(b",") if (n := part.strip().lower()))


class _Builder:
    """Accumulates directives conservatively; both parsers feed it."""

    __slots__ = ("kw", "lists")

    def __init__(self) -> None:
        self.kw: dict[str, Any] = {}
        self.lists: dict[str, frozenset[bytes] | None] = {}  # None: unqualified

    def delta(self, name: bytes, value: int) -> None:
        attr = _DELTAS[name]
        old = self.kw.get(attr)
        if old is not None:
            value = max(old, value) if attr == "min_fresh" else min(old, value)
        self.kw[attr] = value

    def flag(self, attr: str) -> None:
        self.kw[attr] = True

    def field_list(self, attr: str, names: frozenset[bytes] | None) -> None:
        """no-cache / private: unqualified wins over any list (§5.2.2.4, §5.2.2.7)."""
        if not names:
            self.lists[attr] = None
        elif attr not in self.lists:
            self.lists[attr] = names
        elif (old := self.lists[attr]) is not None:
            self.lists[attr] = old | names

    def build(self) -> CacheControl:
        if not self.kw and not self.lists:
            return EMPTY
        for attr, names in self.lists.items():
            self.kw[attr] = True
            if names:
                self.kw[attr + "_fields"] = names
        return CacheControl(**self.kw)


# --- Cache-Control: RFC 9110 §5.6.1 lists, RFC 9111 §5.2 directives ------------------------


def _members(value: bytes) -> list[bytes]:
    """Split a list on commas outside quoted strings (RFC 9110 §5.6.4)."""
    if b'"' not in value:
        return value.split(b",")
    parts: list[bytes] = []
    start = 0
    quoted = escaped = False
    for i, c in enumerate(value):
        if escaped:
            escaped = False
        elif quoted:
            if c == 0x5C:
                escaped = True
            elif c == 0x22:
                quoted = False
        elif c == 0x22:
            quoted = True
        elif c == 0x2C:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return parts


def _unquote(arg: bytes) -> bytes | None:
    """The content of a quoted-string (RFC 9110 §5.6.4), or None when it is malformed."""
    if len(arg) < 2 or not arg.endswith(b'"'):
        return None
    inner = arg[1:-1]
    if b"\\" not in inner:
        return None if b'"' in inner else inner
    out = bytearray()
    it = iter(inner)
    for c in it:
        if c == 0x5C:
            c = next(it, -1)
            if c < 0:
                return None
        elif c == 0x22:
            return None
        out.append(c)
    return bytes(out)


def _directive(b: _Builder, name: bytes, arg: bytes | None) -> None:
    if name in _DELTAS:
        if arg is None and name == b"max-stale":
            b.delta(name, MAX_STALE_ANY)  # §5.2.1.2: no value means any staleness
        else:
            b.delta(name, 0 if arg is None else _delta(arg))
    elif name in _RESTRICTIVE:
        b.flag(_RESTRICTIVE[name])
    elif name in _PERMISSIVE:
        if arg is None:
            b.flag(_PERMISSIVE[name])
    elif name in _LISTS:
        b.field_list(_LISTS[name], None if arg is None else _field_names(arg))


def parse_cache_control(values: Sequence[bytes]) -> CacheControl:
    """The directives of all Cache-Control field lines (RFC 9111 §5.2). Never raises."""
    key = values[0] if len(values) == 1 else tuple(values)
    parsed = _cc_memo.get(key)
    if parsed is None:
        parsed = _parse_cache_control(values)
        if len(_cc_memo) < MEMO_LIMIT:
            _cc_memo[key] = parsed
    return parsed


def _parse_cache_control(values: Sequence[bytes]) -> CacheControl:
    b = _Builder()
    for value in values:
        for member in _members(value):
            name, eq, arg = member.partition(b"=")
            name = name.strip().lower()
            if not name:
                continue
            if not eq:
                _directive(b, name, None)
                continue
            arg = arg.strip()
            if arg.startswith(b'"'):
                # §5.2: recipients accept the quoted form even where a token is required.
                unquoted = _unquote(arg)
                arg = b"" if unquoted is None else unquoted  # malformed: invalid everywhere
            _directive(b, name, arg)
    return b.build()


# --- Targeted fields: RFC 9213 §2.2, Structured Fields Dictionary (RFC 8941 §4.2.2) ---------

_LCALPHA: Final = frozenset(b"abcdefghijklmnopqrstuvwxyz")
_KEY_CHARS: Final = _LCALPHA | frozenset(b"0123456789_-.*")
_DIGITS: Final = frozenset(b"0123456789")
_TCHAR: Final = frozenset(b"!#$%&'*+-.^_`|~:/0123456789") | frozenset(
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_BASE64: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


class _SFError(Exception):
    """The field is not a valid Structured Fields Dictionary."""


class _SF:
    """A minimal RFC 8941 parser: enough to validate a Dictionary and type its values."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def peek(self) -> int:
        return self.data[self.pos] if self.pos < len(self.data) else -1

    def skip(self, chars: bytes) -> None:
        while self.pos < len(self.data) and self.data[self.pos] in chars:
            self.pos += 1

    def take(self, allowed: frozenset[int]) -> bytes:
        start = self.pos
        while self.pos < len(self.data) and self.data[self.pos] in allowed:
            self.pos += 1
        return self.data[start : self.pos]

    def key(self) -> bytes:  # §4.2.3.3
        if self.peek() not in _LCALPHA and self.peek() != 0x2A:
            raise _SFError
        return self.take(_KEY_CHARS)

    def dictionary(self) -> dict[bytes, object]:  # §4.2.2
        members: dict[bytes, object] = {}
        while self.pos < len(self.data):
            name = self.key()
            if self.peek() == 0x3D:  # "="
                self.pos += 1
                members[name] = self.member()
            else:
                members[name] = True
                self.parameters()
            self.skip(b" \t")
            if self.pos >= len(self.data):
                break
            if self.peek() != 0x2C:
                raise _SFError
            self.pos += 1
            self.skip(b" \t")
            if self.pos >= len(self.data):
                raise _SFError  # trailing comma
        return members

    def member(self) -> object:
        if self.peek() == 0x28:  # "(": an inner list, §4.2.1.2
            self.pos += 1
            while True:
                self.skip(b" ")
                if self.peek() == 0x29:
                    self.pos += 1
                    break
                self.bare_item()
                self.parameters()
                if self.peek() not in (0x20, 0x29):
                    raise _SFError
            self.parameters()
            return _INVALID
        value = self.bare_item()
        self.parameters()
        return value

    def parameters(self) -> None:  # §4.2.3.2; parameters are ignored (RFC 9213 §2.2)
        while self.peek() == 0x3B:
            self.pos += 1
            self.skip(b" ")
            self.key()
            if self.peek() == 0x3D:
                self.pos += 1
                self.bare_item()

    def bare_item(self) -> object:  # §4.2.3.1
        c = self.peek()
        if c == 0x2D or c in _DIGITS:
            return self.number()
        if c == 0x22:
            return self.string()
        if c == 0x3F:  # "?": Boolean
            flag = self.data[self.pos + 1 : self.pos + 2]
            if flag not in (b"0", b"1"):
                raise _SFError
            self.pos += 2
            return flag == b"1"
        if c == 0x3A:  # ":": Byte Sequence
            self.pos += 1
            self.take(_BASE64)
            if self.peek() != 0x3A:
                raise _SFError
            self.pos += 1
            return _INVALID
        if c == 0x2A or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A:  # Token
            self.take(_TCHAR)
            return _INVALID
        raise _SFError

    def number(self) -> object:  # §4.2.4
        negative = self.peek() == 0x2D
        self.pos += negative
        whole = self.take(_DIGITS)
        if not whole or len(whole) > 15:
            raise _SFError
        if self.peek() != 0x2E:
            return -int(whole) if negative else int(whole)
        self.pos += 1
        frac = self.take(_DIGITS)
        if len(whole) > 12 or not 1 <= len(frac) <= 3:
            raise _SFError
        return _INVALID  # a Decimal: no cache directive takes one

    def string(self) -> bytes:  # §4.2.5
        self.pos += 1
        out = bytearray()
        while self.pos < len(self.data):
            c = self.data[self.pos]
            self.pos += 1
            if c == 0x5C:
                nxt = self.peek()
                if nxt not in (0x22, 0x5C):
                    raise _SFError
                out.append(nxt)
                self.pos += 1
            elif c == 0x22:
                return bytes(out)
            elif not 0x20 <= c <= 0x7E:
                raise _SFError
            else:
                out.append(c)
        raise _SFError


def _targeted_directive(b: _Builder, name: bytes, value: object) -> None:
    """Map one typed member onto the directive (RFC 9213 §2.2's inferred constraints)."""
    if name in _DELTAS:
        seconds = 0  # a String, Decimal, Token or negative number is invalid: stale (§4.2.1)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            seconds = min(value, DELTA_SECONDS_MAX)
        b.delta(name, seconds)
    elif name in _RESTRICTIVE:
        if value is not False:
            b.flag(_RESTRICTIVE[name])
    elif name in _PERMISSIVE:
        if value is True:
            b.flag(_PERMISSIVE[name])
    elif name in _LISTS:
        names = _field_names(value) if isinstance(value, bytes) else None
        if value is not False:
            b.field_list(_LISTS[name], names)


def parse_targeted(values: Sequence[bytes]) -> CacheControl | None:
    """A targeted field's directives (RFC 9213 §2.2), or None when it is empty or invalid."""
    joined = b",".join(s for v in values if (s := v.strip(b" \t")))
    if joined in _targeted_memo:
        return _targeted_memo[joined]
    parsed = _parse_targeted(joined)
    if len(_targeted_memo) < MEMO_LIMIT:
        _targeted_memo[joined] = parsed
    return parsed


def _parse_targeted(joined: bytes) -> CacheControl | None:
    if not joined:
        return None
    try:
        members = _SF(joined).dictionary()
    except _SFError:
        return None
    b = _Builder()
    for name, value in members.items():
        _targeted_directive(b, name, value)
    return b.build()


def directive_members(value: bytes) -> list[bytes]:
    """The raw, stripped members of one Cache-Control value (for rewriting it)."""
    return [m for part in _members(value) if (m := part.strip())]
