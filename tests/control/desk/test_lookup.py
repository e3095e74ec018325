"""The hosting-provider lookup: a real .mmdb built here, real recorded RDAP answers served by a
real HTTP server on 127.0.0.1, and the intake using it for a receipt."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.control.desk.rdap_server import (
    RdapServer,
    bootstrap_to,
    rdap_server,
    recorded_bootstrap,
)
from tests.control.harness import Api
from tests.support.mmdb import write_mmdb
from veil.abuse.notices import Category, Notice
from veil.clock import FakeClock
from veil.control.app import control_state
from veil.control.desk.context import DeskContext
from veil.control.desk.hosting import HostingProvider, NoLookup
from veil.control.desk.intake import file_notice
from veil.control.desk.lookup import (
    CACHE_TTL,
    RETRY_TTL,
    ProviderFinder,
    build_finder,
    clean_name,
    is_email,
)
from veil.settings import AbuseSettings, SettingsError

ASN_NETWORKS: dict[str, dict[str, Any]] = {
    "74.125.0.0/16": {
        "autonomous_system_number": 15169,
        "autonomous_system_organization": "Google LLC",
    },
    "2001:4860::/32": {
        "autonomous_system_number": 15169,
        "autonomous_system_organization": "Google LLC",
    },
    "62.239.0.0/16": {
        "autonomous_system_number": 2856,
        "autonomous_system_organization": "British Telecommunications PLC",
    },
    "196.11.240.0/24": {
        "autonomous_system_number": 37000,
        "autonomous_system_organization": "Example Africa Hosting",
    },
    "127.0.0.0/8": {
        "autonomous_system_number": 64500,
        "autonomous_system_organization": "Loopback Hosting",
    },
    "::1/128": {
        "autonomous_system_number": 64500,
        "autonomous_system_organization": "Loopback Hosting",
    },
}


@pytest.fixture(scope="module")
def asn_mmdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small GeoLite2-ASN-shaped database."""
    path = tmp_path_factory.mktemp("mmdb") / "asn.mmdb"
    return write_mmdb(path, ASN_NETWORKS, "GeoLite2-ASN")


@pytest.fixture(scope="module")
def rdap() -> Iterator[RdapServer]:
    with rdap_server() as server:
        yield server


def finder_for(
    tmp_path: Path,
    *,
    mmdb: Path | None,
    bootstrap: dict[str, Any] | None,
    timeout: float = 2.0,
    clock: FakeClock | None = None,
) -> ProviderFinder:
    path = None
    if bootstrap is not None:
        path = tmp_path / "rdap-bootstrap.json"
        path.write_text(json.dumps(bootstrap))
    settings = AbuseSettings(asn_mmdb=mmdb, rdap_bootstrap=path, rdap_timeout=timeout)
    finder = build_finder(settings, clock=clock) if clock else build_finder(settings)
    assert isinstance(finder, ProviderFinder)
    return finder


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- ASN database ---------------------------------------------------------------------------


def test_mmdb_hit_gives_as_organisation(tmp_path: Path, asn_mmdb: Path) -> None:
    """Without RDAP, an address in the database is hosted by its AS organisation, no e-mail."""
    finder = finder_for(tmp_path, mmdb=asn_mmdb, bootstrap=None)
    assert finder.find("74.125.225.229") == HostingProvider(
        name="Google LLC", abuse_email=None, source="asn", asn=15169, network="74.125.0.0/16"
    )
    assert finder.find("2001:4860:4860::8888") == HostingProvider(
        name="Google LLC", abuse_email=None, source="asn", asn=15169, network="2001:4860::/32"
    )


def test_mmdb_miss_is_unknown(tmp_path: Path, asn_mmdb: Path) -> None:
    """An address in no network of the database (and no RDAP) gives no provider."""
    finder = finder_for(tmp_path, mmdb=asn_mmdb, bootstrap=None)
    assert finder.find("198.51.100.7") is None


def test_ipv4_mapped_address_is_looked_up_as_ipv4(tmp_path: Path, asn_mmdb: Path) -> None:
    """::ffff:74.125.225.229 is the IPv4 address for the lookup."""
    finder = finder_for(tmp_path, mmdb=asn_mmdb, bootstrap=None)
    found = finder.find("::ffff:74.125.225.229")
    assert found is not None and found.name == "Google LLC"


