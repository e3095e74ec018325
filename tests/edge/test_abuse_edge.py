"""Tier (c): abuse-desk blocks enforced by a real edge in front of a real origin."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.mmdb import write_mmdb
from tests.support.procs import Edge, snapshot_doc, start_edge

STATEMENT = "https://desk.example/abuse/statements/"


def _block(id: str, kind: str, *targets: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": id,
        "kind": kind,
        "targets": list(targets),
        "countries": extra.get("countries", []),
        "effective_at": extra.get("effective_at", 0.0),
        "statement_url": STATEMENT + id,
    }


def _doc(origin_port: int, *blocks: dict[str, Any], version: int = 1) -> dict[str, Any]:
    doc = snapshot_doc(origin_port, version=version)
    doc["zones"][0]["abuse"] = list(blocks)
    return doc


def get(edge: Edge, target: str, **headers: str) -> httpx.Response:
    return httpx.get(
        f"http://127.0.0.1:{edge.port}{target}",
        headers={"Host": "site.test", **headers},
        follow_redirects=False,
    )


@pytest.fixture
def run_edge(tmp_path: Path) -> Iterator[Any]:
    edges: list[Edge] = []

    def run(doc: dict[str, Any], *extra: str) -> Edge:
        edge = start_edge(tmp_path / f"e{len(edges)}", doc, extra=list(extra))
        edges.append(edge)
        return edge

    yield run
    for edge in edges:
        edge.stop()


def test_pending_legal_block_takes_effect_on_its_date_for_that_url_only(
    run_edge: Any, origin_port: int
) -> None:
    """200 before the date (and cached), 451 after it with Link blocked-by, other URLs 200."""
    when = time.time() + 2.0
    edge = run_edge(
        _doc(
            origin_port,
            _block("lb1", "legal_block", "http://site.test/cached/lb1", effective_at=when),
        )
    )
    url = "/cached/lb1?cc=max-age%3D600"
    first = get(edge, url)
    assert first.status_code == 200 and first.text  # served, and stored by the cache
    assert get(edge, url).headers["cache-status"].startswith("veil; hit")
    deadline = time.monotonic() + 10
    blocked = first
    while time.monotonic() < deadline and blocked.status_code == 200:
        time.sleep(0.2)
        blocked = get(edge, url)
    assert time.time() >= when
    assert blocked.status_code == 451  # the stored copy is not served either
    assert blocked.headers["link"] == f'<{STATEMENT}lb1>; rel="blocked-by"'
    assert blocked.headers["cache-control"] == "no-store"
    assert "Unavailable for legal reasons" in blocked.text and STATEMENT + "lb1" in blocked.text
    assert str(origin_port) not in blocked.text + str(blocked.headers)
    assert get(edge, "/cached/lb1").status_code == 451  # any query: the target named none
    assert get(edge, "/cached/lb2?cc=max-age%3D600").status_code == 200
    assert get(edge, "/").status_code == 200
    as_json = get(edge, url, Accept="application/json")
    assert as_json.status_code == 451 and as_json.json()["statement"] == STATEMENT + "lb1"


def test_geo_scoped_block_by_trusted_country_header(run_edge: Any, origin_port: int) -> None:
    """With --country-header, only visitors the front says are in a listed country get 451."""
    doc = _doc(origin_port, _block("g1", "legal_block", "https://site.test/geo", countries=["DE"]))
    edge = run_edge(doc, "--country-header", "CF-IPCountry")
    assert get(edge, "/geo", **{"CF-IPCountry": "DE"}).status_code == 451
    assert get(edge, "/geo", **{"CF-IPCountry": "de"}).status_code == 451
    assert get(edge, "/geo", **{"CF-IPCountry": "US"}).status_code == 200
    assert get(edge, "/geo").status_code == 200  # unknown country: the order names countries
    assert get(edge, "/other", **{"CF-IPCountry": "DE"}).status_code == 200


def test_geo_scoped_block_by_geoip_database(
    run_edge: Any, origin_port: int, tmp_path: Path
) -> None:
    """With --geoip-mmdb, the visitor's address decides: 127.0.0.1 is mapped to DE here."""
    mmdb = write_mmdb(
        tmp_path / "country.mmdb",
        {"127.0.0.0/8": {"country": {"iso_code": "DE"}}},
        "GeoLite2-Country",
    )
    doc = _doc(
        origin_port,
        _block("de", "legal_block", "https://site.test/de", countries=["DE", "AT"]),
        _block("fr", "legal_block", "https://site.test/fr", countries=["FR"]),
    )
    edge = run_edge(doc, "--geoip-mmdb", str(mmdb))
    assert get(edge, "/de").status_code == 451
    assert get(edge, "/fr").status_code == 200


