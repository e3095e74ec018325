"""Tier (c): the edge's HTTP cache with a real origin process and a real edge process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.procs import Edge, snapshot_doc, start_edge, start_origin

HOST = {"Host": "site.test"}


@pytest.fixture
def origin() -> Iterator[int]:
    """A fresh origin per test: its fetch counters start at zero."""
    proc, port = start_origin()
    yield port
    proc.terminate()
    proc.wait(5)


@pytest.fixture
def edge(origin: int, tmp_path: Path) -> Iterator[Edge]:
    e = start_edge(tmp_path, snapshot_doc(origin, read_timeout=3.0, connect_timeout=1.0))
    yield e
    e.stop()


def get(edge: Edge, target: str, **headers: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{edge.port}{target}", headers={**HOST, **headers})


def seen(origin: int, needle: str) -> int:
    """How many requests for targets containing `needle` the origin received."""
    targets = httpx.get(f"http://127.0.0.1:{origin}/__seen").json()
    return sum(1 for t in targets if needle in t)


def test_miss_then_hit_with_cache_status_and_growing_age(edge: Edge, origin: int) -> None:
    """A cacheable response is stored on the miss, then served with Cache-Status and Age."""
    target = "/cached?cc=max-age=60&k=basic"
    first = get(edge, target)
    assert first.status_code == 200
    assert first.headers["cache-status"] == "veil; fwd=uri-miss; stored"
    second = get(edge, target)
    assert second.headers["cache-status"].startswith("veil; hit; ttl=")
    assert (
        second.text == first.text == "fetch 1 ae=gzip, deflate, br, zstd"
        or second.text == first.text
    )
    assert int(second.headers["age"]) <= 1
    time.sleep(1.2)
    third = get(edge, target)
    assert int(third.headers["age"]) >= 1
    assert int(third.headers["cache-status"].rsplit("ttl=", 1)[1]) < 60
    assert seen(origin, "k=basic") == 1


def test_fifty_concurrent_misses_reach_the_origin_once(edge: Edge, origin: int) -> None:
    """Request collapsing: 50 concurrent requests for a cold slow object, one origin fetch."""

    async def burst() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=60)
        async with httpx.AsyncClient(limits=limits, timeout=10) as client:
            url = f"http://127.0.0.1:{edge.port}/cached?cc=max-age=60&delay=1&k=burst"
            return await asyncio.gather(*(client.get(url, headers=HOST) for _ in range(50)))

    responses = asyncio.run(burst())
    assert [r.status_code for r in responses] == [200] * 50
    assert {r.text for r in responses} == {responses[0].text}
    assert seen(origin, "k=burst") == 1
    statuses = [r.headers["cache-status"] for r in responses]
    assert statuses.count("veil; fwd=uri-miss; stored") == 1
    assert all("hit" in s for s in statuses if "stored" not in s)


def test_collapsing_spans_worker_processes(origin: int, tmp_path: Path) -> None:
    """With two workers sharing the disk tier, a cold object is still fetched once."""
    edge = start_edge(tmp_path, snapshot_doc(origin), workers=2)

    async def burst() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=60)
        async with httpx.AsyncClient(limits=limits, timeout=10) as client:
            url = f"http://127.0.0.1:{edge.port}/cached?cc=max-age=60&delay=1&k=twoproc"
            return await asyncio.gather(*(client.get(url, headers=HOST) for _ in range(40)))

    try:
        responses = asyncio.run(burst())
        assert [r.status_code for r in responses] == [200] * 40
        assert len({r.text for r in responses}) == 1
        assert seen(origin, "k=twoproc") == 1
    finally:
        edge.stop()


def test_uncacheable_response_releases_waiters_and_becomes_hit_for_miss(
    edge: Edge, origin: int
) -> None:
    """Collapsed waiters on an uncacheable response go to the origin; later ones don't wait."""

    async def burst(n: int) -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=10) as client:
            url = f"http://127.0.0.1:{edge.port}/cached?cc=private&delay=0.5&k=private"
            return await asyncio.gather(*(client.get(url, headers=HOST) for _ in range(n)))

    first = asyncio.run(burst(5))
    assert all(r.status_code == 200 for r in first)
    assert all("detail=private" in r.headers["cache-status"] for r in first)
    assert seen(origin, "k=private") == 5
    started = time.monotonic()
    asyncio.run(burst(5))
    assert time.monotonic() - started < 1.4  # hit-for-miss: in parallel, not one after another


