"""RDAP: bootstrap registry selection (RFC 9224) and abuse contacts from recorded real answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil.abuse.rdap import (
    AbuseContact,
    abuse_contact,
    network_of,
    rdap_base_for_asn,
    rdap_base_for_ip,
    rdap_ip_url,
)

DATA = Path(__file__).parent / "data"


def load(name: str) -> Any:
    """Read one recorded JSON document from tests/abuse/data."""
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def contact(name: str) -> AbuseContact:
    """The abuse contact of a recorded answer, which must have one."""
    found = abuse_contact(load(name))
    assert found is not None
    return found


# --- recorded answers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "email", "provider", "provider_from"),
    [
        pytest.param(
            "arin-74.125.225.229.json",
            "arin-contact@google.com",
            "Google Inc.",
            "registrant",
            id="arin-v4",
        ),
        pytest.param(
            "arin-2001-4860-4860--8888.json",
            "arin-contact@google.com",
            "Google Inc.",
            "registrant",
            id="arin-v6",
        ),
        pytest.param(
            "ripe-62.239.237.1.json", "zzdnsr@bt.com", "BT-CORPORATE", "network", id="ripe"
        ),
        pytest.param(
            "apnic-210.107.73.73.json",
            "hostmaster@nic.or.kr",
            "BORANET-NET-210-107",
            "network",
            id="apnic",
        ),
        pytest.param(
            "lacnic-200.57.141.161.json",
            "operacion.redes@TRIARA.COM",
            "Triara.com, S.A. de C.V.",
            "registrant",
            id="lacnic",
        ),
    ],
)
def test_recorded_answer_gives_abuse_email_and_provider(
    name: str, email: str, provider: str, provider_from: str
) -> None:
    """Each registry's real answer yields its abuse e-mail first and the provider's name."""
    found = contact(name)
    assert found.emails[0] == email
    assert found.provider == provider
    assert found.provider_from == provider_from


def test_arin_abuse_entity_nested_in_registrant() -> None:
    """ARIN nests the abuse contact inside the registrant org: found at depth 1, via GOGL."""
    found = contact("arin-74.125.225.229.json")
    assert (found.handle, found.depth, found.via) == ("ZG39-ARIN", 1, ("GOGL",))
    assert found.name == "Google Inc"


def test_top_level_abuse_entity_preferred_over_nested() -> None:
    """When the abuse role is both top-level and nested, the top-level entity is reported."""
    found = contact("arin-2001-4860-4860--8888.json")
    assert (found.handle, found.depth, found.via) == ("ZG39-ARIN", 0, ())


def test_ripe_abuse_entity_at_top_level_with_all_emails() -> None:
    """RIPE's abuse entity sits at the top and lists several addresses, kept in order."""
    found = contact("ripe-62.239.237.1.json")
    assert (found.handle, found.depth) == ("BTCR3-RIPE", 0)
    assert found.name == "BT Corporate Registry"
    assert found.emails == (
        "zzdnsr@bt.com",
        "steve.a.marshall@bt.com",
        "lee.bailey-hague@bt.com",
    )


def test_apnic_duplicate_emails_collapse_and_pref_orders() -> None:
    """APNIC's IRT lists one address twice (once with pref=1): it is reported once."""
    assert contact("apnic-210.107.73.73.json").emails == ("hostmaster@nic.or.kr",)


def test_no_abuse_role_gives_none() -> None:
    """AFRINIC's recorded answer has entities without roles: no abuse contact."""
    assert abuse_contact(load("afrinic-196.11.240.215.json")) is None


def test_network_fields_tolerate_zero_padding_and_stray_prefix() -> None:
    """ARIN's "074.125.000.000" and RIPE's "62.239.237.0/32" read as plain addresses."""
    arin = network_of(load("arin-74.125.225.229.json"))
    assert (arin.handle, arin.name, arin.country) == ("NET-74-125-0-0-1", "GOOGLE", None)
    assert (arin.start_address, arin.end_address) == ("74.125.0.0", "74.125.255.255")
    ripe = contact("ripe-62.239.237.1.json").network
    assert (ripe.country, ripe.start_address, ripe.end_address) == (
        "GB",
        "62.239.237.0",
        "62.239.237.255",
    )