def test_geo_scoped_block_without_country_source_fails_closed(
    run_edge: Any, origin_port: int
) -> None:
    """No way to know the country: the geo-scoped block is enforced for everyone."""
    doc = _doc(origin_port, _block("g2", "legal_block", "https://site.test/geo", countries=["DE"]))
    edge = run_edge(doc)
    assert get(edge, "/geo").status_code == 451


def test_unreadable_geoip_database_fails_closed(
    run_edge: Any, origin_port: int, tmp_path: Path
) -> None:
    """A --geoip-mmdb that is no database: geo-scoped blocks apply to everyone (logged)."""
    broken = tmp_path / "broken.mmdb"
    broken.write_bytes(b"not a maxmind database")
    doc = _doc(origin_port, _block("g3", "legal_block", "https://site.test/geo", countries=["DE"]))
    edge = run_edge(doc, "--geoip-mmdb", str(broken))
    assert get(edge, "/geo").status_code == 451
    assert get(edge, "/geo").status_code == 451
    assert get(edge, "/other").status_code == 200


def _cookie(response: httpx.Response, name: str) -> str:
    for line in response.headers.get_list("set-cookie"):
        if line.startswith(name + "="):
            return line.split(";", 1)[0].split("=", 1)[1]
    raise AssertionError(f"no {name} cookie in {response.headers}")


def test_phishing_interstitial_click_through(run_edge: Any, origin_port: int) -> None:
    """A warning (403) with a continue link; the link with its nonce sets a pass; then 200."""
    edge = run_edge(
        _doc(origin_port, _block("ph1", "phishing_interstitial", "https://site.test/login"))
    )
    warning = get(edge, "/login?next=%2Fhome")
    assert warning.status_code == 403 and "suspected phishing" in warning.text
    assert warning.headers["cache-control"] == "no-store"
    nonce = _cookie(warning, "veil_warn")
    link = warning.text.split('href="/.veil/abuse/continue?', 1)[1].split('"', 1)[0]
    go = "/.veil/abuse/continue?" + link.replace("&amp;", "&")
    # Without the nonce cookie the warning page set (someone else's link): refused.
    assert get(edge, go).status_code == 400
    cont = get(edge, go, Cookie=f"veil_warn={nonce}")
    assert cont.status_code == 303 and cont.headers["location"] == "/login?next=%2Fhome"
    ticket = _cookie(cont, "veil_pass_ph1")
    passed = get(edge, "/login?next=%2Fhome", Cookie=f"veil_pass_ph1={ticket}")
    assert passed.status_code == 200 and passed.text == "hello from origin"
    assert get(edge, "/login", Cookie=f"veil_pass_ph1={ticket}x").status_code == 403
    other_host = httpx.get(
        f"http://127.0.0.1:{edge.port}/.veil/abuse/continue?b=ph1&n={nonce}&to=//evil.test/",
        headers={"Host": "site.test", "Cookie": f"veil_warn={nonce}"},
    )
    assert other_host.headers["location"] == "/"  # never an open redirect
    injected = get(edge, f"/.veil/abuse/continue?b=ph1&n={nonce}&to=/x%0D%0ASet-Cookie:%20a=b")
    assert injected.status_code == 400  # no nonce cookie; and with it, the path is escaped:
    escaped = httpx.get(
        f"http://127.0.0.1:{edge.port}/.veil/abuse/continue?b=ph1&n={nonce}"
        "&to=/x%0D%0ASet-Cookie:%20a=b",
        headers={"Host": "site.test", "Cookie": f"veil_warn={nonce}"},
    )
    assert escaped.headers["location"] == "/x%0D%0ASet-Cookie:%20a=b"
    assert "a=b" not in " ".join(escaped.headers.get_list("set-cookie"))


def test_account_suspension_answers_every_url(run_edge: Any, origin_port: int) -> None:
    """A suspended account's zone answers 403 with the suspension page for any URL."""
    edge = run_edge(_doc(origin_port, _block("s1", "account_suspend")))
    for target in ("/", "/echo", "/cached/x?cc=max-age%3D60"):
        r = get(edge, target)
        assert r.status_code == 403 and "Site suspended" in r.text
        assert STATEMENT + "s1" in r.text