def test_stale_if_error_serves_the_stale_copy(edge: Edge, origin: int) -> None:
    """Origin answering 5xx: a copy within stale-if-error is served instead."""
    target = "/cached?cc=max-age=1,stale-if-error=60&k=sie"
    body = get(edge, target).text
    time.sleep(1.2)
    httpx.get(f"http://127.0.0.1:{origin}/__fail?on=1")
    stale = get(edge, target)
    assert stale.status_code == 200 and stale.text == body
    assert stale.headers["cache-status"] == (
        "veil; fwd=stale; fwd-status=503; detail=stale-if-error"
    )


def test_stale_while_revalidate_serves_stale_and_refreshes_once(edge: Edge, origin: int) -> None:
    """Within stale-while-revalidate the stale copy is served at once and refreshed once in
    the background; the refreshed copy is then a fresh hit."""
    target = "/cached?cc=max-age=1,stale-while-revalidate=30&k=swr"
    assert get(edge, target).text.startswith("fetch 1 ")
    time.sleep(1.2)
    stale = [get(edge, target) for _ in range(3)]
    assert stale[0].text.startswith("fetch 1 ")  # at once, not after the origin
    assert stale[0].headers["cache-status"].startswith("veil; hit; ttl=-")
    assert all(r.text.startswith(("fetch 1 ", "fetch 2 ")) for r in stale)
    deadline = time.monotonic() + 3
    while seen(origin, "k=swr") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    fresh = get(edge, target)
    assert fresh.text.startswith("fetch 2 ")
    assert fresh.headers["cache-status"].startswith("veil; hit; ttl=")
    assert seen(origin, "k=swr") == 2


def test_origin_down_stale_if_error_and_must_revalidate(tmp_path: Path) -> None:
    """Origin gone: stale-if-error serves the stale copy; must-revalidate answers 504."""
    proc, port = start_origin()
    edge = start_edge(tmp_path, snapshot_doc(port, connect_timeout=1.0))
    try:
        lenient = "/cached?cc=max-age=1,stale-if-error=60&k=down"
        strict = "/cached?cc=max-age=1,must-revalidate&k=strict"
        body = get(edge, lenient).text
        get(edge, strict)
        time.sleep(1.2)
        proc.terminate()
        proc.wait(5)
        stale = get(edge, lenient)
        assert stale.status_code == 200 and stale.text == body
        assert "fwd=stale; fwd-status=521" in stale.headers["cache-status"]
        refused = get(edge, strict)
        assert refused.status_code == 504
        assert str(port) not in refused.text
    finally:
        edge.stop()
        if proc.poll() is None:
            proc.terminate()


def test_revalidation_with_304_updates_and_serves_the_stored_copy(edge: Edge, origin: int) -> None:
    """A stale copy with an ETag is revalidated (If-None-Match) and served after a 304."""
    target = '/cached?cc=max-age=1&etag="v1"&k=reval'
    body = get(edge, target).text
    time.sleep(1.2)
    again = get(edge, target)
    assert again.text == body
    assert again.headers["cache-status"] == "veil; fwd=stale; fwd-status=304; stored"
    assert get(edge, target).headers["cache-status"].startswith("veil; hit")
    assert seen(origin, "k=reval") == 2


def test_client_conditionals_and_ranges_are_answered_from_cache(edge: Edge, origin: int) -> None:
    """If-None-Match gets 304, Range gets 206, HEAD gets the stored GET's head: all hits."""
    target = '/cached?cc=max-age=60&etag="abc"&n=1000&k=cond'
    full = get(edge, target)
    assert len(full.content) == 1000
    not_modified = get(edge, target, **{"If-None-Match": '"abc"'})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == '"abc"'
    part = get(edge, target, Range="bytes=10-19")
    assert part.status_code == 206
    assert part.headers["content-range"] == "bytes 10-19/1000"
    assert part.content == full.content[10:20]
    head = httpx.head(f"http://127.0.0.1:{edge.port}{target}", headers=HOST)
    assert head.status_code == 200 and head.headers["content-length"] == "1000"
    assert head.headers["cache-status"].startswith("veil; hit")
    assert seen(origin, "k=cond") == 1


