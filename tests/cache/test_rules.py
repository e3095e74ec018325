"""The default caching rules: each named, each with its one-line reason."""

from __future__ import annotations

import pytest

from veil.cache.reasons import Reason
from veil.cache.rules import (
    REQUEST_RULES,
    STORE_RULES,
    RequestFacts,
    ResponseFacts,
    authorization_not_shareable,
    content_type_contradicts_extension,
    method_not_cacheable,
    path_extension,
    response_no_store,
    response_sets_cookie,
)
from veil.http.cache_control import EMPTY, CacheControl

CC = CacheControl


def facts(
    *,
    path: bytes = b"/a",
    status: int = 200,
    directives: CacheControl = EMPTY,
    explicit: bool = True,
    content_type: bytes | None = None,
    authorization: bool = False,
    set_cookie: bool = False,
) -> ResponseFacts:
    return ResponseFacts(
        method=b"GET",
        path=path,
        status=status,
        directives=directives,
        explicit_freshness=explicit,
        request_authorization=authorization,
        set_cookie=set_cookie,
        content_type=content_type,
    )


@pytest.mark.parametrize("rule", [*REQUEST_RULES, *STORE_RULES], ids=lambda r: r.__name__)
def test_every_rule_states_its_reason(rule: object) -> None:
    """Each default rule is a named function with a one-line docstring saying why (read from
    the source: the compiled module keeps no docstrings)."""
    import ast
    from pathlib import Path

    import veil.cache

    source = Path(veil.cache.__file__).with_name("rules.py").read_text()
    docs = {
        node.name: ast.get_docstring(node)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef)
    }
    doc = docs.get(getattr(rule, "__name__", ""))
    assert doc and doc.strip()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param(b"/x.css", b"css", id="plain"),
        pytest.param(b"/a/b/X.CSS", b"css", id="upper"),
        pytest.param(b"/x.css?v=1.2", b"css", id="query-ignored"),
        pytest.param(b"/account.php/x.css", b"css", id="path-info"),
        pytest.param(b"/account.php;x.css", b"css", id="path-parameter"),
        pytest.param(b"/account.php%2Fx%2Ecss", b"css", id="encoded"),
        pytest.param(b"/dir.d/file", b"", id="dot-in-directory"),
        pytest.param(b"/", b"", id="root"),
        pytest.param(b"/archive.tar.gz", b"gz", id="last-dot"),
    ],
)
def test_path_extension(path: bytes, expected: bytes) -> None:
    """The extension of the last path segment, as a cache-deception attacker would craft it."""
    assert path_extension(path) == expected


@pytest.mark.parametrize(
    ("path", "content_type", "contradicts"),
    [
        pytest.param(b"/account.php/x.css", b"text/html; charset=utf-8", True, id="deception-css"),
        pytest.param(b"/profile/avatar.png", b"text/html", True, id="deception-png"),
        pytest.param(b"/api/me.json", b"text/html", True, id="deception-json"),
        pytest.param(b"/x.css", b"text/css", False, id="css"),
        pytest.param(b"/x.js", b"application/javascript", False, id="js"),
        pytest.param(b"/x.mjs", b"text/javascript; charset=utf-8", False, id="mjs"),
        pytest.param(b"/x.json", b"application/problem+json", False, id="json-suffix"),
        pytest.param(b"/x.jpg", b"image/jpeg", False, id="jpg"),
        pytest.param(b"/x.webp", b"IMAGE/WEBP", False, id="type-case"),
        pytest.param(b"/x.svg", b"image/svg+xml", False, id="svg"),
        pytest.param(b"/x.ico", b"image/vnd.microsoft.icon", False, id="ico"),
        pytest.param(b"/x.woff2", b"font/woff2", False, id="woff2"),
        pytest.param(b"/x.woff", b"application/font-woff", False, id="woff-legacy"),
        pytest.param(b"/x.png", b"application/octet-stream", False, id="binary-generic"),
        pytest.param(b"/x.css", b"application/octet-stream", True, id="text-not-generic"),
        pytest.param(b"/x.txt", b"text/plain", False, id="txt"),
        pytest.param(b"/x.pdf", b"application/pdf", False, id="pdf"),
        pytest.param(b"/x.mp4", b"video/mp4", False, id="mp4"),
        pytest.param(b"/page.php", b"text/html", False, id="unknown-extension"),
        pytest.param(b"/page", b"text/html", False, id="no-extension"),
        pytest.param(b"/x.css", None, False, id="no-content-type"),
    ],
)  # fmt: skip
def test_cache_deception_armour(path: bytes, content_type: bytes | None, contradicts: bool) -> None:
    """A static-looking path answered with another kind of content is not stored."""
    reason = content_type_contradicts_extension(facts(path=path, content_type=content_type))
    assert (reason is Reason.CONTENT_TYPE_MISMATCH) is contradicts


@pytest.mark.parametrize(
    ("directives", "shareable"),
    [
        pytest.param(CC(max_age=60), False, id="max-age"),
        pytest.param(CC(public=True), True, id="public"),
        pytest.param(CC(s_maxage=60), True, id="s-maxage"),
        pytest.param(CC(must_revalidate=True), True, id="must-revalidate"),
        pytest.param(CC(proxy_revalidate=True), False, id="proxy-revalidate-not-enough"),
    ],
)
def test_authorization_rule(directives: CacheControl, shareable: bool) -> None:
    """RFC 9111 §3.5: public, s-maxage and must-revalidate let an authorized response be shared."""
    reason = authorization_not_shareable(facts(directives=directives, authorization=True))
    assert (reason is None) is shareable


def test_authorization_rule_ignores_anonymous_requests() -> None:
    """Without Authorization the rule has nothing to say."""
    assert authorization_not_shareable(facts()) is None


@pytest.mark.parametrize(
    ("status", "explicit", "stored"),
    [
        pytest.param(200, True, True, id="200"),
        pytest.param(301, True, True, id="301"),
        pytest.param(302, True, True, id="302-explicit"),
        pytest.param(302, False, False, id="302-heuristic"),
        pytest.param(418, True, False, id="unknown"),
    ],
)
def test_must_understand_ignores_no_store_for_known_statuses(
    status: int, explicit: bool, stored: bool
) -> None:
    """§5.2.2.3: with must-understand, no-store yields to a status code the cache implements."""
    d = CC(no_store=True, must_understand=True)
    reason = response_no_store(facts(status=status, directives=d, explicit=explicit))
    assert (reason is None) is stored


def test_cookie_rule_yields_to_private_field() -> None:
    """private="set-cookie" strips the cookie, so the rest of the response may be stored."""
    plain = facts(set_cookie=True)
    stripped = facts(
        set_cookie=True, directives=CC(private=True, private_fields=frozenset({b"set-cookie"}))
    )
    assert response_sets_cookie(plain) is Reason.SET_COOKIE
    assert response_sets_cookie(stripped) is None


@pytest.mark.parametrize(
    ("method", "bypass"),
    [(b"GET", False), (b"HEAD", False), (b"POST", True), (b"OPTIONS", True), (b"head", True)],
)
def test_method_rule(method: bytes, bypass: bool) -> None:
    """Only GET and HEAD (case-sensitive tokens) are cacheable methods."""
    assert (method_not_cacheable(RequestFacts(method)) is Reason.METHOD) is bypass
