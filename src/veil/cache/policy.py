"""The shared-cache policy of RFC 9111, with RFC 9213 targeting, as pure decisions.

Theory of operation. A request meets the policy twice:

1. `request_decision()` on every request: look the URL up, or bypass the cache (with a
   `Reason` and the RFC 9211 `fwd` value). The request's Cache-Control is parsed here, once.
   Authorization does not bypass: RFC 9111 §3.5 lets a shared cache reuse a response for such
   a request when the response allows it (public, s-maxage, must-revalidate), so the decision
   says "look up, but note Authorization" and both reuse (`freshness.reuse`) and storage
   (`rules.authorization_not_shareable`) honour it.
2. `store_decision()` once per origin response on a miss: is it stored, and if so with which
   `EntryPolicy` (lifetime, corrected initial age, stale windows, revalidation flags).

Which field governs (RFC 9213 §2.1). Veil's target list is [Veil-Cache-Control,
CDN-Cache-Control]: the first of them that is present, parses as a Structured Fields
Dictionary and is non-empty is *the* policy for this cache, and Cache-Control and Expires are
then ignored entirely — including their no-store and private. That is what §2.1 says ("MUST
ignore the Cache-Control and Expires header fields in that response") and what its examples
show (`CDN-Cache-Control: max-age=600` beside `Cache-Control: no-store` is stored by the CDN
for 600 s). Directives in the targeted field keep Cache-Control's semantics (§2.1), so its own
no-store, private, no-cache, must-revalidate and s-maxage apply. Fields that are not
cache directives (Set-Cookie, Vary, Authorization) are still judged by the rules.

A zone's edge TTL replaces the origin's freshness lifetime for this cache once a response is
storable; it does not make storable what the rules refuse, and no-cache / must-revalidate
keep their meaning. Its browser TTL rewrites the Cache-Control the visitor receives
(`client_cache_control`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from veil.cache.freshness import (
    HEURISTICALLY_CACHEABLE,
    EntryPolicy,
    age_value,
    corrected_initial_age,
    date_value,
    explicit_lifetime,
    heuristic_lifetime,
)
from veil.cache.reasons import Forward, Reason
from veil.cache.rules import (
    REQUEST_RULES,
    STORE_RULES,
    RequestFacts,
    RequestRule,
    ResponseFacts,
    StoreRule,
)
from veil.http.cache_control import (
    EMPTY,
    CacheControl,
    directive_members,
    parse_cache_control,
    parse_targeted,
)
from veil.http.headers import FieldNames

Headers = Sequence[tuple[bytes, bytes]]
Fields = dict[int, list[bytes]]  # the values of the fields the policy reads, by code

# RFC 9213 §2.1: Veil's target list, most specific first. The edge strips both before a
# response leaves (they are meant for Veil, not for the visitor's caches).
TARGET_LIST: Final = (b"veil-cache-control", b"cdn-cache-control")

# Response fields the policy reads, by code (0: not interesting).
_CC: Final = 1
_VEIL_CC: Final = 2
_CDN_CC: Final = 3
_EXPIRES: Final = 4
_DATE: Final = 5
_AGE: Final = 6
_LAST_MODIFIED: Final = 7
_SET_COOKIE: Final = 8
_CONTENT_TYPE: Final = 9
_VARY: Final = 10
_ETAG: Final = 11
_AUTHORIZATION: Final = 12
_SURROGATE: Final = 13
_FIELDS: Final = FieldNames(
    {
        b"cache-control": _CC,
        b"veil-cache-control": _VEIL_CC,
        b"cdn-cache-control": _CDN_CC,
        b"surrogate-control": _SURROGATE,
        b"expires": _EXPIRES,
        b"date": _DATE,
        b"age": _AGE,
        b"last-modified": _LAST_MODIFIED,
        b"set-cookie": _SET_COOKIE,
        b"content-type": _CONTENT_TYPE,
        b"vary": _VARY,
        b"etag": _ETAG,
        b"authorization": _AUTHORIZATION,
    }
)


def _collect(headers: Headers) -> Fields:
    """One pass over the fields: the values of each interesting field, by code."""
    found: Fields = {}
    memo = _FIELDS.memo
    for name, value in headers:
        code = memo.get(name)
        if code is None:
            code = _FIELDS.code(name)
        if code:
            if code in found:
                found[code].append(value)
            else:
                found[code] = [value]
    return found


_NONE: Final[list[bytes]] = []  # never appended to


# --- Request side ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestDecision:
    """Look the request up in the cache, or bypass it and say why."""

    lookup: bool
    reason: Reason | None = None  # why the cache is bypassed
    fwd: Forward | None = None  # Cache-Status fwd= when bypassed
    authorization: bool = False  # §3.5: stored responses must allow it; store only if allowed
    directives: CacheControl = EMPTY  # the request's Cache-Control (§5.2.1)


_LOOKUP: Final = RequestDecision(lookup=True)
_PLAIN: Final = {m: RequestFacts(method=m) for m in (b"GET", b"HEAD")}
# The methods for which no request rule fires when nothing else is set (rules are pure, so this
# holds for every such request): the common lookup skips walking them.
_PLAIN_LOOKUPS: Final = frozenset(
    m for m, facts in _PLAIN.items() if all(rule(facts) is None for rule in REQUEST_RULES)
)


def request_decision(
    method: bytes,
    headers: Headers,
    *,
    development_mode: bool = False,
    bypass_cache: bool = False,
    rules: tuple[RequestRule, ...] = REQUEST_RULES,
) -> RequestDecision:
    """Lookup or bypass for one request; the request rules are walked in order."""
    cache_control: list[bytes] = []
    authorization = False
    for name, value in headers:
        code = _FIELDS.memo.get(name)
        if code is None:
            code = _FIELDS.code(name)
        if code == _CC:
            cache_control.append(value)
        elif code == _AUTHORIZATION:
            authorization = True
    return scanned_request_decision(
        method,
        cache_control,
        authorization,
        development_mode=development_mode,
        bypass_cache=bypass_cache,
        rules=rules,
    )


def scanned_request_decision(
    method: bytes,
    cache_control: list[bytes] | None,
    authorization: bool,
    *,
    development_mode: bool = False,
    bypass_cache: bool = False,
    rules: tuple[RequestRule, ...] = REQUEST_RULES,
) -> RequestDecision:
    """`request_decision` for a request whose Cache-Control values and Authorization were
    already picked out of its header (the edge's one pass over it, `rewrite.scan_request`)."""
    plain = not development_mode and not bypass_cache and rules is REQUEST_RULES
    if not (plain and method in _PLAIN_LOOKUPS):
        facts = _PLAIN.get(method) if plain else None
        if facts is None:
            facts = RequestFacts(method, development_mode, bypass_cache)
        for rule in rules:
            if (reason := rule(facts)) is not None:
                fwd = Forward.METHOD if reason is Reason.METHOD else Forward.BYPASS
                return RequestDecision(lookup=False, reason=reason, fwd=fwd)
    if not cache_control and not authorization:
        return _LOOKUP
    directives = parse_cache_control(cache_control) if cache_control else EMPTY
    return RequestDecision(lookup=True, authorization=authorization, directives=directives)


# --- Response side ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoreDecision:
    """Store the response or not; if stored, the policy to keep beside it."""

    store: bool
    reason: Reason | None  # why not stored (Cache-Status detail=), None when stored
    policy: EntryPolicy  # lifetime, initial age, stale windows, revalidation flags
    governed_by: bytes  # which field set the policy: a targeted field or cache-control
    strip_fields: frozenset[bytes] = frozenset()  # private="..." fields: never stored (§5.2.2.7)

    @property
    def freshness_lifetime(self) -> int:
        return self.policy.lifetime


_NOTHING: Final = EntryPolicy(response_time=0.0, initial_age=0.0, lifetime=0)


def _governing(fields: Fields) -> tuple[CacheControl, bytes, list[bytes]]:
    """RFC 9213 §2.1: the first valid, non-empty targeted field, else Cache-Control.

    Returns the directives, the field's name and the Expires values that still count (none
    when a targeted field governs: "MUST ignore the Cache-Control and Expires header fields").
    """
    for code, name in ((_VEIL_CC, TARGET_LIST[0]), (_CDN_CC, TARGET_LIST[1])):
        if code in fields and (targeted := parse_targeted(fields[code])) is not None:
            return targeted, name, []
    if _SURROGATE in fields:
        # Surrogate-Control (W3C Edge Architecture 1.0): the older surrogate-targeted field,
        # Cache-Control syntax; it governs like a targeted field when it says anything.
        # Edge Architecture directives may name their surrogate (`max-age=60;edge1`): Veil
        # takes them all as its own (it announces no Surrogate-Capability to choose by).
        untargeted = [
            b",".join(part.split(b";", 1)[0] for part in value.split(b","))
            for value in fields[_SURROGATE]
        ]
        surrogate = parse_cache_control(untargeted)
        if surrogate != EMPTY:
            return surrogate, b"surrogate-control", []
    cc = parse_cache_control(fields[_CC]) if _CC in fields else EMPTY
    return cc, b"cache-control", fields.get(_EXPIRES, _NONE)


def _lifetime(
    d: CacheControl, explicit: int | None, status: int, date: float, fields: Fields
) -> int:
    """RFC 9111 §4.2.1: explicit lifetime, else the §4.2.2 heuristic where it is allowed."""
    if explicit is not None:
        return explicit
    if status in HEURISTICALLY_CACHEABLE or d.public:
        return heuristic_lifetime(date, fields.get(_LAST_MODIFIED, _NONE))
    return 0


_REFUSALS: Final[dict[tuple[Reason, bytes], StoreDecision]] = {}


def _refusal(reason: Reason, governed_by: bytes) -> StoreDecision:
    """A "not stored" decision; there are few of them and they are immutable: memoised."""
    key = (reason, governed_by)
    found = _REFUSALS.get(key)
    if found is None:
        found = _REFUSALS[key] = StoreDecision(False, reason, _NOTHING, governed_by)
    return found


def store_decision(
    *,
    request: RequestDecision,
    method: bytes,
    path: bytes,
    status: int,
    headers: Headers,
    request_time: float,
    response_time: float,
    edge_ttl: int | None = None,
    rules: tuple[StoreRule, ...] = STORE_RULES,
) -> StoreDecision:
    """May this origin response be stored by Veil, and with which policy (RFC 9111 §3, §4.2)?"""
    fields = _collect(headers)
    d, governed_by, expires = _governing(fields)
    date = date_value(fields.get(_DATE, _NONE), response_time)
    explicit = explicit_lifetime(d, expires, date)
    content_type = fields.get(_CONTENT_TYPE)
    facts = ResponseFacts(
        method=method,
        path=path,
        status=status,
        directives=d,
        explicit_freshness=explicit is not None,
        request_authorization=request.authorization,
        request_no_store=request.directives.no_store,
        set_cookie=_SET_COOKIE in fields,
        content_type=content_type[0] if content_type else None,
        vary_star=any(m.strip() == b"*" for v in fields.get(_VARY, _NONE) for m in v.split(b",")),
    )
    for rule in rules:
        if (reason := rule(facts)) is not None:
            return _refusal(reason, governed_by)

    lifetime = edge_ttl if edge_ttl is not None else _lifetime(d, explicit, status, date, fields)
    no_cache = d.no_cache and not d.no_cache_fields
    if no_cache:
        lifetime = 0  # §5.2.2.4: every reuse must be validated
    # §4.2.4 / §5.2.2.10: s-maxage carries proxy-revalidate's meaning for a shared cache.
    must_revalidate = d.must_revalidate or d.proxy_revalidate or d.s_maxage is not None
    stale_allowed = not (must_revalidate or no_cache)
    policy = EntryPolicy(
        response_time=response_time,
        initial_age=corrected_initial_age(
            age=age_value(fields.get(_AGE, _NONE)),
            date=date,
            request_time=request_time,
            response_time=response_time,
        ),
        lifetime=lifetime,
        stale_while_revalidate=(d.stale_while_revalidate or 0) if stale_allowed else 0,
        stale_if_error=(d.stale_if_error or 0) if stale_allowed else 0,
        must_revalidate=must_revalidate,
        no_cache=no_cache,
        authorized_reuse=d.public or d.s_maxage is not None or d.must_revalidate,  # §3.5
        revalidate_fields=d.no_cache_fields,
    )
    useless = policy.lifetime <= policy.initial_age and not (
        _ETAG in fields or _LAST_MODIFIED in fields or policy.stale_while_revalidate
    )
    if useless and not policy.stale_if_error:
        return _refusal(Reason.STALE_ON_ARRIVAL, governed_by)
    return StoreDecision(True, None, policy, governed_by, d.private_fields)


# --- What the visitor's caches are told ------------------------------------------------------


def client_cache_control(values: Sequence[bytes], *, browser_ttl: int | None) -> bytes | None:
    """The Cache-Control to send the visitor under the zone's browser TTL, or None to pass the
    origin's unchanged: the TTL lengthens a shorter (or missing) max-age and keeps every other
    directive; it never overrides no-store, private or no-cache, which are not TTLs."""
    if browser_ttl is None:
        return None
    cc = parse_cache_control(values) if values else EMPTY
    if (
        cc.no_store
        or (cc.private and not cc.private_fields)
        or (cc.no_cache and not cc.no_cache_fields)
    ):
        return None
    if cc.max_age is not None and cc.max_age >= browser_ttl:
        return None
    kept = [
        member
        for value in values
        for member in directive_members(value)
        if member.split(b"=", 1)[0].strip().lower() != b"max-age"
    ]
    kept.append(b"max-age=%d" % browser_ttl)
    return b", ".join(kept)
