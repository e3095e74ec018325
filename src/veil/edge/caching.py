"""The cache steps of an exchange: LOOKUP, HIT, MISS (fills and collapsing), revalidation,
stale serving and invalidation. The decisions are `veil.cache`'s; this module applies them.

An `Exchange` calls in at four points: `lookup` after PROTECT, `on_origin_head` when the
origin's response head arrives, `finish` when that response is complete, and `origin_failed`
before it would answer with an error page. Every response a cache-enabled zone sends carries
`Cache-Status` (RFC 9211); every hit carries the edge's `Age` (RFC 9111 §5.1).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Final

from veil.cache import status
from veil.cache.compression import compressible
from veil.cache.conditional import (
    Precondition,
    evaluate_preconditions,
    if_range_holds,
    merge_not_modified,
    not_modified_applies,
    not_modified_headers,
    validators_for_revalidation,
)
from veil.cache.freshness import USE_FORWARD, Use, current_age, may_serve_stale, reuse, ttl
from veil.cache.invalidation import (
    PurgeOutcome,
    invalidates,
    invalidation_keys,
    parse_cache_tags,
)
from veil.cache.keys import uri_key
from veil.cache.meta import VARIANTS, StoredMeta, variant_store_key
from veil.cache.policy import StoreDecision, scanned_request_decision, store_decision
from veil.cache.ranges import RangeOutcome, make_boundary, plan_ranges, starts_beyond
from veil.cache.reasons import Forward, Reason
from veil.cache.store import Entry
from veil.cache.vary import VARY_STAR, field_lines, variant_key, vary_names
from veil.edge import errors
from veil.edge.cache import (
    OTHER_PROCESS,
    CachedObject,
    EdgeCache,
    Fill,
    browser_fields,
    encode_all,
    zone_key,
)
from veil.edge.errors import ErrorKind, status_line
from veil.edge.phases import Phase
from veil.edge.rewrite import fill_request_fields, visitor_fields
from veil.http.cache_control import EMPTY
from veil.http.headers import Header

if TYPE_CHECKING:
    from veil.edge.exchange import Exchange
    from veil.snapshot import Route

SCHEME: Final = b"http"  # the visitor's scheme (the TLS issue adds https)
ORIGIN_FAILURES: Final = frozenset({502, 521, 522, 523, 524})
DEFAULT_EDGE_TTL: Final = 7200
# Under cache level cache_everything, a 200 refused only for lacking freshness is stored.
CACHE_EVERYTHING_OVERRIDES: Final = frozenset({Reason.NOT_CACHEABLE, Reason.STALE_ON_ARRIVAL})
REMOTE_POLL_SECONDS: Final = 0.01  # how often a waiter checks another process's fill
HOLD_LIMIT: Final = 8 * 1024 * 1024  # a multi-range on a miss waits for a fill up to this size
FILL_RANGES_BEFORE: Final = 1024 * 1024  # a Range on a miss starting past this is not filled
REMOTE_WAIT_LIMIT: Final = 30.0  # then it fetches for itself
INLINE_COMPRESS_MAX: Final = 256 * 1024  # larger bodies are compressed in a worker thread
# A digest of the stored body is about that body: a 304 never replaces it.
NEVER_UPDATED: Final = frozenset({b"content-md5", b"digest", b"content-digest", b"repr-digest"})


def _line(value: bytes) -> bytes:
    return b"Cache-Status: " + value + b"\r\n"


_AGE_LINES: Final[dict[int, bytes]] = {}  # `Age: N` lines of hits, memoised (bounded)


def _age_line(age: int) -> bytes:
    line = _AGE_LINES.get(age)
    if line is None:
        line = b"Age: %d\r\n" % age
        if len(_AGE_LINES) < 4096:
            _AGE_LINES[age] = line
    return line


_FORWARD_LINES: Final[dict[tuple[Forward, int | None, bool, str | None], bytes]] = {}


def forward_line(fwd: Forward, fwd_status: int | None, stored: bool, detail: str | None) -> bytes:
    """The Cache-Status field line of a forwarded request, memoised (a bounded handful of
    combinations repeats on every miss and pass)."""
    key = (fwd, fwd_status, stored, detail)
    line = _FORWARD_LINES.get(key)
    if line is None:
        value = status.forward(fwd, fwd_status=fwd_status, stored=stored, detail=detail)
        line = _line(value)
        if len(_FORWARD_LINES) < 4096:
            _FORWARD_LINES[key] = line
    return line


# --- LOOKUP ------------------------------------------------------------------------------------


def lookup(ex: Exchange, cache: EdgeCache, route: Route) -> bool:
    """LOOKUP: True when the exchange was answered from the cache or waits on a fill;
    False when it goes on to FETCH (as a MISS or a PASS)."""
    zone = route.zone
    settings = zone.cache
    now = cache.clock()
    scan = ex.scan
    decision = scanned_request_decision(
        ex.method,
        scan.cache_control,
        scan.authorization,
        development_mode=settings.development_mode_until > now,
    )
    key = None
    if decision.lookup:
        host = ex.host.encode()
        key = cache.key_for(zone.id, settings, SCHEME, host, ex.target, ex.request_headers)
    if key is None:
        detail = decision.reason or "cache-level-bypass"
        ex.cache_line = forward_line(decision.fwd or Forward.BYPASS, None, False, detail)
        ex.cache_log = "bypass"
        ex.advance(Phase.PASS)
        return False
    ex.cache_key = key
    ex.decision = decision
    ex.epoch = ex.client.ctx.snapshot.version
    ex.request_time = now
    if cache.skip_collapsing(key, now):
        # Hit-for-miss: the last response for this key was not storable. No lookup (a disk
        # miss costs a stat), no collapsing; the response is still judged, and stored if
        # it has become storable.
        ex.advance(Phase.MISS)
        return False
    obj, outcome, vary_miss = cache.lookup(key, ex.request_headers, ex.scan.accept_encoding)
    fwd = Forward.VARY_MISS if vary_miss else Forward.URI_MISS
    if obj is not None:
        use = reuse(
            obj.meta.policy,
            request=decision.directives,
            authorization=decision.authorization,
            now=now,
        )
        if ex.background or (
            outcome is PurgeOutcome.SOFT_PURGED and use in (Use.HIT, Use.STALE_WHILE_REVALIDATE)
        ):
            use = Use.REVALIDATE
        if use is Use.HIT:
            ex.advance(Phase.HIT)
            serve(ex, obj, status.hit(ttl(obj.meta.policy, now)), log="hit", now=now)
            return True
        if use is Use.STALE_WHILE_REVALIDATE:
            # RFC 5861 §3: served stale now, refreshed once in the background.
            refresh = key not in cache.fills
            ex.advance(Phase.HIT)
            serve(ex, obj, status.hit(ttl(obj.meta.policy, now)), log="stale", now=now)
            if refresh and key not in cache.fills:
                start_refresh(ex)
            return True
        if use is Use.GATEWAY_TIMEOUT:
            obj.release()
            ex.synth(errors.NOT_CACHED)
            return True
        if use is Use.AUTHORIZATION:
            obj.release()
            ex.cache_line = forward_line(Forward.BYPASS, None, False, "authorization")
            ex.cache_log = "bypass"
            ex.cache_key = None
            ex.advance(Phase.PASS)
            return False
        ex.stale = obj  # REVALIDATE / REVALIDATE_REQUEST: a conditional request goes out
        fwd = USE_FORWARD[use]
    elif decision.directives.only_if_cached:
        ex.synth(errors.NOT_CACHED)
        return True
    elif ex.scan.range is not None and starts_beyond(ex.scan.range, FILL_RANGES_BEFORE):
        # A seek far into an object that is not stored: the visitor's Range goes to the origin
        # (a fill starts at byte 0 and would make it wait for everything before its range).
        ex.cache_line = forward_line(fwd, None, False, "range-not-filled")
        ex.cache_log = "miss"
        ex.cache_key = None
        ex.advance(Phase.PASS)
        return False
    ex.fwd = fwd
    ex.advance(Phase.MISS)
    if ex.method != b"GET":
        return False  # HEAD fetches on its own (its response is not stored)
    fill = cache.fills.get(key)
    if fill is not None:
        fill.waiters.append(ex)
        ex.waiting = True
        return True
    lock = cache.lock_fill(key)
    if lock == OTHER_PROCESS:  # another worker fetches it: wait for its copy on disk
        fill = cache.fills[key] = Fill(key)
        fill.waiters.append(ex)
        ex.waiting = True
        _watch_remote(cache, fill, ex.client.ctx.loop, now + REMOTE_WAIT_LIMIT)
        return True
    ex.fill = cache.fills[key] = Fill(key)
    ex.fill.lock_fd = lock
    return False


def _watch_remote(
    cache: EdgeCache, fill: Fill, loop: asyncio.AbstractEventLoop, deadline: float
) -> None:
    """Poll for the object another worker process is fetching; when it is stored, its lock
    is free (it was not storable, or that process died) or the wait is too long, the waiters
    are served from the store or go to the origin themselves."""

    def poll() -> None:
        if cache.fills.get(fill.key) is not fill:
            return
        alive = [w for w in fill.waiters if w.phase is Phase.MISS and not w.client.gone]
        if not alive:
            del cache.fills[fill.key]
            return
        stored = cache.disk is not None and cache.disk.exists(fill.key)
        if not stored and cache.clock() < deadline:
            lock = cache.lock_fill(fill.key)
            if lock == OTHER_PROCESS:
                loop.call_later(REMOTE_POLL_SECONDS, poll)
                return
            cache.unlock_fill(lock)
        del cache.fills[fill.key]
        _serve_waiters(cache, fill)

    loop.call_later(REMOTE_POLL_SECONDS, poll)


def start_refresh(ex: Exchange) -> None:
    from veil.edge.server import start_refresh as start  # server imports exchange imports us

    start(ex)


def upstream_fields(ex: Exchange) -> list[Header]:
    """The visitor's fields as a cache fill sends them: whole objects, our own validators."""
    fields = fill_request_fields(ex.request_headers)
    if ex.stale is not None:
        fields.extend(validators_for_revalidation(list(ex.stale.meta.headers)))
    return fields


