"""Secondary cache keys (RFC 9111 §4.1): may this stored variant answer this request? Pure.

Theory of operation. A stored response carrying `Vary` was chosen by the origin from the
request fields it names. When the edge stores it, it computes `variant_key(names, request)`
from the request that caused the response to be stored and keeps those bytes beside the
response; on a lookup it computes the same for the new request and compares bytes. The key is
deterministic (names sorted, lower-cased, de-duplicated; values normalised as §4.1 allows) so
that two requests match exactly when §4.1 says they do, and cheap: one pass over the request
per nominated field, no regex.

Accept-Encoding is normalised harder than §4.1's generic rules: it is replaced by the coding
the edge would serve (`choose_coding`), so "gzip, br" and "br;q=1, gzip;q=0.5" share a variant.
That is the normalisation "known to have identical semantics" for a cache that serves only
identity, gzip, br and zstd: two requests whose best coding is the same get the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

Header = tuple[bytes, bytes]

# The Vary value a stored response gets when Vary contains "*" (RFC 9111 §4.1: never matches).
VARY_STAR: Final[tuple[bytes, ...]] = (b"*",)

# Codings the edge can serve besides identity, in the edge's order of preference (ties in
# q-value go to the earlier one: br compresses text best, zstd decodes fastest, gzip is universal).
DEFAULT_CODINGS: Final[tuple[bytes, ...]] = (b"br", b"zstd", b"gzip")

IDENTITY: Final = b"identity"

_MEMO_LIMIT: Final = 1024
_coding_memo: Final[dict[bytes, bytes]] = {}


def field_lines(headers: Sequence[Header], name: bytes) -> list[bytes]:
    """Every value of the field `name` (given lower-case), in order; names match in any case."""
    size = len(name)
    return [v for k, v in headers if len(k) == size and k.lower() == name]


def normalise_value(lines: Sequence[bytes]) -> bytes:
    """One canonical value for a field's lines (RFC 9111 §4.1).

    §4.1 lets two requests match after "combining multiple header field lines with the same
    field name" (RFC 9110 §5.3: joined by commas) and "adding or removing whitespace, where
    allowed in the header field's syntax": list members lose their OWS and empty members
    (RFC 9110 §5.6.1). Values are not case-folded: that depends on each field's definition.
    """
    value = lines[0] if len(lines) == 1 else b",".join(lines)
    if b"," not in value:
        return value.strip()
    return b",".join(m for m in (p.strip() for p in value.split(b",")) if m)


def combined_value(headers: Sequence[Header], name: bytes) -> bytes | None:
    """The normalised value of field `name`, or None when the request lacks it."""
    lines = field_lines(headers, name)
    return normalise_value(lines) if lines else None


def vary_names(stored_headers: Sequence[Header]) -> tuple[bytes, ...]:
    """The field names a stored response varies on: sorted, lower-case, unique.

    () when there is no Vary; VARY_STAR when any member is "*" (RFC 9110 §12.5.5).
    """
    names: set[bytes] = set()
    for value in field_lines(stored_headers, b"vary"):
        for member in value.split(b","):
            name = member.strip().lower()
            if name == b"*":
                return VARY_STAR
            if name:
                names.add(name)
    return tuple(sorted(names))


def _qvalue(raw: bytes) -> float | None:
    """RFC 9110 §12.4.2 qvalue: "0" ["." 0*3DIGIT] / "1" ["." 0*3"0"]; anything else is None."""
    if raw == b"0" or raw == b"1":
        return float(raw)
    if not 2 <= len(raw) <= 5 or raw[1:2] != b".":
        return None
    frac = raw[2:]
    if frac and not frac.isdigit():
        return None
    if raw[:1] == b"0":
        return float(raw)
    return 1.0 if raw[:1] == b"1" and not frac.strip(b"0") else None


def _preferences(accept_encoding: bytes) -> dict[bytes, float]:
    """Coding -> q from an Accept-Encoding value (RFC 9110 §12.5.3); bad members are skipped."""
    prefs: dict[bytes, float] = {}
    for member in accept_encoding.split(b","):
        coding, _, params = member.partition(b";")
        coding = coding.strip().lower()
        if not coding:
            continue
        q: float | None = 1.0
        for param in params.split(b";") if params else ():
            key, _, raw = param.partition(b"=")
            if key.strip().lower() == b"q":
                q = _qvalue(raw.strip())
        if q is None:
            continue
        if coding == b"x-gzip":  # RFC 9110 §8.4.1.3: x-gzip is an alias of gzip
            coding = b"gzip"
        prefs.setdefault(coding, q)
    return prefs


def _choose(accept_encoding: bytes, codings: Sequence[bytes]) -> bytes:
    prefs = _preferences(accept_encoding)
    star = prefs.get(b"*")
    # RFC 9110 §12.5.3: a coding not listed is acceptable only through "*". Identity is always
    # acceptable unless excluded, but only as a fallback: its preference is what the client
    # says of it (or of "*"), else 0, so "gzip;q=0.5" still gets gzip.
    best, best_q = IDENTITY, prefs.get(IDENTITY, 0.0 if star is None else star)
    for coding in codings:
        q = prefs.get(coding, star if star is not None else 0.0)
        if q > 0.0 and (q > best_q or (q == best_q and best == IDENTITY)):
            best, best_q = coding, q
    # §12.5.3: when nothing acceptable is available the server MAY send no content coding.
    return best


def choose_coding(
    accept_encoding: bytes | None, codings: Sequence[bytes] = DEFAULT_CODINGS
) -> bytes:
    """The content coding to serve for an Accept-Encoding value: one of `codings` or identity.

    Highest q-value wins; a tie goes to the earlier entry of `codings`, and any coding beats
    identity at equal q. No Accept-Encoding at all gets identity: RFC 9110 §12.5.3 would allow
    any coding, but clients that send none are often ones that cannot decode (curl, bots).
    """
    if accept_encoding is None:
        return IDENTITY
    if codings is not DEFAULT_CODINGS:
        return _choose(accept_encoding, codings)
    found = _coding_memo.get(accept_encoding)
    if found is None:
        found = _choose(accept_encoding, codings)
        if len(_coding_memo) < _MEMO_LIMIT:  # values come from the wire: bounded memo
            _coding_memo[accept_encoding] = found
    return found


def variant_key(
    names: Sequence[bytes],
    request_headers: Sequence[Header],
    *,
    codings: Sequence[bytes] = DEFAULT_CODINGS,
) -> bytes:
    """The secondary key of a request for a response varying on `names` (from `vary_names`).

    b"" when nothing varies. Each name contributes `name:value` (value normalised), or
    `name\\0` when the request lacks the field: §4.1 says an absent field matches only an
    absent field, and NUL never occurs in a field value (RFC 9110 §5.5), so absent and empty
    differ. Members are joined by LF, which no value contains either.
    """
    if not names:
        return b""
    parts = []
    for name in names:
        lines = field_lines(request_headers, name)
        if name == b"accept-encoding":
            # choose_coding reads OWS itself; a single line goes to its memo as sent.
            raw = (lines[0] if len(lines) == 1 else b",".join(lines)) if lines else None
            value = choose_coding(raw, codings)
            parts.append(name + b":" + value)
        elif lines:
            parts.append(name + b":" + normalise_value(lines))
        else:
            parts.append(name + b"\x00")
    return parts[0] if len(parts) == 1 else b"\n".join(parts)


def variant_matches(
    names: Sequence[bytes],
    stored_key: bytes,
    request_headers: Sequence[Header],
    *,
    codings: Sequence[bytes] = DEFAULT_CODINGS,
) -> bool:
    """True when a variant stored under `stored_key` may answer this request (RFC 9111 §4.1).

    A response whose Vary holds "*" never matches (§4.1: "always fails to match").
    """
    if not names:
        return True
    if names == VARY_STAR:
        return False
    return variant_key(names, request_headers, codings=codings) == stored_key