# --- RDAP via the bootstrap -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "name", "email", "source"),
    [
        pytest.param("74.125.225.229", "Google Inc.", "arin-contact@google.com", "rdap", id="arin"),
        pytest.param(
            "2001:4860:4860::8888", "Google Inc.", "arin-contact@google.com", "rdap", id="arin-v6"
        ),
        # RIPE names only its network ("BT-CORPORATE"): the AS organisation reads better.
        pytest.param(
            "62.239.237.1", "British Telecommunications PLC", "zzdnsr@bt.com", "rdap", id="ripe"
        ),
        # Not in the ASN database: everything from RDAP.
        pytest.param(
            "200.57.141.161",
            "Triara.com, S.A. de C.V.",
            "operacion.redes@TRIARA.COM",
            "rdap",
            id="lacnic",
        ),
        pytest.param(
            "210.107.73.73", "BORANET-NET-210-107", "hostmaster@nic.or.kr", "rdap", id="apnic"
        ),
        # AFRINIC's answer has no abuse role: the AS organisation, no e-mail.
        pytest.param("196.11.240.215", "Example Africa Hosting", None, "asn", id="afrinic"),
    ],
)
def test_rdap_abuse_contact_found_via_bootstrap(
    tmp_path: Path,
    asn_mmdb: Path,
    rdap: RdapServer,
    address: str,
    name: str,
    email: str | None,
    source: str,
) -> None:
    """IANA's recorded bootstrap picks the registry; its recorded answer gives the abuse
    e-mail and the provider's name."""
    finder = finder_for(tmp_path, mmdb=asn_mmdb, bootstrap=recorded_bootstrap(rdap))
    found = finder.find(address)
    assert found is not None
    assert (found.name, found.abuse_email, found.source) == (name, email, source)


def test_rdap_only_without_asn_database(tmp_path: Path, rdap: RdapServer) -> None:
    """With only a bootstrap configured, RDAP alone names the provider and its network."""
    finder = finder_for(tmp_path, mmdb=None, bootstrap=recorded_bootstrap(rdap))
    found = finder.find("74.125.225.229")
    assert found is not None
    assert (found.name, found.abuse_email, found.asn) == (
        "Google Inc.",
        "arin-contact@google.com",
        None,
    )


def test_address_outside_bootstrap_uses_asn_only(
    tmp_path: Path, asn_mmdb: Path, rdap: RdapServer
) -> None:
    """A bootstrap naming no registry for the address: the ASN answer, no query sent."""
    finder = finder_for(
        tmp_path, mmdb=asn_mmdb, bootstrap=bootstrap_to(rdap, "arin", ["203.0.113.0/24"])
    )
    before = sum(rdap.hits.values())
    found = finder.find("62.239.237.1")
    assert found is not None and (found.name, found.source) == (
        "British Telecommunications PLC",
        "asn",
    )
    assert sum(rdap.hits.values()) == before


# --- RDAP failing: the ASN organisation stands in --------------------------------------------


GOOGLE_BY_ASN = HostingProvider(
    name="Google LLC", abuse_email=None, source="asn", asn=15169, network="74.125.0.0/16"
)


def test_rdap_server_down_falls_back_to_asn(tmp_path: Path, asn_mmdb: Path) -> None:
    """A registry refusing connections: the AS organisation, no e-mail, at once."""
    bootstrap = {"services": [[["74.0.0.0/8"], [f"http://127.0.0.1:{closed_port()}/"]]]}
    finder = finder_for(tmp_path, mmdb=asn_mmdb, bootstrap=bootstrap)
    started = time.monotonic()
    assert finder.find("74.125.225.229") == GOOGLE_BY_ASN
    assert time.monotonic() - started < 1.0


def test_slow_rdap_server_is_abandoned_at_the_timeout(
    tmp_path: Path, asn_mmdb: Path, rdap: RdapServer
) -> None:
    """A registry that does not answer in time: find returns by the timeout with the ASN
    answer (the receipt must not wait)."""
    finder = finder_for(
        tmp_path, mmdb=asn_mmdb, bootstrap=bootstrap_to(rdap, "slow", ["74.0.0.0/8"]), timeout=0.4
    )
    started = time.monotonic()
    assert finder.find("74.125.225.229") == GOOGLE_BY_ASN
    assert 0.35 < time.monotonic() - started < 0.9