# --- HIT ---------------------------------------------------------------------------------------


def serve(ex: Exchange, obj: CachedObject, cache_status: bytes, *, log: str, now: float) -> None:
    """Answer from a stored response (HIT -> DELIVER): conditionals, ranges and HEAD included.
    `now` is the caller's reading of the cache clock (a hit reads it once, at lookup)."""
    ex.advance(Phase.DELIVER)
    ex.cache_log = log
    meta = obj.meta
    age = _age_line(int(current_age(meta.policy, now)))
    extra = b"".join((age, b"Cache-Status: ", cache_status, b"\r\n"))
    if ex.scan.conditional:
        verdict = evaluate_preconditions(
            ex.method, ex.request_headers, meta.headers, stored_status=meta.status
        )
        if verdict is not Precondition.PROCEED:
            code = 304 if verdict is Precondition.NOT_MODIFIED else 412
            fields = not_modified_headers(list(meta.headers)) if code == 304 else []
            obj.release()
            _write_cached_head(ex, status_line(code), fields, extra, b"Content-Length: 0\r\n")
            return ex.finish_cached()
    range_value = ex.scan.range
    if range_value is None:  # the common hit: a precomputed head, the whole body
        route = ex.route
        assert route is not None
        ex.write_edge_head(obj.head(route.zone.cache), obj.length_line(), extra)
        if ex.method == b"HEAD":
            obj.release()
            return ex.finish_cached()
        return ex.send_whole(obj)
    length = obj.entry.length
    head_status, fields = status_line_for(meta), list(meta.headers)
    pieces: list[bytes | slice] = [slice(0, length)]
    ranged = range_value is not None and meta.status == 200 and ex.method == b"GET"
    if range_value is not None and ranged and if_range_holds(ex.request_headers, meta.headers):
        plan = plan_ranges(
            range_value,
            length,
            boundary=make_boundary(os.urandom(12)),
            content_type=_content_type(meta.headers),
        )
        if plan.outcome is RangeOutcome.UNSATISFIABLE:
            obj.release()
            fields = list(plan.headers)
            _write_cached_head(ex, status_line(416), fields, extra, b"Content-Length: 0\r\n")
            return ex.finish_cached()
        if plan.outcome is RangeOutcome.PARTIAL:
            head_status = status_line(206)
            replaced = {n.lower() for n, _ in plan.headers}
            fields = [f for f in fields if f[0].lower() not in replaced] + list(plan.headers)
            pieces = list(plan.pieces)
            length = plan.content_length
    _write_cached_head(ex, head_status, fields, extra, b"Content-Length: %d\r\n" % length)
    if ex.method == b"HEAD":
        obj.release()
        return ex.finish_cached()
    ex.send_cached(obj, pieces)