# --- hand-made answers: pieces the recordings lack ------------------------------------------


def card(*props: list[Any]) -> list[Any]:
    """A jCard with a version property and the given properties."""
    return ["vcard", [["version", {}, "text", "4.0"], *props]]


def test_phones_cidr0_and_abuse_org_fallback() -> None:
    """tel values, cidr0_cidrs and the abuse entity's org (no registrant) are all read."""
    answer = {
        "handle": "NET-1",
        "name": "EXAMPLE-NET",
        "cidr0_cidrs": [{"v4prefix": "192.0.2.0", "length": 24}, {"v6prefix": "2001:db8::"}],
        "entities": [
            {
                "handle": "AB-1",
                "roles": ["abuse"],
                "vcardArray": card(
                    ["fn", {}, "text", "Abuse Team"],
                    ["org", {}, "text", "Example Hosting"],
                    ["email", {"pref": "2"}, "text", "second@example.net"],
                    ["email", {"pref": "1"}, "text", "abuse@example.net"],
                    ["tel", {"type": "voice"}, "uri", "tel:+1-555-0100"],
                ),
            }
        ],
    }
    found = abuse_contact(answer)
    assert found is not None
    assert found.emails == ("abuse@example.net", "second@example.net")
    assert found.phones == ("tel:+1-555-0100",)
    assert (found.provider, found.provider_from) == ("Example Hosting", "abuse-entity")
    assert found.network.cidrs == ("192.0.2.0/24",)


def test_abuse_entity_without_vcard_still_reported() -> None:
    """An abuse entity with no jCard gives a contact with its handle and no addresses."""
    found = abuse_contact({"entities": [{"handle": "X", "roles": ["Abuse"]}]})
    assert found is not None
    assert (found.handle, found.emails, found.name, found.provider_from) == ("X", (), None, "none")


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(None, id="none"),
        pytest.param([], id="list"),
        pytest.param({}, id="empty"),
        pytest.param({"entities": "abuse"}, id="entities-string"),
        pytest.param({"entities": [{"roles": "abuse"}]}, id="roles-string"),
        pytest.param({"entities": [{"roles": ["technical"]}]}, id="no-abuse-role"),
    ],
)
def test_missing_or_malformed_abuse_gives_none(answer: object) -> None:
    """No reachable entity with the abuse role: None, never an exception."""
    assert abuse_contact(answer) is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(
            st.sampled_from(["entities", "roles", "vcardArray", "handle", "name", "cidr0_cidrs"])
            | st.text(max_size=5),
            inner,
            max_size=5,
        )
    ),
    max_leaves=40,
)
ROLES = st.lists(st.sampled_from(["abuse", "registrant", "x", 1]), max_size=3)


@given(JSON)
def test_arbitrary_json_never_raises(value: object) -> None:
    """Any JSON-like value: abuse_contact and network_of return, they never raise."""
    abuse_contact(value)
    network_of(value)


@given(st.lists(st.fixed_dictionaries({"roles": ROLES, "vcardArray": JSON, "entities": JSON})))
def test_entities_with_junk_cards_never_raise(entities: list[Any]) -> None:
    """Abuse and registrant entities whose jCards are junk are read without raising."""
    found = abuse_contact({"entities": entities, "name": "N"})
    assert found is None or all(isinstance(e, str) for e in found.emails)


@given(JSON, st.text(max_size=40))
def test_bootstrap_on_junk_never_raises(bootstrap: object, ip: str) -> None:
    """Junk bootstrap documents and junk addresses give a URL or None, never an exception."""
    rdap_base_for_ip(bootstrap, ip)
    rdap_base_for_ip({"services": [[[ip], [ip]]]}, "192.0.2.1")
    rdap_base_for_asn({"services": [[[ip], ["https://x/"]]]}, 5)