def test_a_range_on_a_miss_fills_the_whole_object_once_and_gets_its_range(
    edge: Edge, origin: int
) -> None:
    """A Range request on a miss: the origin is asked once for the whole object, which is
    stored; the visitor gets 206 with exactly the range; later ranges and the whole object are
    hits."""
    base = "/cached?cc=max-age=60&ctype=application/octet-stream&n=5000"  # not compressed
    target = f"{base}&k=rangemiss"
    part = get(edge, target, Range="bytes=100-199")
    assert part.status_code == 206
    assert part.headers["content-range"] == "bytes 100-199/5000"
    assert part.headers["cache-status"] == "veil; fwd=uri-miss; stored"
    assert len(part.content) == 100
    full = get(edge, target)
    assert full.headers["cache-status"].startswith("veil; hit")
    assert len(full.content) == 5000 and part.content == full.content[100:200]
    suffix = get(edge, target, Range="bytes=-10")
    assert suffix.status_code == 206 and suffix.content == full.content[-10:]
    assert seen(origin, "k=rangemiss") == 1
    # Several ranges on a miss: multipart/byteranges cut from the stored object.
    many = get(edge, f"{base}&k=rangemulti", Range="bytes=0-9,4990-")
    assert many.status_code == 206
    assert many.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert b"Content-Range: bytes 0-9/5000" in many.content
    assert b"Content-Range: bytes 4990-4999/5000" in many.content
    # A range past the end on a miss: 416 naming the length, and the object is stored.
    past = get(edge, f"{base}&k=rangepast", Range="bytes=9000-")
    assert past.status_code == 416 and past.headers["content-range"] == "bytes */5000"
    assert get(edge, f"{base}&k=rangepast").headers["cache-status"].startswith("veil; hit")
    assert seen(origin, "k=rangepast") == 1


def test_a_single_range_on_a_miss_is_passed_on_while_the_object_fills(
    edge: Edge, origin: int
) -> None:
    """One range of a large object on a miss: its bytes go to the visitor as they pass (206)
    while the whole object keeps filling the store; the visitor does not wait for the fill.
    The origin paces 64 KiB pieces 0.1 s apart (4 MiB: at least 6.4 s of fill); the range
    sits in the second piece. Ordering, not speed: the 206 is complete long before a request
    that waits on the same fill."""
    target = "/cached?cc=max-age=60&ctype=application/octet-stream&n=4194304&pace=0.1&k=rbig"
    started = time.monotonic()
    part = get(edge, target, Range="bytes=70000-70099")
    part_done = time.monotonic() - started
    assert part.status_code == 206
    assert part.headers["content-range"] == "bytes 70000-70099/4194304"
    assert part.headers["content-length"] == "100"
    assert part.headers["cache-status"] == "veil; fwd=uri-miss; stored"
    block = bytes(range(256)) * 256  # the origin's body repeats this 64 KiB block
    assert part.content == (block * 2)[70000:70100]
    full = httpx.get(f"http://127.0.0.1:{edge.port}{target}", headers=HOST, timeout=30)
    fill_done = time.monotonic() - started
    assert full.status_code == 200 and len(full.content) == 4194304
    assert part_done < fill_done - 3.0  # the range did not wait for the 6.4 s fill
    assert seen(origin, "k=rbig") == 1


def test_a_conditional_on_a_miss_is_answered_from_the_filled_object(
    edge: Edge, origin: int
) -> None:
    """The fill asks without the visitor's validators; when the origin's ETag matches them
    the visitor gets 304 from the stored object, otherwise the whole 200."""
    target = '/cached?cc=max-age=60&etag="v1"&n=100&k=condmiss'
    not_modified = get(edge, target, **{"If-None-Match": '"v1"'})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == '"v1"'
    assert not_modified.headers["cache-status"] == "veil; fwd=uri-miss; stored"
    hit = get(edge, target)
    assert hit.headers["cache-status"].startswith("veil; hit") and len(hit.content) == 100
    other = get(
        edge, '/cached?cc=max-age=60&etag="v2"&n=100&k=condother', **{"If-None-Match": '"v1"'}
    )
    assert other.status_code == 200 and len(other.content) == 100
    assert seen(origin, "k=condmiss") == 1


