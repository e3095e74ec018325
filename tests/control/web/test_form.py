"""The public report form: the chooser, one accessible form per type, bad form data."""

from __future__ import annotations

import pytest

from tests.control.harness import Api
from tests.control.web.support import DMCA, browser, controls, parse
from veil.abuse.notices import Category
from veil.control.web.formdata import MAX_FIELDS


async def test_chooser_lists_every_report_type(api: Api) -> None:
    """GET /abuse links to a form for every category, described in plain words."""
    async with browser(api) as client:
        response = await client.get("/abuse")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    links = {a.attrs["href"] for a in parse(response.text).all("a")}
    assert {f"/abuse/new/{c.value}" for c in Category} <= links
    assert "Copyright infringement (DMCA)" in response.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("category", list(Category))
async def test_every_input_has_a_label_and_its_hints_exist(api: Api, category: Category) -> None:
    """Each form: every control has a <label for>, every aria-describedby id exists, the
    required ones say so, and the notification choices follow the anonymity rules."""
    async with browser(api) as client:
        response = await client.get(f"/abuse/new/{category.value}")
    assert response.status_code == 200
    page = parse(response.text)
    labelled = {label.attrs.get("for") for label in page.all("label")}
    for control in controls(page):
        assert control.attrs.get("id") in labelled, control
        for ident in control.attrs.get("aria-describedby", "").split():
            assert page.by_id(ident) is not None, ident
    assert page.all("input", name="urls") == [] and page.all("textarea", name="urls")
    assert page.all("textarea", name="urls")[0].attrs.get("aria-required") == "true"
    anon = page.all("input", name="owner_notification", value="send-anon")
    if category in {Category.DMCA, Category.TRADEMARK}:
        assert anon == []
    else:
        assert len(anon) == 1
    assert "Who we tell" in response.text and "<script" not in response.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_dmca_form_has_separate_statements_and_cloudflare_names(api: Api) -> None:
    """The DMCA form asks each §512(c)(3)(A) element with Cloudflare's field names, and the
    good-faith and perjury statements as two checkboxes; ?type= gives the same form."""
    async with browser(api) as client:
        by_path = await client.get("/abuse/new/abuse_dmca")
        by_query = await client.get("/abuse", params={"type": "abuse_dmca"})
    assert by_query.status_code == 200 and by_query.text == by_path.text
    page = parse(by_path.text)
    names = {c.attrs.get("name") for c in controls(page)}
    assert {
        "urls",
        "original_work",
        "signature",
        "name",
        "email",
        "email2",
        "statement_good_faith",
        "statement_accuracy_perjury",
        "host_notification",
        "owner_notification",
    } <= names
    for name in ("statement_good_faith", "statement_accuracy_perjury"):
        [box] = page.all("input", name=name)
        assert box.attrs["type"] == "checkbox" and box.attrs.get("aria-required") == "true"
    [form] = page.all("form")
    assert form.attrs["method"] == "post" and form.attrs["action"] == "/abuse/new/abuse_dmca"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_unknown_report_type_is_a_400_page(api: Api) -> None:
    """An unknown type, by path, query or post, gets a 400 page naming it (escaped)."""
    async with browser(api) as client:
        for response in (
            await client.get("/abuse/new/abuse_spam"),
            await client.get("/abuse", params={"type": "<b>x</b>"}),
            await client.post("/abuse/new/abuse_spam", data=DMCA),
        ):
            assert response.status_code == 400
            assert "Unknown report type" in response.text
            assert "<b>x</b>" not in response.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_bad_form_data_gets_a_clear_400(api: Api) -> None:
    """Oversized fields, more than 1000 URLs, an answer not offered, a NUL, a filled honeypot,
    a file, too many fields and a non-form body each get a 400 page saying what is wrong."""
    many = "\n".join(f"https://shop.example/{i}" for i in range(1001))
    cases = [
        ({**DMCA, "name": "x" * 300}, "is too long: at most 255"),
        ({**DMCA, "urls": many}, "at most 1000"),
        ({**DMCA, "host_notification": "send-anon"}, "choose one of: send, none"),
        ({**DMCA, "name": "a\x00b"}, "NUL"),
        ({**DMCA, "website": "http://spam.example"}, "looks automated"),
    ]
    async with browser(api) as client:
        for data, words in cases:
            response = await client.post("/abuse/new/abuse_dmca", data=data)
            assert response.status_code == 400, words
            assert words in response.text, response.text
        response = await client.post(
            "/abuse/new/abuse_dmca", data=DMCA, files={"evidence": ("a.txt", b"x")}
        )
        assert response.status_code == 400 and "could not read the form" in response.text
        extra = {f"x{i}": "1" for i in range(MAX_FIELDS + 1)}
        response = await client.post("/abuse/new/abuse_dmca", data={**DMCA, **extra})
        assert response.status_code == 400 and "could not read the form" in response.text
        response = await client.post("/abuse/new/abuse_dmca", json=DMCA)
        assert response.status_code == 400 and "x-www-form-urlencoded" in response.text


async def test_pages_are_outside_the_api_schema(api: Api) -> None:
    """The public pages are not in the OpenAPI schema of /client/v4."""
    response = await api.client.get("/openapi.json")
    assert response.status_code == 200
    assert not [path for path in response.json()["paths"] if path.startswith("/abuse")]
