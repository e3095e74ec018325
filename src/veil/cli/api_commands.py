"""`veil zone …`, `veil token …`, `veil status`: clients of a running control API.

Every command takes `--data-dir` (default `.veil`), `--api` (default: `DIR/api.url`, else
http://127.0.0.1:8081) and `--token` (default: `$VEIL_TOKEN`, else `DIR/admin.token`).
Every failure is one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit

import click
import httpx
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from veil.cli import cli, err_console
from veil.settings import DEFAULT_API_LISTEN, DEFAULT_DATA_DIR, format_hostport

API_PREFIX = "/client/v4"
DEFAULT_API_URL = f"http://{format_hostport(*DEFAULT_API_LISTEN)}"
TIMEOUT = httpx.Timeout(15.0, connect=3.0)
PERMISSIONS = (
    "zone:read",
    "zone:edit",
    "dns:read",
    "dns:edit",
    "cache:purge",
    "account:read",
    "account:edit",
    "token:edit",
    "edge:read",
    "admin",
)
F = TypeVar("F", bound=Callable[..., Any])
PIPE_WIDTH = 240  # piped output is not wrapped or truncated at 80 columns


def console() -> Console:
    """Standard output; full-width lines when piped, so ids and tokens are never cut."""
    return Console(
        highlight=False,
        markup=False,
        soft_wrap=True,
        width=None if sys.stdout.isatty() else PIPE_WIDTH,
    )


def die(message: str) -> NoReturn:
    """`veil.cli.fail`, but markup-safe (origin URLs hold `[v6]` brackets) and never wrapped,
    so the error stays ONE line whatever the terminal width."""
    err_console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    sys.exit(1)


@dataclass(frozen=True, slots=True)
class Target:
    """Where the API is and how to authenticate."""

    api: str
    token: str


def resolve_target(data_dir: Path, api: str | None, token: str | None) -> Target:
    if api is None:
        url_file = data_dir / "api.url"
        try:
            api = url_file.read_text().strip() or DEFAULT_API_URL
        except OSError:
            api = DEFAULT_API_URL
    if not token:
        token_file = data_dir / "admin.token"
        try:
            token = token_file.read_text().strip()
        except OSError:
            die(f"no API token: pass --token, set VEIL_TOKEN, or create {token_file} (veil up)")
        if not token:
            die(f"no API token: {token_file} is empty")
    return Target(api=api.rstrip("/"), token=token)


def common_options(command: F) -> F:
    """--data-dir, --api and --token, turned into a `target: Target` keyword."""

    @click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=DEFAULT_DATA_DIR,
        show_default=True,
        help="Where api.url and admin.token live.",
    )
    @click.option("--api", "api", default=None, help="Control API URL (default: DIR/api.url).")
    @click.option(
        "--token",
        envvar="VEIL_TOKEN",
        default=None,
        help="API token (default: $VEIL_TOKEN, else DIR/admin.token).",
    )
    @functools.wraps(command)
    def wrapper(data_dir: Path, api: str | None, token: str | None, **kwargs: Any) -> Any:
        return command(target=resolve_target(data_dir, api, token), **kwargs)

    return wrapper  # type: ignore[return-value]


def request(
    target: Target,
    method: str,
    path: str,
    *,
    json: Any = None,
    params: dict[str, Any] | None = None,
) -> httpx.Response:
    """Send one request to the API; a transport failure exits with one clear line."""
    try:
        return httpx.request(
            method,
            f"{target.api}{API_PREFIX}{path}",
            json=json,
            params=params,
            headers={"Authorization": f"Bearer {target.token}"},
            timeout=TIMEOUT,
            trust_env=False,
        )
    except httpx.InvalidURL:
        die(f"invalid API URL {target.api!r}")
    except httpx.ConnectError:
        die(f"cannot reach the Veil API at {target.api} (is `veil up` running?)")
    except httpx.TimeoutException:
        die(f"the Veil API at {target.api} did not answer in time")
    except httpx.HTTPError as exc:
        die(f"request to the Veil API at {target.api} failed: {type(exc).__name__}")


def call(
    target: Target,
    method: str,
    path: str,
    *,
    json: Any = None,
    params: dict[str, Any] | None = None,
) -> Any:
    """One API call; returns the envelope's result or exits with its error message."""
    response = request(target, method, path, json=json, params=params)
    try:
        body = response.json()
    except ValueError:
        die(f"unexpected answer from {target.api} (HTTP {response.status_code}, not JSON)")
    if not isinstance(body, dict) or "success" not in body:
        die(f"unexpected answer from {target.api} (HTTP {response.status_code})")
    if not body["success"]:
        errors = body.get("errors") or [{"message": f"HTTP {response.status_code}"}]
        die("; ".join(str(e.get("message", e)) for e in errors if isinstance(e, dict)))
    return body.get("result")


