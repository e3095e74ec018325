"""Helpers for the public pages' tests: a browser-less client on the app, a tiny HTML reader,
and a proxied zone whose hosting provider is declared."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import httpx

from tests.control.harness import Api
from veil.control.store.models import AccountHost

ORIGIN = "93.184.215.14"
HOST_NAME = "Example Hosting GmbH"
HOST_ABUSE = "abuse@hosting.example"

DMCA: dict[str, str] = {
    "urls": "https://shop.example/dresses/copy-1\nhttp://www.shop.example/dresses/copy-2",
    "original_work": "Bridal gown collection 2026, photographs at https://rights.example/gowns",
    "agent_name": "Gowns Inc.",
    "name": "Ada Counsel",
    "email": "counsel@rights.example",
    "email2": "counsel@rights.example",
    "company": "Rights LLP",
    "address1": "1 Main St",
    "city": "Springfield",
    "country": "US",
    "tele": "+1 555 0100",
    "signature": "Ada Counsel",
    "statement_good_faith": "1",
    "statement_accuracy_perjury": "1",
    "host_notification": "send",
    "owner_notification": "send",
}


@asynccontextmanager
async def browser(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    """A client without a token (the public pages need none), like a visitor's browser."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app), base_url="http://control.test"
    ) as client:
        yield client


async def proxied_zone(api: Api, name: str = "shop.example") -> dict[str, Any]:
    """A proxied zone (apex and www at ORIGIN) whose account declares its hosting provider."""
    zone = await api.zone(name)
    for record in (name, f"www.{name}"):
        await api.ok(
            "POST",
            f"/zones/{zone['id']}/dns_records",
            json={"type": "A", "name": record, "content": ORIGIN, "proxied": True},
        )
    state = api.app.state.veil
    with state.db.write() as session:
        session.add(
            AccountHost(
                account_id=zone["account"]["id"],
                name=HOST_NAME,
                abuse_email=HOST_ABUSE,
                modified_on=state.now(),
            )
        )
        session.commit()
    return zone


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


@dataclass
class Page(HTMLParser):
    """The elements of a page with their attributes (and the text of labels, links, items)."""

    elements: list[Element] = field(default_factory=list)
    _open: list[Element] = field(default_factory=list)

    def __post_init__(self) -> None:
        HTMLParser.__init__(self)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)
        if tag in {"label", "a", "li", "legend", "p", "textarea", "h1", "h2"}:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data

    def all(self, tag: str, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.elements
            if e.tag == tag and all(e.attrs.get(k) == v for k, v in attrs.items())
        ]

    def by_id(self, ident: str) -> Element | None:
        return next((e for e in self.elements if e.attrs.get("id") == ident), None)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def controls(page: Page) -> list[Element]:
    """Every control a person fills in (not buttons)."""
    found = [e for e in page.elements if e.tag in {"input", "textarea", "select"}]
    return [e for e in found if e.attrs.get("type") not in {"hidden", "submit", "button"}]