# --- bootstrap (RFC 9224) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ip", "base"),
    [
        pytest.param("74.125.225.229", "https://rdap.arin.net/registry", id="arin-https-first"),
        pytest.param("62.239.237.1", "https://rdap.db.ripe.net/", id="ripe"),
        pytest.param("210.107.73.73", "https://rdap.apnic.net/", id="apnic"),
        pytest.param("196.11.240.215", "https://rdap.afrinic.net/rdap/", id="afrinic"),
        pytest.param("200.57.141.161", "https://rdap.lacnic.net/rdap/", id="lacnic"),
        pytest.param("2001:4860:4860::8888", None, id="v6-in-v4-file"),
        pytest.param("10.0.0.1", None, id="private-unlisted"),
        pytest.param("not an ip", None, id="garbage"),
    ],
)
def test_recorded_ipv4_bootstrap(ip: str, base: str | None) -> None:
    """The recorded IANA IPv4 registry sends each recorded address to its own RIR."""
    assert rdap_base_for_ip(load("bootstrap-ipv4.json"), ip) == base


@pytest.mark.parametrize(
    ("ip", "base"),
    [
        pytest.param("2001:4860:4860::8888", "https://rdap.arin.net/registry", id="arin"),
        pytest.param("2a00:2381:ffff::1", "https://rdap.db.ripe.net/", id="ripe"),
        pytest.param("2001:240:10c:1::ca20:9d1d", "https://rdap.apnic.net/", id="apnic"),
        pytest.param("3000::1", None, id="unallocated"),
        pytest.param("192.0.2.1", None, id="v4-in-v6-file"),
    ],
)
def test_recorded_ipv6_bootstrap(ip: str, base: str | None) -> None:
    """The recorded IANA IPv6 registry sends each recorded address to its own RIR."""
    assert rdap_base_for_ip(load("bootstrap-ipv6.json"), ip) == base


NESTED = {
    "services": [
        [["10.0.0.0/8", "2001:db8::/32"], ["http://wide.example/", "https://wide.example/"]],
        [["10.1.0.0/16"], ["https://mid.example/"]],
        [["10.1.2.0/24", "2001:db8:1::/48"], ["http://narrow.example/"]],
        [["bogus", 7], ["https://bogus.example/"]],
        [["10.9.0.0/16"], ["ftp://nothing-usable.example/"]],
    ]
}


@pytest.mark.parametrize(
    ("ip", "base"),
    [
        pytest.param("10.1.2.3", "http://narrow.example/", id="v4-longest"),
        pytest.param("10.1.9.9", "https://mid.example/", id="v4-middle"),
        pytest.param("10.200.0.1", "https://wide.example/", id="v4-widest-https-preferred"),
        pytest.param("10.9.0.1", "https://wide.example/", id="unusable-url-skipped"),
        pytest.param("2001:db8:1::5", "http://narrow.example/", id="v6-longest"),
        pytest.param("2001:db8:2::5", "https://wide.example/", id="v6-wider"),
        pytest.param("11.0.0.1", None, id="no-match"),
    ],
)
def test_bootstrap_longest_prefix_wins(ip: str, base: str | None) -> None:
    """Overlapping prefixes: the longest covering one picks the registry; https preferred."""
    assert rdap_base_for_ip(NESTED, ip) == base


ASNS = {
    "services": [
        [["1-1876", "64496-64511"], ["https://wide.example/"]],
        [["1000-1100"], ["https://narrow.example/"]],
        [["2018", "x-1", "5-"], ["http://one.example/", "https://one.example/"]],
    ]
}


@pytest.mark.parametrize(
    ("asn", "base"),
    [
        pytest.param(15, "https://wide.example/", id="in-range"),
        pytest.param(1050, "https://narrow.example/", id="narrowest-range"),
        pytest.param(2018, "https://one.example/", id="single-number"),
        pytest.param(64500, "https://wide.example/", id="second-range"),
        pytest.param(70000, None, id="no-match"),
        pytest.param(-1, None, id="negative"),
    ],
)
def test_asn_bootstrap_ranges(asn: int, base: str | None) -> None:
    """ASN services hold ranges and single numbers; the narrowest covering one wins."""
    assert rdap_base_for_asn(ASNS, asn) == base


def test_ip_query_url_adds_missing_slash() -> None:
    """ARIN's base lacks the trailing "/": the query URL still has exactly one."""
    assert rdap_ip_url("https://rdap.arin.net/registry", "192.0.2.1") == (
        "https://rdap.arin.net/registry/ip/192.0.2.1"
    )
    assert rdap_ip_url("https://rdap.apnic.net/", "2001:db8::1") == (
        "https://rdap.apnic.net/ip/2001:db8::1"
    )
