"""Filing through the form: receipt, status page, repair, errors, not on our network, XSS."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from tests.control.harness import Api
from tests.control.web.support import (
    DMCA,
    HOST_ABUSE,
    HOST_NAME,
    ORIGIN,
    browser,
    parse,
    proxied_zone,
)
from veil.control.store.models import AbuseCase, MailOutbox
from veil.control.web.limits import POSTS_PER_WINDOW


def _status_path(html: str) -> str:
    """The path and query of the (only) status link in a receipt."""
    links = {a.attrs["href"] for a in parse(html).all("a") if "/abuse/cases/" in a.attrs["href"]}
    [link] = links
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def _cases(api: Api) -> list[AbuseCase]:
    with api.app.state.veil.db.read() as session:
        return list(session.scalars(select(AbuseCase)))


async def test_complete_dmca_notice_gives_a_receipt_naming_the_host(api: Api) -> None:
    """A complete DMCA notice on a proxied zone: receipt with case id, status link, the host's
    name and abuse contact; the status link works; the origin address appears nowhere."""
    await proxied_zone(api)
    async with browser(api) as client:
        started = time.perf_counter()
        response = await client.post("/abuse/new/abuse_dmca", data=DMCA)
        print(f"form receipt in {time.perf_counter() - started:.3f} s")
        assert response.status_code == 200, response.text
        [case] = _cases(api)
        assert case.state == "forwarded" and case.channel == "form"
        assert f"Case {case.id}" in response.text
        assert HOST_NAME in response.text and HOST_ABUSE in response.text
        assert ORIGIN not in response.text
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "no-referrer"
        path = _status_path(response.text)
        status = await client.get(path)
    assert status.status_code == 200
    assert HOST_NAME in status.text and HOST_ABUSE in status.text
    assert "Forwarded" in status.text and "https://shop.example/dresses/copy-1" in status.text
    assert ORIGIN not in status.text and "Ada Counsel" not in status.text
    assert "Complete your report" not in status.text
    with api.app.state.veil.db.read() as session:
        mails = session.scalars(select(MailOutbox).where(MailOutbox.party == "reporter")).all()
    assert [m.to_addr for m in mails] == ["counsel@rights.example"]


async def test_incomplete_notice_is_kept_and_the_receipt_names_exactly_what_is_missing(
    api: Api,
) -> None:
    """(ii)-(iv) present but no signature and no statements: filed as incomplete, the receipt
    names exactly signature, good_faith and accuracy_and_authority, and the repair form on the
    status page completes it, which forwards it."""
    await proxied_zone(api)
    lacking = {
        k: v
        for k, v in DMCA.items()
        if k not in {"signature", "statement_good_faith", "statement_accuracy_perjury"}
    }
    async with browser(api) as client:
        response = await client.post("/abuse/new/abuse_dmca", data=lacking)
        assert response.status_code == 200, response.text
        page = parse(response.text)
        missing = [li.attrs["data-element"] for li in page.all("li") if "data-element" in li.attrs]
        assert missing == ["signature", "good_faith", "accuracy_and_authority"]
        [case] = _cases(api)
        assert case.state == "incomplete_awaiting_reporter"
        path = _status_path(response.text)
        status = await client.get(path)
        assert status.status_code == 200 and "Complete your report" in status.text
        form = parse(status.text)
        names = {e.attrs["name"] for e in form.all("input") if e.attrs.get("name") != "website"}
        assert names == {"signature", "statement_good_faith", "statement_accuracy_perjury"}
        [repair] = form.all("form")
        half = await client.post(repair.attrs["action"], data={"signature": "Ada Counsel"})
        assert half.status_code == 303
        again = await client.get(half.headers["location"])
        assert "Complete your report" in again.text and "Add your physical" not in again.text
        done = await client.post(
            repair.attrs["action"],
            data={"statement_good_faith": "1", "statement_accuracy_perjury": "1"},
        )
        assert done.status_code == 303
        final = await client.get(done.headers["location"])
        late = await client.post(repair.attrs["action"], data={"signature": "X"})
    assert "Forwarded" in final.text and "Complete your report" not in final.text
    assert [c.state for c in _cases(api)] == ["forwarded"]
    assert late.status_code == 409


async def test_invalid_notice_comes_back_with_errors_beside_the_fields(api: Api) -> None:
    """No work and no URLs: nothing is filed; the form returns with the reporter's values, an
    error summary linking to each field, aria-invalid and the message beside the field."""
    await proxied_zone(api)
    data = {**DMCA, "original_work": "", "urls": "", "email2": "other@rights.example"}
    async with browser(api) as client:
        response = await client.post("/abuse/new/abuse_dmca", data=data)
    assert response.status_code == 422
    assert _cases(api) == []
    page = parse(response.text)
    targets = [a.attrs["href"] for a in page.all("a") if a.attrs["href"].startswith("#f-")]
    assert targets == ["#f-urls", "#f-original_work", "#f-email2"]  # the page's order
    for name in ("original_work", "urls", "email2"):
        control = page.by_id(f"f-{name}")
        assert control is not None and control.attrs.get("aria-invalid") == "true"
        assert f"f-{name}-error" in control.attrs["aria-describedby"].split()
        assert page.by_id(f"f-{name}-error") is not None
    [name] = page.all("input", name="name")
    assert name.attrs["value"] == "Ada Counsel"
    assert page.all("input", name="statement_good_faith")[0].attrs.get("checked") is not None
    assert page.by_id("f-signature").attrs.get("aria-invalid") is None  # type: ignore[union-attr]


async def test_url_off_the_network_is_not_on_our_network(api: Api) -> None:
    """A URL on no zone is answered "not on our network"; with an on-network URL beside it,
    the case covers only the on-network one."""
    await proxied_zone(api)
    async with browser(api) as client:
        alone = await client.post(
            "/abuse/new/abuse_dmca", data={**DMCA, "urls": "https://elsewhere.example/x"}
        )
        mixed = await client.post(
            "/abuse/new/abuse_dmca",
            data={**DMCA, "urls": "https://shop.example/a\nhttps://elsewhere.example/y"},
        )
    assert alone.status_code == 200 and mixed.status_code == 200
    assert "not on our network" in alone.text and "https://elsewhere.example/x" in alone.text
    assert HOST_NAME not in alone.text
    assert "not on our network" in mixed.text and "https://elsewhere.example/y" in mixed.text
    assert HOST_NAME in mixed.text
    assert sorted(c.state for c in _cases(api)) == ["closed", "forwarded"]


async def test_wrong_status_key_and_unknown_case_get_the_same_404(api: Api) -> None:
    """A wrong key, no key and an unknown case id all get the same 404 page; so does a repair
    post with a wrong key."""
    await proxied_zone(api)
    async with browser(api) as client:
        response = await client.post("/abuse/new/abuse_dmca", data=DMCA)
        [case] = _cases(api)
        answers = [
            await client.get(f"/abuse/cases/{case.id}", params={"key": "x" * 32}),
            await client.get(f"/abuse/cases/{case.id}"),
            await client.get("/abuse/cases/0123456789abcdef0123456789abcdef", params={"key": "k"}),
            await client.get(f"/abuse/cases/{case.id}", params={"key": "é"}),
            await client.post(
                f"/abuse/cases/{case.id}/repair", params={"key": "x"}, data={"signature": "s"}
            ),
        ]
    assert response.status_code == 200
    assert [a.status_code for a in answers] == [404] * 5
    assert len({a.text for a in answers}) == 1


async def test_user_input_is_escaped(api: Api) -> None:
    """Markup typed into any field comes back as text, never as markup."""
    await proxied_zone(api)
    attack = '"><script>alert(1)</script>'
    data = {
        **DMCA,
        "original_work": "",
        "name": attack,
        "comments": "</textarea><script>alert(2)</script>",
        "urls": f"https://shop.example/x\n{attack}",
    }
    async with browser(api) as client:
        response = await client.post("/abuse/new/abuse_dmca", data=data)
    assert response.status_code == 422
    assert "<script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "&lt;/textarea&gt;&lt;script&gt;alert(2)" in response.text
    assert "script-src" not in response.headers["content-security-policy"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_posts_per_address_are_rate_limited(api: Api) -> None:
    """After POSTS_PER_WINDOW posts from one address the form answers 429 with Retry-After."""
    async with browser(api) as client:
        for _ in range(POSTS_PER_WINDOW):
            response = await client.post("/abuse/new/abuse_general", data={"comments": ""})
            assert response.status_code == 422
        response = await client.post("/abuse/new/abuse_general", data={"comments": ""})
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    with api.app.state.veil.db.read() as session:
        assert session.scalar(select(func.count()).select_from(AbuseCase)) == 0