def test_a_seek_far_into_an_object_that_is_not_stored_goes_to_the_origin_with_its_range(
    edge: Edge, origin: int
) -> None:
    """A Range starting 1 MiB or more into an object not stored is passed to the origin as
    is (a fill from byte 0 would make the visitor wait for everything before it); a Range
    near the start is filled, without the visitor's Range."""
    far = get(edge, "/echo?k=far", Range="bytes=2000000-2000099")
    assert far.headers["cache-status"] == "veil; fwd=uri-miss; detail=range-not-filled"
    sent = {k.lower(): v for k, v in far.json()["headers"]}
    assert sent["range"] == "bytes=2000000-2000099"
    near = get(edge, "/echo?k=near", Range="bytes=0-99")
    assert "range" not in {k.lower() for k, _ in near.json()["headers"]}


def test_a_range_on_a_miss_the_cache_does_not_store_passes_the_origins_answer(
    edge: Edge, origin: int
) -> None:
    """Not storable (no-store): nothing to cut the range from, so the origin's whole 200
    goes to the visitor, as a server that ignores Range may answer (RFC 9110 §14.2)."""
    r = get(edge, "/cached?cc=no-store&n=3000&k=rangenostore", Range="bytes=0-9")
    assert r.status_code == 200 and len(r.content) == 3000


def test_vary_keeps_variants_apart(edge: Edge, origin: int) -> None:
    """Vary: Accept-Encoding stores one variant per chosen coding."""
    target = "/cached?cc=max-age=60&vary=Accept-Encoding&k=vary"
    gzip = get(edge, target, **{"Accept-Encoding": "gzip"})
    ident = get(edge, target, **{"Accept-Encoding": "identity"})
    assert gzip.text != ident.text
    assert get(edge, target, **{"Accept-Encoding": "gzip"}).text == gzip.text
    assert get(edge, target, **{"Accept-Encoding": "identity"}).text == ident.text
    assert seen(origin, "k=vary") == 2


def test_unsafe_method_invalidates_and_authorization_bypasses(edge: Edge, origin: int) -> None:
    """POST to a URL drops its stored copy (RFC 9111 §4.4); Authorization is not shared."""
    target = "/cached?cc=max-age=60&k=inval"
    get(edge, target)
    assert get(edge, target).headers["cache-status"].startswith("veil; hit")
    httpx.post(f"http://127.0.0.1:{edge.port}{target}", headers=HOST, content=b"x")
    assert get(edge, target).headers["cache-status"] == "veil; fwd=uri-miss; stored"
    private = get(edge, "/cached?cc=max-age=60&k=auth", Authorization="Bearer a")
    assert "detail=authorization" in private.headers["cache-status"]


def test_unknown_transfer_coding_and_overlong_bodies(edge: Edge, origin: int) -> None:
    """RFC 9112 §6.3: an unknown final coding is close-delimited (stored whole); bytes past
    Content-Length are dropped with the origin connection, the response still delivered."""
    target = "/cached?cc=max-age=60&te=xyz&k=te"
    assert get(edge, target).text == "until-close body"
    hit = get(edge, target)
    assert hit.headers["cache-status"].startswith("veil; hit") and hit.text == "until-close body"
    assert "transfer-encoding" not in hit.headers
    overlong = get(edge, "/cached?cc=no-store&overlong=1&k=long")
    assert overlong.status_code == 200 and overlong.text == "hello"


def _raw(edge: Edge, target: str, **headers: str) -> tuple[httpx.Headers, bytes]:
    """Headers and the body exactly as sent (no content decoding by the client)."""
    with httpx.stream(
        "GET", f"http://127.0.0.1:{edge.port}{target}", headers={**HOST, **headers}
    ) as r:
        return r.headers, b"".join(r.iter_raw())