def status_line_for(meta: StoredMeta) -> bytes:
    if meta.reason:
        return b"HTTP/1.1 %d %b\r\n" % (meta.status, meta.reason)
    return status_line(meta.status)


def _content_type(headers: Sequence[Header]) -> bytes | None:
    found = field_lines(headers, b"content-type")
    return found[0] if found else None


def _write_cached_head(
    ex: Exchange, line: bytes, fields: list[Header], extra: bytes, framing: bytes
) -> None:
    out = [line]
    for name, value in fields:
        out.append(name)
        out.append(b": ")
        out.append(value)
        out.append(b"\r\n")
    out.append(extra)
    ex.write_edge_head(b"".join(out), framing)


# --- the origin's answer ---------------------------------------------------------------------


def on_origin_head(ex: Exchange, status_code: int) -> bool:
    """The origin's response head for a cache-enabled request. True when the edge answers
    from the stored copy instead (304 to a revalidation, or stale-if-error on a 5xx)."""
    cache = ex.client.ctx.cache
    assert cache is not None and ex.cache_key is not None and ex.decision is not None
    now = cache.clock()
    stale = ex.stale
    if stale is not None:
        ex.stale = None
        if status_code == 304:
            ex.serve_after = (_revalidated(ex, cache, stale, now), 304)
            return True
        if status_code >= 500 and may_serve_stale(stale.meta.policy, now, error=True):
            ex.serve_after = (stale, status_code)
            return True
        stale.release()
    if ex.method != b"GET":
        ex.cache_line = forward_line(ex.fwd, status_code, False, None)
        return False
    _decide_storing(ex, cache, status_code, now)
    browser_ttl = ex.route.zone.cache.browser_ttl if ex.route is not None else None
    if browser_ttl is not None:  # the visitor's copy only: what is stored keeps the origin's
        ex.resp_headers = browser_fields(ex.resp_headers, browser_ttl)
    return False