@pytest.mark.parametrize(
    "registry",
    [
        pytest.param("garbage", id="not-json"),
        pytest.param("big", id="over-1-MiB"),
        pytest.param("loop", id="redirect-loop"),
        pytest.param("evil", id="redirect-to-file-scheme"),
        pytest.param("away", id="redirect-to-a-server-the-bootstrap-does-not-name"),
        pytest.param("afrinic", id="not-found"),  # nothing recorded for this address there
    ],
)
def test_bad_rdap_answer_falls_back_to_asn(
    tmp_path: Path, asn_mmdb: Path, rdap: RdapServer, registry: str
) -> None:
    """Garbage, an oversized body, too many redirects, a redirect off http(s) or to a server
    the bootstrap does not name (no SSRF through a registry's answer), a 404: the AS
    organisation, no e-mail."""
    finder = finder_for(
        tmp_path, mmdb=asn_mmdb, bootstrap=bootstrap_to(rdap, registry, ["74.0.0.0/8"])
    )
    assert finder.find("74.125.225.229") == GOOGLE_BY_ASN


def test_redirect_loop_stops_after_three(tmp_path: Path, rdap: RdapServer) -> None:
    """A registry redirecting to itself is asked at most 1 + 3 times."""
    finder = finder_for(tmp_path, mmdb=None, bootstrap=bootstrap_to(rdap, "loop", ["74.0.0.0/8"]))
    before = rdap.hits["/loop/ip/74.125.225.229"]
    assert finder.find("74.125.225.229") is None
    assert rdap.hits["/loop/ip/74.125.225.229"] - before == 4


def test_relative_redirect_is_followed(tmp_path: Path, rdap: RdapServer) -> None:
    """A registry redirecting (relative Location) to the one holding the answer is followed."""
    finder = finder_for(tmp_path, mmdb=None, bootstrap=bootstrap_to(rdap, "hop", ["74.0.0.0/8"]))
    found = finder.find("74.125.225.229")
    assert found is not None and found.abuse_email == "arin-contact@google.com"


# --- The cache ------------------------------------------------------------------------------


def test_answers_are_cached_for_an_hour(tmp_path: Path, asn_mmdb: Path, rdap: RdapServer) -> None:
    """A second notice about the same address asks the registry nothing until the hour ends."""
    clock = FakeClock()
    bootstrap = bootstrap_to(rdap, "apnic", ["210.0.0.0/8"])
    finder = finder_for(tmp_path, mmdb=asn_mmdb, bootstrap=bootstrap, clock=clock)
    path = "/apnic/ip/210.107.73.73"
    rdap.hits[path] = 0
    first = finder.find("210.107.73.73")
    assert first is not None and first.abuse_email == "hostmaster@nic.or.kr"
    assert rdap.hits[path] == 1
    clock.advance(CACHE_TTL - 1)
    assert finder.find("210.107.73.73") == first
    assert rdap.hits[path] == 1
    clock.advance(2)
    assert finder.find("210.107.73.73") == first
    assert rdap.hits[path] == 2


def test_failures_are_retried_after_five_minutes(
    tmp_path: Path, asn_mmdb: Path, rdap: RdapServer
) -> None:
    """A failed RDAP query is not repeated for every notice, but is retried soon."""
    clock = FakeClock()
    bootstrap = bootstrap_to(rdap, "garbage", ["62.0.0.0/8"])
    finder = finder_for(tmp_path, mmdb=asn_mmdb, bootstrap=bootstrap, clock=clock)
    path = "/garbage/ip/62.239.237.1"
    rdap.hits[path] = 0
    finder.find("62.239.237.1")
    finder.find("62.239.237.1")
    assert rdap.hits[path] == 1
    clock.advance(RETRY_TTL + 1)
    finder.find("62.239.237.1")
    assert rdap.hits[path] == 2


def test_cache_is_bounded(tmp_path: Path, asn_mmdb: Path) -> None:
    """Past its size the least recently used address is forgotten."""
    settings = AbuseSettings(asn_mmdb=asn_mmdb)
    base = build_finder(settings)
    assert isinstance(base, ProviderFinder)
    finder = ProviderFinder(asn=base._asn, rdap=None, timeout=1.0, cache_size=2)
    for address in ("74.125.0.1", "74.125.0.2", "74.125.0.3"):
        finder.find(address)
    assert finder._cache.get("74.125.0.1") == (False, None)
    assert finder._cache.get("74.125.0.3")[0] is True


# --- Hostname origins (CNAME) ---------------------------------------------------------------