def test_compressed_once_at_store_time_by_accept_encoding(edge: Edge, origin: int) -> None:
    """br, zstd and gzip copies are made when stored and chosen by Accept-Encoding q-values;
    identity goes to clients that ask for it; the copies are other representations."""
    import gzip

    import brotli
    import zstandard

    target = '/cached?cc=max-age=60&n=20000&etag="c1"&k=gz'
    identity = get(edge, target, **{"Accept-Encoding": "identity"}).content
    cases = {
        "br": ("gzip, br", brotli.decompress),
        "zstd": ("zstd;q=1, gzip;q=0.5", zstandard.ZstdDecompressor().decompress),
        "gzip": ("gzip", gzip.decompress),
    }
    for coding, (accept, decode) in cases.items():
        headers, raw = _raw(edge, target, **{"Accept-Encoding": accept})
        assert headers["content-encoding"] == coding
        assert headers["vary"] == "Accept-Encoding"
        assert headers["etag"] == 'W/"c1"'
        assert headers["cache-status"].startswith("veil; hit")
        assert len(raw) < len(identity) and decode(raw) == identity
    headers, raw = _raw(edge, target, **{"Accept-Encoding": "identity"})
    assert "content-encoding" not in headers and raw == identity
    assert headers["vary"] == "Accept-Encoding" and headers["etag"] == '"c1"'
    assert seen(origin, "k=gz") == 1


def test_large_bodies_are_compressed_in_a_worker_thread(edge: Edge, origin: int) -> None:
    """A 3 MB compressible body (disk tier only) gets its copies from a worker thread; they
    are served once ready, and decode to the stored body."""
    import gzip

    target = "/cached?cc=max-age=60&n=3000000&k=bigzip"
    identity = get(edge, target, **{"Accept-Encoding": "identity"}).content
    assert len(identity) == 3_000_000
    deadline = time.monotonic() + 10
    while True:
        headers, raw = _raw(edge, target, **{"Accept-Encoding": "gzip"})
        if headers.get("content-encoding") == "gzip":
            break
        assert time.monotonic() < deadline, "no gzip copy after 10 s"
        time.sleep(0.05)
    assert gzip.decompress(raw) == identity and len(raw) < len(identity) // 10
    assert seen(origin, "k=bigzip") == 1


@pytest.mark.parametrize(
    "target",
    [
        "/cached?cc=max-age=60,no-transform&n=20000&k=nt",  # RFC 9111 §5.2.2.6
        "/cached?cc=max-age=60&n=500&k=small",  # below the size floor
        "/cached?cc=max-age=60&n=20000&ctype=image/png&k=png",  # does not compress well
    ],
)
def test_not_compressed(edge: Edge, origin: int, target: str) -> None:
    """no-transform, small bodies and incompressible types are served as stored."""
    get(edge, target)
    headers, _ = _raw(edge, target, **{"Accept-Encoding": "gzip, br"})
    assert headers["cache-status"].startswith("veil; hit")
    assert "content-encoding" not in headers


def test_edge_only_fields_never_reach_the_visitor(edge: Edge, origin: int) -> None:
    """CDN-Cache-Control-style fields and Cache-Tag are for Veil only."""
    r = get(edge, "/cached?cc=max-age=60&tag=news,sports&k=tags")
    assert "cache-tag" not in r.headers and "server" in r.headers
    assert r.headers["server"] == "veil"


def _purge_doc(origin: int, version: int, purges: list[dict[str, Any]]) -> dict[str, Any]:
    doc = snapshot_doc(origin, version=version)
    doc["zones"][0]["purges"] = purges
    return doc


def _wait_for_miss(edge: Edge, target: str, limit: float = 3.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if "hit" not in get(edge, target).headers["cache-status"]:
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"{target} still a hit after {limit} s")