def _revalidated(ex: Exchange, cache: EdgeCache, stale: CachedObject, now: float) -> CachedObject:
    """RFC 9111 §4.3.4: the 304's fields update the stored response, which is then served."""
    fresh_fields = visitor_fields(ex.resp_headers, ex.origin_authorities(), _visitor_host(ex))
    if not not_modified_applies(stale.meta.headers, fresh_fields):
        return stale  # a 304 about another representation updates nothing (§4.3.4)
    merged = merge_not_modified(list(stale.meta.headers), fresh_fields, exclude=NEVER_UPDATED)
    assert ex.decision is not None
    decision = store_decision(
        request=ex.decision,
        method=b"GET",
        path=_path(ex.target),
        status=stale.meta.status,
        headers=merged,
        request_time=ex.request_time,
        response_time=now,
        edge_ttl=_zone_edge_ttl(ex),
    )
    if not decision.store:
        cache.remove(stale.store_key)
        return stale
    meta = replace(stale.meta, headers=tuple(merged), policy=decision.policy, stored_at=ex.epoch)
    return cache.update(stale, meta)


def _judge(ex: Exchange, status_code: int, now: float, edge_ttl: int | None) -> StoreDecision:
    """`store_decision` for the origin's response to this exchange."""
    assert ex.decision is not None
    return store_decision(
        request=ex.decision,
        method=ex.method,
        path=_path(ex.target),
        status=status_code,
        headers=ex.resp_headers,
        request_time=ex.request_time,
        response_time=now,
        edge_ttl=edge_ttl,
    )