def fetch_all(target: Target, path: str, params: dict[str, Any] | None = None) -> list[Any]:
    """Every item of a paginated list."""
    items: list[Any] = []
    page = 1
    while True:
        result = call(target, "GET", path, params={**(params or {}), "page": page, "per_page": 50})
        if not result:
            return items
        items.extend(result)
        if len(result) < 50:
            return items
        page += 1


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int

    @property
    def record_type(self) -> str:
        try:
            address = ipaddress.ip_address(self.host)
        except ValueError:
            return "CNAME"
        return "A" if address.version == 4 else "AAAA"


def parse_origin(url: str) -> Origin:
    """An origin URL: http(s)://HOST[:PORT][/] — no credentials, path, query or fragment."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        die(f"invalid origin URL {url!r}: {exc}")
    if parts.scheme not in ("http", "https"):
        die(f"invalid origin URL {url!r}: the scheme must be http or https")
    if not parts.hostname:
        die(f"invalid origin URL {url!r}: no host")
    if parts.username or parts.password:
        die(f"invalid origin URL {url!r}: credentials are not allowed")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        die(f"invalid origin URL {url!r}: only scheme, host and port are allowed")
    default = 443 if parts.scheme == "https" else 80
    return Origin(scheme=parts.scheme, host=parts.hostname, port=port or default)


def find_zone(target: Target, name: str) -> dict[str, Any]:
    zones = call(target, "GET", "/zones", params={"name": name.strip().lower().rstrip(".")})
    if not zones:
        die(f"no zone named {name!r}")
    zone: dict[str, Any] = zones[0]
    return zone


@cli.group()
def zone() -> None:
    """Add, list and remove zones."""


@zone.command("add")
@click.argument("name")
@click.option(
    "--origin", "origin_url", required=True, help="Origin URL, e.g. https://203.0.113.7:8443"
)
@click.option("--account", "account_id", default=None, help="Account id (default: the operator's).")
@click.option("--host-header", default=None, help="Host header sent to the origin.")
@common_options
def zone_add(
    target: Target, name: str, origin_url: str, account_id: str | None, host_header: str | None
) -> None:
    """Create zone NAME, proxied to the origin at --origin."""
    origin = parse_origin(origin_url)
    body: dict[str, Any] = {"name": name}
    if account_id:
        body["account"] = {"id": account_id}
    created = call(target, "POST", "/zones", json=body)
    zone_id = created["id"]
    record = {"type": origin.record_type, "name": "@", "content": origin.host, "proxied": True}
    settings = {"scheme": origin.scheme, "port": origin.port, "host_header": host_header}
    try:
        call(target, "POST", f"/zones/{zone_id}/dns_records", json=record)
        call(target, "PATCH", f"/zones/{zone_id}/settings/origin", json={"value": settings})
    except SystemExit:
        delete_quietly(target, zone_id)
        raise
    console().print(
        f"zone {created['name']} added (id {zone_id}), proxied to "
        f"{origin.scheme}://{format_hostport(origin.host, origin.port)}"
    )
    if created.get("status") == "pending":
        console().print(
            "pending: not served until the account's abuse contact is verified "
            "(PATCH /accounts/ID with contact_email_verified: true)"
        )


def delete_quietly(target: Target, zone_id: str) -> None:
    """Undo a half-created zone; stay quiet if that fails too."""
    with contextlib.suppress(httpx.HTTPError):
        httpx.delete(
            f"{target.api}{API_PREFIX}/zones/{zone_id}",
            headers={"Authorization": f"Bearer {target.token}"},
            timeout=TIMEOUT,
            trust_env=False,
        )


@zone.command("list")
@common_options
def zone_list(target: Target) -> None:
    """List zones."""
    zones = fetch_all(target, "/zones")
    table = Table("NAME", "ID", "STATUS", "PAUSED", "ACCOUNT", box=None, pad_edge=False)
    for z in zones:
        table.add_row(
            z["name"], z["id"], z["status"], "yes" if z["paused"] else "no", z["account"]["name"]
        )
    console().print(table if zones else "no zones")


@zone.command("rm")
@click.argument("name")
@common_options
def zone_rm(target: Target, name: str) -> None:
    """Delete zone NAME and its records."""
    found = find_zone(target, name)
    call(target, "DELETE", f"/zones/{found['id']}")
    console().print(f"zone {found['name']} removed")


@cli.group()
def token() -> None:
    """Create, list and revoke API tokens."""


def parse_expiry(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        die(f"invalid --expires {text!r}: use ISO 8601, e.g. 2030-01-31T00:00:00Z")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


@token.command("create")
@click.option("--name", required=True, help="A label for the token.")
@click.option("--zone", "zones", multiple=True, help="Limit to this zone (repeatable).")
@click.option(
    "--permission",
    "permissions",
    multiple=True,
    required=True,
    type=click.Choice(PERMISSIONS),
    help="A permission to grant (repeatable).",
)
@click.option("--expires", default=None, help="Expiry, ISO 8601 (default: never).")
@common_options
def token_create(
    target: Target,
    name: str,
    zones: tuple[str, ...],
    permissions: tuple[str, ...],
    expires: str | None,
) -> None:
    """Create a token; its value is printed once, alone on the last line."""
    body: dict[str, Any] = {"name": name, "permissions": list(permissions)}
    if zones:
        body["zones"] = list(zones)
    expires_on = parse_expiry(expires)
    if expires_on is not None:
        body["expires_on"] = expires_on
    created = call(target, "POST", "/user/tokens", json=body)
    scope = ", ".join(zones) if zones else "all zones"
    console().print(
        f"token {created['name']} ({created['id']}): {', '.join(created['permissions'])}"
    )
    console().print(f"scope: {scope}; expires: {created['expires_on'] or 'never'}")
    console().print("store it now, it is not shown again:")
    click.echo(created["value"])


@token.command("list")
@common_options
def token_list(target: Target) -> None:
    """List tokens (never their values)."""
    tokens = fetch_all(target, "/user/tokens")
    table = Table("ID", "NAME", "STATUS", "PERMISSIONS", "ZONES", "HINT", box=None, pad_edge=False)
    for t in tokens:
        zones = "all" if t["zones"] is None else str(len(t["zones"]))
        table.add_row(t["id"], t["name"], t["status"], ",".join(t["permissions"]), zones, t["hint"])
    console().print(table)


@token.command("revoke")
@click.argument("token_id")
@common_options
def token_revoke(target: Target, token_id: str) -> None:
    """Revoke token TOKEN_ID (effective on its next request)."""
    call(target, "DELETE", f"/user/tokens/{token_id}")
    console().print(f"token {token_id} revoked")


@cli.command()
@common_options
def status(target: Target) -> None:
    """Show the config version, counts and the edges that poll it."""
    result = call(target, "GET", "/veil/status")
    console().print(
        f"config version {result['version']}: {result['zones']} zones, {result['records']} records"
    )
    if not result["edges"]:
        console().print("no edge has polled since control started")
        return
    table = Table("EDGE", "VERSION", "LAG", "LAST SEEN", box=None, pad_edge=False)
    for edge in result["edges"]:
        table.add_row(edge["node"], str(edge["version"]), str(edge["lag"]), edge["last_seen"])
    console().print(table)
