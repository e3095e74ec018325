"""`veil purge` and `veil zone cache`: clients of a running control API (docs/cache.md).

Both take the usual `--data-dir`, `--api` and `--token`; every failure is one line on stderr
and a non-zero exit.
"""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from veil.cli import cli
from veil.cli.api_commands import Target, call, common_options, console, die, find_zone, zone

LEVELS = (
    "bypass",
    "standard",
    "ignore_query",
    "cache_everything",
    "aggressive",
    "basic",
    "simplified",
)
QUERY_MODES = ("all", "none", "sorted", "allow")


def _purge_body(
    urls: tuple[str, ...],
    prefixes: tuple[str, ...],
    hosts: tuple[str, ...],
    tags: tuple[str, ...],
    everything: bool,
    headers: tuple[str, ...],
) -> dict[str, Any]:
    given = [
        (key, list(values))
        for key, values in (
            ("files", urls),
            ("prefixes", prefixes),
            ("hosts", hosts),
            ("tags", tags),
        )
        if values
    ]
    if len(given) + everything != 1:
        die("give exactly one kind of target: --url, --prefix, --host, --tag or --everything")
    if headers and not urls:
        die("--header only goes with --url (it names one Vary variant of the URLs)")
    if everything:
        return {"purge_everything": True}
    [(key, values)] = given
    if key == "files" and headers:
        fields = dict(_header(h) for h in headers)
        return {"files": [{"url": url, "headers": fields} for url in values]}
    return {key: values}


def _header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon or not name.strip():
        die(f"invalid --header {text!r}: use 'Name: value'")
    return name.strip(), value.strip()


@cli.command("purge")
@click.argument("zone_name", metavar="ZONE")
@click.option("--url", "urls", multiple=True, help="A URL to purge (repeatable).")
@click.option("--prefix", "prefixes", multiple=True, help="host/path prefix (repeatable).")
@click.option("--host", "hosts", multiple=True, help="A host name (repeatable).")
@click.option("--tag", "tags", multiple=True, help="A Cache-Tag / Surrogate-Key (repeatable).")
@click.option("--everything", is_flag=True, help="Everything in the zone.")
@click.option("--header", "headers", multiple=True, help="'Name: value' with --url: one variant.")
@click.option("--soft", is_flag=True, help="Mark stale (revalidate) instead of dropping.")
@common_options
def purge(
    target: Target,
    zone_name: str,
    urls: tuple[str, ...],
    prefixes: tuple[str, ...],
    hosts: tuple[str, ...],
    tags: tuple[str, ...],
    everything: bool,
    headers: tuple[str, ...],
    soft: bool,
) -> None:
    """Purge cached objects of ZONE from every edge."""
    body = _purge_body(urls, prefixes, hosts, tags, everything, headers)
    if soft:
        body["soft"] = True
    found = find_zone(target, zone_name)
    result = call(target, "POST", f"/zones/{found['id']}/purge_cache", json=body)
    count = sum(len(v) for v in (urls, prefixes, hosts, tags))
    what = "everything" if everything else f"{count} item{'s' if count != 1 else ''}"
    mode = "soft purge" if soft else "purge"
    console().print(f"{mode} of {what} in {found['name']} sent (purge id {result['id']})")


def _ttl(value: int) -> str:
    return f"{value} s" if value else "as the origin says"


def _show(target: Target, zone_id: str, name: str) -> None:
    settings = {s["id"]: s for s in call(target, "GET", f"/zones/{zone_id}/settings")}
    key = settings["cache_key"]["value"]
    dev = settings["development_mode"]
    table = Table(box=None, pad_edge=False, show_header=False)
    rows = [
        ("zone", name),
        ("level", settings["cache_level"]["value"]),
        ("edge ttl", _ttl(settings["edge_cache_ttl"]["value"])),
        ("browser ttl", _ttl(settings["browser_cache_ttl"]["value"])),
        (
            "development mode",
            f"on ({dev['time_remaining']} s left)" if dev["value"] == "on" else "off",
        ),
        (
            "query string",
            key["query"] + (f" ({', '.join(key['query_allow'])})" if key["query_allow"] else ""),
        ),
        ("key headers", ", ".join(key["headers"]) or "-"),
        ("key cookies", ", ".join(key["cookies"]) or "-"),
    ]
    for label, value in rows:
        table.add_row(label, str(value))
    console().print(table)


def _names(values: tuple[str, ...]) -> list[str]:
    """A repeated option's values; a lone empty value clears the list."""
    return [v for v in values if v.strip()]


@zone.command("cache")
@click.argument("name")
@click.option("--level", type=click.Choice(LEVELS), default=None, help="Cache level.")
@click.option("--edge-ttl", type=click.IntRange(0), default=None, help="Seconds; 0: origin's.")
@click.option("--browser-ttl", type=click.IntRange(0), default=None, help="Seconds; 0: origin's.")
@click.option("--dev-mode", type=click.Choice(("on", "off")), default=None, help="3 h bypass.")
@click.option("--query", type=click.Choice(QUERY_MODES), default=None, help="Query in the key.")
@click.option("--query-allow", multiple=True, help="Kept parameter with --query allow (repeat).")
@click.option("--key-header", multiple=True, help="Request header in the key ('' clears).")
@click.option("--key-cookie", multiple=True, help="Cookie in the key ('' clears).")
@common_options
def zone_cache(
    target: Target,
    name: str,
    level: str | None,
    edge_ttl: int | None,
    browser_ttl: int | None,
    dev_mode: str | None,
    query: str | None,
    query_allow: tuple[str, ...],
    key_header: tuple[str, ...],
    key_cookie: tuple[str, ...],
) -> None:
    """Show or change the cache settings of zone NAME."""
    found = find_zone(target, name)
    base = f"/zones/{found['id']}/settings"
    changes: list[tuple[str, Any]] = [
        (setting, value)
        for setting, value in (
            ("cache_level", level),
            ("edge_cache_ttl", edge_ttl),
            ("browser_cache_ttl", browser_ttl),
            ("development_mode", dev_mode),
        )
        if value is not None
    ]
    key: dict[str, Any] = {}
    if query is not None:
        key["query"] = query
    for field, values in (
        ("query_allow", query_allow),
        ("headers", key_header),
        ("cookies", key_cookie),
    ):
        if values:
            key[field] = _names(values)
    if key:
        changes.append(("cache_key", key))
    for setting, value in changes:
        call(target, "PATCH", f"{base}/{setting}", json={"value": value})
    _show(target, found["id"], found["name"])