def _decide_storing(ex: Exchange, cache: EdgeCache, status_code: int, now: float) -> None:
    assert ex.cache_key is not None and ex.decision is not None
    route = ex.route
    assert route is not None
    zone_settings = route.zone.cache
    decision = _judge(ex, status_code, now, zone_settings.edge_ttl)
    if (
        not decision.store
        and zone_settings.level == "cache_everything"
        and decision.reason in CACHE_EVERYTHING_OVERRIDES
        and status_code == 200
    ):
        # Cache everything: a 200 the origin gave no freshness is kept for the zone's edge
        # TTL, or two hours (Cloudflare's default edge TTL for 200).
        decision = _judge(ex, status_code, now, zone_settings.edge_ttl or DEFAULT_EDGE_TTL)
    fwd_status = status_code if ex.fwd is Forward.STALE or ex.fwd is Forward.REQUEST else None
    if not decision.store:
        ex.cache_line = forward_line(ex.fwd, fwd_status, False, decision.reason)
        ex.cache_log = "miss"
        cache.remember_uncacheable(ex.cache_key, now)
        release_fill(ex)
        return
    names = vary_names(ex.resp_headers)
    if names == VARY_STAR:
        release_fill(ex)
        return
    variant = variant_key(names, ex.request_headers) if names else b""
    route = ex.route
    assert route is not None
    host = ex.host.encode()
    settings = cache.key_settings(route.zone.cache)
    fields = visitor_fields(ex.resp_headers, ex.origin_authorities(), _visitor_host(ex))
    if decision.strip_fields:
        fields = [f for f in fields if f[0].lower() not in decision.strip_fields]
    length_field = ex.response_length()
    meta = StoredMeta(
        status=status_code,
        reason=ex.resp_reason,
        headers=tuple(fields),
        policy=decision.policy,
        length=int(length_field) if length_field is not None else 0,
        zone=route.zone.id,
        url=uri_key(settings, scheme=SCHEME, host=host, target=ex.target),
        host=host.lower(),
        path=_path(ex.target),
        stored_at=ex.epoch,
        tags=parse_cache_tags(ex.resp_headers),
        vary=names,
        variant=variant,
    )
    store_key = ex.cache_key
    if names:
        cache.put_variants_record(store_key, replace(meta, status=VARIANTS, headers=(), length=0))
        store_key = variant_store_key(store_key, variant)
    ex.writer = cache.begin(store_key, meta, int(length_field) if length_field else None)
    ex.store_meta = meta
    ex.cache_line = forward_line(ex.fwd, fwd_status, True, None)
    ex.cache_log = "stored"
    if ex.writer is None or ex.background or status_code != 200:
        return
    if ex.scan.conditional and _conditional_on_miss(ex, fields, length_field):
        return
    if ex.scan.range is not None:
        _range_on_miss(ex, ex.scan.range, fields, length_field)


def _conditional_on_miss(ex: Exchange, fields: list[Header], length: bytes | None) -> bool:
    """A visitor's conditional on a miss (the fill asked without it): when the origin's
    fields show it would get 304 (or 412), the exchange holds until the object is stored and
    is answered from it (`serve_held`, as on a hit), for objects up to HOLD_LIMIT. Otherwise
    the 200 streams as for any miss. True when it holds."""
    verdict = evaluate_preconditions(ex.method, ex.request_headers, fields)
    if verdict is Precondition.PROCEED or length is None or int(length) > HOLD_LIMIT:
        return False
    ex.hold = True
    return True