def test_hostname_origin_is_resolved_first(
    tmp_path: Path, asn_mmdb: Path, rdap: RdapServer
) -> None:
    """A CNAME origin is resolved and its address looked up."""
    bootstrap = bootstrap_to(rdap, "arin", ["127.0.0.0/8", "::1/128"])
    finder = finder_for(tmp_path, mmdb=asn_mmdb, bootstrap=bootstrap)
    found = finder.find("localhost")
    assert found is not None
    assert (found.name, found.asn, found.abuse_email) == ("Loopback Hosting", 64500, None)


@pytest.mark.parametrize("address", ["no-such-origin.invalid", "not a host!", "", "::::"])
def test_unresolvable_or_malformed_origin_is_unknown(
    tmp_path: Path, asn_mmdb: Path, address: str
) -> None:
    """A name that does not resolve, or nonsense, gives no provider (and no exception)."""
    finder = finder_for(tmp_path, mmdb=asn_mmdb, bootstrap=None, timeout=1.0)
    started = time.monotonic()
    assert finder.find(address) is None
    assert time.monotonic() - started < 1.5


# --- Building the finder, and untrusted text ------------------------------------------------


def test_nothing_configured_is_no_lookup() -> None:
    """Without --asn-mmdb or --rdap-bootstrap only declared hosts are known."""
    assert isinstance(build_finder(AbuseSettings()), NoLookup)


def test_unreadable_files_are_one_line_errors(tmp_path: Path) -> None:
    """A file that is not a MaxMind DB, or a bootstrap without `services`, is a clear error."""
    junk = tmp_path / "junk"
    junk.write_text("not a database")
    with pytest.raises(SettingsError, match="not a readable MaxMind DB"):
        build_finder(AbuseSettings(asn_mmdb=junk))
    with pytest.raises(SettingsError, match="not a readable JSON file"):
        build_finder(AbuseSettings(rdap_bootstrap=junk))
    junk.write_text('{"version": "1.0"}')
    with pytest.raises(SettingsError, match='no "services" list'):
        build_finder(AbuseSettings(rdap_bootstrap=junk))


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("abuse@example.net", True),
        ("operacion.redes@TRIARA.COM", True),
        ("abuse@example.net\r\nBcc: x@evil.example", False),
        ("Abuse <abuse@example.net>", False),
        ("abuse@localhost", False),
        ("", False),
    ],
)
def test_only_plain_addresses_are_used(value: str, ok: bool) -> None:
    """An RDAP e-mail goes into a To: header: anything but a plain address is dropped."""
    assert is_email(value) is ok


def test_names_lose_control_characters() -> None:
    """A name from an RDAP answer cannot carry line breaks into a letter."""
    assert clean_name("Evil\r\nHosting\x00 Ltd ") == "Evil Hosting Ltd"
    assert clean_name("x" * 300) == "x" * 255
    assert clean_name(42) is None


# --- The intake uses it ---------------------------------------------------------------------


DMCA = Notice(
    act=Category.DMCA,
    urls="https://shop.lookup.test/dress-42",
    email="legal@bridal.example",
    email2="legal@bridal.example",
    name="Ada Lovelace",
    signature="Ada Lovelace",
    original_work="Spring 2018 catalogue, gown 42",
    agent_name="Bridal Co",
    address1="1 Main St",
    city="Springfield",
    country="US",
    statement_good_faith=True,
    statement_accuracy_perjury=True,
)


async def test_receipt_names_host_from_lookup_without_origin(
    api: Api, tmp_path: Path, asn_mmdb: Path, rdap: RdapServer
) -> None:
    """A notice about a proxied origin at a looked-up address: the receipt names the provider
    and its abuse e-mail, comes fast, and never holds the origin address."""
    zone = await api.zone("lookup.test")
    await api.ok(
        "POST",
        f"/zones/{zone['id']}/dns_records",
        json={"type": "A", "name": "shop", "content": "74.125.225.229", "proxied": True},
    )
    finder = finder_for(tmp_path, mmdb=asn_mmdb, bootstrap=recorded_bootstrap(rdap))
    state = control_state(api.app)
    desk = DeskContext(settings=state.desk.settings, public_url="http://desk.test", finder=finder)
    started = time.monotonic()
    with state.db.write() as session:
        [receipt] = file_notice(
            session=session, desk=desk, notice=DMCA, channel="api", now=datetime.now(UTC)
        )
        session.commit()
    assert time.monotonic() - started < 1.0
    assert receipt.host is not None
    assert (receipt.host.name, receipt.host.abuse_email) == (
        "Google Inc.",
        "arin-contact@google.com",
    )
    assert "Google Inc." in receipt.letter.body
    assert "74.125.225.229" not in receipt.letter.body + json.dumps(receipt.to_json())
