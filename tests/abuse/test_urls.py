"""Reported URLs: splitting the `urls` field and RFC 3986 §6 normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil.abuse.urls import NormalisedURL, normalise_url, split_urls


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        pytest.param("http://example.com/", "http://example.com/", id="already-canonical"),
        pytest.param(
            "HTTP://EXAMPLE.com/A", "http://example.com/A", id="case-scheme-host-not-path"
        ),
        pytest.param("http://bücher.example/x", "http://xn--bcher-kva.example/x", id="idna"),
        pytest.param("http://Bücher.Example", "http://xn--bcher-kva.example/", id="idna-case"),
        pytest.param("example.com/x", "http://example.com/x", id="bare-host-gets-http"),
        pytest.param("//example.com/x", "http://example.com/x", id="scheme-relative"),
        pytest.param("example.com:8080/x", "http://example.com:8080/x", id="bare-host-port"),
        pytest.param("http://example.com:80/", "http://example.com/", id="default-port-http"),
        pytest.param("https://example.com:443/", "https://example.com/", id="default-port-https"),
        pytest.param("https://example.com:80/", "https://example.com:80/", id="other-port-kept"),
        pytest.param("http://example.com:/", "http://example.com/", id="empty-port"),
        pytest.param("http://example.com./", "http://example.com/", id="trailing-dot"),
        pytest.param("http://example.com/a/./b/../c", "http://example.com/a/c", id="dot-segments"),
        pytest.param("http://example.com/../../a", "http://example.com/a", id="dot-above-root"),
        pytest.param("http://example.com/%7e", "http://example.com/~", id="unreserved-decoded"),
        pytest.param("http://example.com/%2f", "http://example.com/%2F", id="slash-kept-upper"),
        pytest.param("http://example.com/%41%2e", "http://example.com/A.", id="letters-decoded"),
        pytest.param("http://example.com/a b", "http://example.com/a%20b", id="space-escaped"),
        pytest.param("http://example.com/é", "http://example.com/%C3%A9", id="non-ascii-path"),
        pytest.param("http://example.com/100%", "http://example.com/100%25", id="lone-percent"),
        pytest.param("http://example.com", "http://example.com/", id="empty-path"),
        pytest.param("http://example.com/a?b=%7e#frag", "http://example.com/a?b=~", id="fragment"),
        pytest.param("http://example.com/?", "http://example.com/", id="empty-query"),
        pytest.param("http://192.0.2.1:8080/x", "http://192.0.2.1:8080/x", id="ipv4"),
        pytest.param("http://[2001:DB8::0001]/", "http://[2001:db8::1]/", id="ipv6"),
        pytest.param("  http://example.com/  ", "http://example.com/", id="whitespace-stripped"),
    ],
)
def test_normalise(text: str, canonical: str) -> None:
    """Each spelling normalises to the one canonical string."""
    result = normalise_url(text)
    assert result is not None
    assert result.canonical == canonical


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("ftp://example.com/", id="ftp"),
        pytest.param("javascript:alert(1)", id="javascript"),
        pytest.param("mailto:a@example.com", id="mailto"),
        pytest.param("http:/example.com", id="one-slash"),
        pytest.param("http://user:pw@example.com/", id="userinfo"),
        pytest.param("http://@example.com/", id="empty-userinfo"),
        pytest.param("http://exa mple.com/", id="space-in-host"),
        pytest.param("http://exa_mple!.com/", id="bang-in-host"),
        pytest.param("http://a..b/", id="empty-label"),
        pytest.param("http://" + "a" * 64 + ".com/", id="long-label"),
        pytest.param("http://foo.123/", id="numeric-tld"),
        pytest.param("http://256.1.1.1/", id="bad-ipv4"),
        pytest.param("http://[::1/", id="unclosed-ipv6"),
        pytest.param("http://[fe80::1%25eth0]/", id="ipv6-zone"),
        pytest.param("http://example.com:99999/", id="port-range"),
        pytest.param("http://example.com:0/", id="port-zero"),
        pytest.param("http://example.com:8o/", id="port-letters"),
        pytest.param("http://example.com/\x00", id="control-char"),
        pytest.param("http://\ud800/", id="surrogate"),
    ],
)
def test_refused(text: str) -> None:
    """Non-http(s), userinfo, bad hosts and bad ports are refused with None."""
    assert normalise_url(text) is None


def test_parts() -> None:
    """The value carries host, effective port, path and query apart from the canonical string."""
    assert normalise_url("HTTPS://Example.COM:8443/a/../b?x=1") == NormalisedURL(
        "https", "example.com", 8443, "/b", "x=1"
    )


def test_split_urls() -> None:
    """Lines are stripped, blanks dropped, duplicates removed keeping the first order."""
    field = " http://a.example/1 \r\n\n http://b.example/ \nhttp://a.example/1\n"
    assert split_urls(field) == (["http://a.example/1", "http://b.example/"], False)


def test_split_urls_cap() -> None:
    """More lines than the limit are cut, and the result says so."""
    lines = split_urls("\n".join(f"http://e.example/{i}" for i in range(5)), limit=3)
    assert lines.urls == ["http://e.example/0", "http://e.example/1", "http://e.example/2"]
    assert lines.truncated


URLISH = st.one_of(
    st.text(),
    st.builds(
        lambda s, h, p, rest: f"{s}{h}{p}{rest}",
        st.sampled_from(["", "http://", "HTTPS://", "//", "ftp://"]),
        st.one_of(st.from_regex(r"[A-Za-z0-9.\-_]{1,20}", fullmatch=True), st.text(max_size=10)),
        st.sampled_from(["", ":", ":80", ":443", ":8080", ":0"]),
        st.text(alphabet=st.sampled_from(list("/.%2fE7e~aZ?#é @[]:")), max_size=30),
    ),
)


@given(URLISH)
def test_normalise_total_and_idempotent(text: str) -> None:
    """normalise never raises, and normalising the canonical string gives it back."""
    result = normalise_url(text)
    if result is not None:
        again = normalise_url(result.canonical)
        assert again == result
        assert again is not None and again.canonical == result.canonical