def _range_on_miss(
    ex: Exchange, range_value: bytes, fields: list[Header], length: bytes | None
) -> None:
    """A Range on a miss of a 200 being stored. The fill asked the origin for the whole object
    (the visitor's Range is not forwarded) and stores it whole; the visitor gets its range:
    - one range: those bytes are passed on as a 206 while the whole body streams past
      (`Exchange.range_window`), so the first byte does not wait for the fill;
    - several ranges, or none satisfiable: the exchange holds until the object is stored and
      is answered from it (multipart 206 or 416, `serve_held`), for objects up to HOLD_LIMIT;
    - an ignored Range, a failed If-Range, a length the origin does not announce, or a larger
      object with several ranges: the whole 200, which a server may always send (RFC 9110
      §14.2)."""
    if length is None or not if_range_holds(ex.request_headers, fields):
        return
    size = int(length)  # llhttp accepted it: digits only
    plan = plan_ranges(
        range_value,
        size,
        boundary=make_boundary(os.urandom(12)),
        content_type=_content_type(fields),
    )
    if plan.outcome is RangeOutcome.PARTIAL and len(plan.ranges) == 1:
        first, last = plan.ranges[0]
        ex.range_window = (first, last + 1)
        ex.range_fields = plan.headers
    elif plan.outcome is not RangeOutcome.IGNORE and size <= HOLD_LIMIT:
        ex.hold = True


def finish(ex: Exchange, complete: bool) -> None:
    """The origin's response is over: commit what was written, wake the waiters."""
    writer = ex.writer
    ex.writer = None
    cache = ex.client.ctx.cache
    if writer is not None:
        if complete:
            entry = writer.commit()
            if entry is not None and not _compress(ex, cache, entry):
                entry.close()
        else:
            writer.abort()
    if cache is not None and ex.method not in (b"GET", b"HEAD") and ex.route is not None:
        _invalidate(ex, cache)
    release_fill(ex)


def _compress(ex: Exchange, cache: EdgeCache | None, entry: Entry) -> bool:
    """Compressed copies of a just-stored identity response (veil.cache.compression): at
    once for small bodies held in memory; otherwise read and encoded in a worker thread
    (pread, zlib, brotli and zstd release the GIL), which then owns `entry` and closes it.
    True when the thread took `entry`."""
    meta = ex.store_meta
    if cache is None or meta is None or meta.vary or meta.status != 200:
        return False
    no_transform = any(
        b"no-transform" in v.lower() for n, v in meta.headers if n.lower() == b"cache-control"
    )
    if not compressible(meta.headers, entry.length, no_transform=no_transform):
        return False
    key = entry.key
    if entry.body is not None and entry.length <= INLINE_COMPRESS_MAX:
        cache.add_encodings(key, meta, entry.body)
        return False
    size = entry.length
    future = ex.client.ctx.loop.run_in_executor(None, _read_and_encode, entry)

    def stored(done: asyncio.Future[list[tuple[bytes, bytes]]]) -> None:
        entry.close()
        if not done.cancelled() and done.exception() is None:
            cache.store_encodings(key, meta, size, done.result())

    future.add_done_callback(stored)
    return True


def _read_and_encode(entry: Entry) -> list[tuple[bytes, bytes]]:
    """In a worker thread: the stored body, encoded in every coding the edge serves."""
    return encode_all(entry.body if entry.body is not None else entry.read())


def release_fill(ex: Exchange) -> None:
    """Hand the key's waiters what the fill stored, or send them to the origin."""
    fill = ex.fill
    if fill is None:
        return
    ex.fill = None
    cache = ex.client.ctx.cache
    assert cache is not None
    if cache.fills.get(fill.key) is fill:
        del cache.fills[fill.key]
    cache.unlock_fill(fill.lock_fd)
    fill.lock_fd = -1
    _serve_waiters(cache, fill)


