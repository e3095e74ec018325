"""Tier (a): one access-log line per exchange is valid JSON with exact values, whatever bytes
the visitor sent."""

from __future__ import annotations

import json
from pathlib import Path

from veil.edge.accesslog import AccessLog


def test_lines_are_json_with_integer_times_and_escaped_text(tmp_path: Path) -> None:
    log = AccessLog(tmp_path / "access.log")
    log.record(
        ray=b"0123456789abcdef",
        zone="shop.test",
        client_ip="192.0.2.7",
        method=b"GET",
        host="shop.test",
        path=b'/a"b\\c?q=\xff\x01',
        status=200,
        sent=1024,
        duration=0.0012345,
        origin_time=0.000789,
        cache="hit",
    )
    log.record(
        ray=b"fedcba9876543210",
        zone=None,
        client_ip="2001:db8::1",
        method=b"PURGE",
        host="unknown.test",
        path=b"/",
        status=421,
        sent=0,
        duration=0.5,
        origin_time=None,
        cache="none",
    )
    log.close()
    first, second = (json.loads(x) for x in (tmp_path / "access.log").read_text().splitlines())
    assert isinstance(first["time_ms"], int) and first["time_ms"] > 1_700_000_000_000
    assert {k: v for k, v in first.items() if k != "time_ms"} == {
        "ray": "0123456789abcdef",
        "zone": "shop.test",
        "client_ip": "192.0.2.7",
        "method": "GET",
        "host": "shop.test",
        "path": '/a"b\\c?q=\xff\x01',  # the visitor's bytes, as latin-1, JSON-escaped
        "status": 200,
        "bytes": 1024,
        "duration_us": 1234,
        "origin_us": 789,
        "cache": "hit",
    }
    assert second["zone"] is None and second["origin_us"] is None
    assert (second["client_ip"], second["method"], second["status"]) == (
        "2001:db8::1",
        "PURGE",
        421,
    )
    assert second["duration_us"] == 500000


def test_the_memo_of_quoted_names_stays_bounded(tmp_path: Path) -> None:
    """Hosts come from visitors: the memo of their JSON literals never outgrows its limit."""
    from veil.edge import accesslog

    log = AccessLog(tmp_path / "access.log")
    for i in range(accesslog._MEMO_LIMIT + 10):
        log.record(
            ray=b"0" * 16, zone=None, client_ip="192.0.2.1", method=b"GET", host=f"h{i}.test",
            path=b"/", status=421, sent=0, duration=0.0, origin_time=None, cache="none",
        )  # fmt: skip
    assert len(accesslog._QUOTED) <= accesslog._MEMO_LIMIT
    log.close()
    hosts = [json.loads(x)["host"] for x in (tmp_path / "access.log").read_text().splitlines()]
    assert hosts == [f"h{i}.test" for i in range(accesslog._MEMO_LIMIT + 10)]