@pytest.mark.parametrize(
    ("kind", "value", "target"),
    [
        ("url", "http://site.test/cached?cc=max-age=600&k=purl", "/cached?cc=max-age=600&k=purl"),
        ("prefix", "site.test/cached", "/cached?cc=max-age=600&k=ppre"),
        ("host", "site.test", "/cached?cc=max-age=600&k=phost"),
        ("tag", "news", "/cached?cc=max-age=600&tag=news&k=ptag"),
        ("everything", "", "/cached?cc=max-age=600&k=pall"),
    ],
)
def test_purges_take_effect_and_survive_restart(
    tmp_path: Path, origin: int, kind: str, value: str, target: str
) -> None:
    """Each purge kind drops the object; after a restart the purged copy is never served."""
    edge = start_edge(tmp_path, snapshot_doc(origin, version=1))
    state = edge.state_dir
    try:
        get(edge, target)
        assert get(edge, target).headers["cache-status"].startswith("veil; hit")
        edge.write_snapshot(_purge_doc(origin, 2, [{"version": 2, "kind": kind, "value": value}]))
        _wait_for_miss(edge, target)
    finally:
        edge.stop()
    # The copy refetched above was stored under version 2. After a restart it is still
    # served (the purge predates it); a purge in version 3 drops it again.
    edge = start_edge(tmp_path, None, state=state, source=["--snapshot", str(edge.snapshot_file)])
    try:
        assert get(edge, target).headers["cache-status"].startswith("veil; hit")
        edge.write_snapshot(
            _purge_doc(
                origin,
                3,
                [
                    {"version": 2, "kind": kind, "value": value},
                    {"version": 3, "kind": kind, "value": value},
                ],
            )
        )
        _wait_for_miss(edge, target)
    finally:
        edge.stop()


def test_soft_purge_revalidates(tmp_path: Path, origin: int) -> None:
    """A soft purge marks the copy stale: the next request revalidates it (304)."""
    edge = start_edge(tmp_path, snapshot_doc(origin, version=1))
    try:
        target = "/cached?cc=max-age=600&etag=%22s%22&k=soft"
        get(edge, target)
        assert get(edge, target).headers["cache-status"].startswith("veil; hit")
        purge = {"version": 2, "kind": "url", "value": f"http://site.test{target}", "soft": True}
        edge.write_snapshot(_purge_doc(origin, 2, [purge]))
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            status = get(edge, target).headers["cache-status"]
            if "fwd=stale; fwd-status=304" in status:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("soft purge never revalidated")
    finally:
        edge.stop()


def test_stored_objects_survive_restart_on_disk(tmp_path: Path, origin: int) -> None:
    """The disk tier is shared and persistent: a restarted edge serves the stored copy."""
    edge = start_edge(tmp_path, snapshot_doc(origin))
    target = "/cached?cc=max-age=600&n=300000&k=disk"
    body = get(edge, target).content
    edge.stop()
    edge = start_edge(
        tmp_path, None, state=edge.state_dir, source=["--snapshot", str(edge.snapshot_file)]
    )
    try:
        again = get(edge, target)
        assert again.headers["cache-status"].startswith("veil; hit")
        assert again.content == body
        assert seen(origin, "k=disk") == 1
    finally:
        edge.stop()