def _serve_waiters(cache: EdgeCache, fill: Fill) -> None:
    for waiter in fill.waiters:
        if waiter.phase is not Phase.MISS or waiter.client.gone:
            continue
        waiter.waiting = False
        obj, _, _ = cache.lookup(fill.key, waiter.request_headers, waiter.scan.accept_encoding)
        if obj is not None:
            now = cache.clock()
            use = reuse(
                obj.meta.policy,
                request=waiter.decision.directives if waiter.decision else EMPTY,
                authorization=False,
                now=now,
            )
            if use is Use.HIT:
                waiter.advance(Phase.HIT)
                serve(
                    waiter, obj, status.collapsed_hit(ttl(obj.meta.policy, now)), log="hit", now=now
                )
                continue
            obj.release()
        waiter.fetch_now()


def origin_failed(ex: Exchange, kind: ErrorKind) -> bool:
    """The origin could not be used. True when the edge answered from a stale copy (RFC
    5861 §4) or with 504 (a copy that must be revalidated, RFC 9111 §4.2.4)."""
    release_fill(ex)
    stale = ex.stale
    if stale is None or kind.status not in ORIGIN_FAILURES:
        return False
    ex.stale = None
    cache = ex.client.ctx.cache
    assert cache is not None
    now = cache.clock()
    if may_serve_stale(stale.meta.policy, now, error=True):
        ex.advance(Phase.HIT)
        value = status.forward(Forward.STALE, fwd_status=kind.status, detail="stale-if-error")
        serve(ex, stale, value, log="stale", now=now)
        return True
    stale.release()
    if stale.meta.policy.must_revalidate or stale.meta.policy.no_cache:
        ex.synth_plain(errors.MUST_REVALIDATE)
        return True
    return False


def serve_held(ex: Exchange) -> None:
    """The whole object a held exchange was waiting for is stored: answer its ranges or its
    conditional from it (206, 416, 304, 412 as on a hit). If it could not be stored after all,
    the visitor gets 502."""
    ex.hold = False
    cache = ex.client.ctx.cache
    assert cache is not None and ex.cache_key is not None
    obj, _, _ = cache.lookup(ex.cache_key, ex.request_headers, ex.scan.accept_encoding)
    if obj is None:
        return ex.synth_plain(errors.BAD_GATEWAY)
    ex.advance(Phase.HIT)
    value = status.forward(ex.fwd, stored=True)
    serve(ex, obj, value, log="stored", now=cache.clock())


def serve_after_origin(ex: Exchange) -> None:
    """After the origin's 304 or 5xx was read: serve the stored copy."""
    assert ex.serve_after is not None
    obj, origin_status = ex.serve_after
    ex.serve_after = None
    ex.advance(Phase.HIT)
    if origin_status == 304:
        value = status.forward(Forward.STALE, fwd_status=304, stored=True)
        log = "revalidated"
    else:
        value = status.forward(Forward.STALE, fwd_status=origin_status, detail="stale-if-error")
        log = "stale"
    release_fill(ex)
    cache = ex.client.ctx.cache
    assert cache is not None
    serve(ex, obj, value, log=log, now=cache.clock())


def _invalidate(ex: Exchange, cache: EdgeCache) -> None:
    """RFC 9111 §4.4: a successful unsafe request invalidates its URI, Location and
    Content-Location."""
    if not invalidates(ex.method, ex.resp_status):
        return
    route = ex.route
    assert route is not None
    settings = cache.key_settings(route.zone.cache)
    for key in invalidation_keys(
        settings,
        method=ex.method,
        status=ex.resp_status,
        scheme=SCHEME,
        host=ex.host.encode(),
        target=ex.target,
        response_headers=ex.resp_headers,
    ):
        cache.remove(zone_key(route.zone.id, key))


def _path(target: bytes) -> bytes:
    return target.split(b"?", 1)[0]


def _visitor_host(ex: Exchange) -> bytes:
    return ex.scan.hosts[0] if ex.scan.hosts else ex.host.encode()


def _zone_edge_ttl(ex: Exchange) -> int | None:
    route = ex.route
    return route.zone.cache.edge_ttl if route is not None else None