def test_kill_during_a_large_write_never_serves_a_torn_object(tmp_path: Path, origin: int) -> None:
    """kill -9 of the edge mid-write, restart: the object is fetched again, whole."""
    import os
    import signal
    import socket

    edge = start_edge(tmp_path, snapshot_doc(origin))
    n = 8 * 1024 * 1024
    target = f"/cached?cc=max-age=600&n={n}&pace=0.01&k=torn"
    sock = socket.create_connection(("127.0.0.1", edge.port))
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: site.test\r\n\r\n".encode())
    got = 0
    while got < n // 4:
        got += len(sock.recv(65536))
    for pid in _tree(edge.proc.pid):
        os.kill(pid, signal.SIGKILL)
    edge.proc.wait(5)
    sock.close()
    edge = start_edge(
        tmp_path, None, state=edge.state_dir, source=["--snapshot", str(edge.snapshot_file)]
    )
    try:
        fresh = httpx.get(f"http://127.0.0.1:{edge.port}{target}", headers=HOST, timeout=60)
        assert fresh.headers["cache-status"] == "veil; fwd=uri-miss; stored"
        assert fresh.content == bytes(range(256)) * (n // 256)
        again = httpx.get(f"http://127.0.0.1:{edge.port}{target}", headers=HOST, timeout=30)
        assert again.headers["cache-status"].startswith("veil; hit")
        assert again.content == fresh.content
    finally:
        edge.stop()


def test_a_visitor_that_stops_reading_a_cached_body_is_cut_off(tmp_path: Path, origin: int) -> None:
    """Slow-read guard: a stored body sent with sendfile to a visitor who stops taking it is
    abandoned after --send-timeout, the connection closed."""
    import socket

    edge = start_edge(tmp_path, snapshot_doc(origin), extra=["--send-timeout", "1"])
    n = 40 * 1024 * 1024
    target = f"/cached?cc=max-age=600&n={n}&ctype=application/octet-stream&k=slowread"
    try:
        assert (
            len(
                httpx.get(f"http://127.0.0.1:{edge.port}{target}", headers=HOST, timeout=60).content
            )
            == n
        )
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            sock.connect(("127.0.0.1", edge.port))
            sock.sendall(f"GET {target} HTTP/1.1\r\nHost: site.test\r\n\r\n".encode())
            got = len(sock.recv(65536))
            time.sleep(4)  # stop reading: the edge's send deadline (1 s) passes
            sock.settimeout(5)
            try:
                while chunk := sock.recv(1 << 20):
                    got += len(chunk)
            except ConnectionResetError:
                pass  # cut off with a reset: also closed
        assert got < n  # closed before the whole body (a hang would raise TimeoutError)
    finally:
        edge.stop()


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (the supervisor and its workers)."""
    out = [pid]
    for child in Path("/proc").glob("[0-9]*"):
        try:
            stat = (child / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == pid:
            out.extend(_tree(int(child.name)))
    return out


def test_a_recreated_zone_never_meets_its_predecessors_objects(tmp_path: Path, origin: int) -> None:
    """Objects are stored within their zone: a zone deleted and added again (a new id, maybe
    another customer) starts with an empty cache."""
    edge = start_edge(tmp_path, snapshot_doc(origin, version=1))
    try:
        target = "/cached?cc=max-age=600&k=zone"
        get(edge, target)
        assert get(edge, target).headers["cache-status"].startswith("veil; hit")
        doc = snapshot_doc(origin, version=2)
        doc["zones"][0]["id"] = "z-new"
        edge.write_snapshot(doc)
        _wait_for_miss(edge, target)
    finally:
        edge.stop()


def test_browser_ttl_and_cache_everything(tmp_path: Path, origin: int) -> None:
    """A zone's browser TTL lengthens the visitor's max-age (never the edge's freshness);
    cache_everything keeps a 200 without freshness for the edge TTL."""
    doc = snapshot_doc(origin)
    doc["zones"][0]["cache"] = {"level": "cache_everything", "browser_ttl": 3600, "edge_ttl": 60}
    edge = start_edge(tmp_path, doc)
    try:
        short = "/cached?cc=max-age=5&k=bttl"
        first = get(edge, short)
        assert first.headers["cache-control"] == "max-age=3600"
        hit = get(edge, short)
        assert hit.headers["cache-control"] == "max-age=3600"
        assert int(hit.headers["cache-status"].rsplit("ttl=", 1)[1]) <= 60  # edge TTL rules
        plain = "/cached?k=everything"  # no Cache-Control at all
        get(edge, plain)
        assert get(edge, plain).headers["cache-status"].startswith("veil; hit")
        private = "/cached?cc=private&k=stillprivate"
        get(edge, private)
        assert "detail=private" in get(edge, private).headers["cache-status"]
    finally:
        edge.stop()


def test_pass_through_zone_says_bypass(tmp_path: Path, origin: int) -> None:
    """A zone whose cache level is bypass forwards everything and says so."""
    doc = snapshot_doc(origin)
    doc["zones"][0]["cache"] = {"level": "bypass"}
    edge = start_edge(tmp_path, doc)
    try:
        r = get(edge, "/cached?cc=max-age=60&k=bypass")
        assert r.headers["cache-status"] == "veil; fwd=bypass; detail=cache-level-bypass"
        get(edge, "/cached?cc=max-age=60&k=bypass")
        assert seen(origin, "k=bypass") == 2
    finally:
        edge.stop()
