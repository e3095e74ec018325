"""The long-running commands: `veil up` (everything), `veil control`, `veil edge`."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click
from rich.console import Console

from veil.cli import cli, fail
from veil.cli.abuse_options import abuse_desk_options, edge_geo_options
from veil.settings import (
    DEFAULT_API_LISTEN,
    DEFAULT_DATA_DIR,
    DEFAULT_EDGE_LISTEN,
    AbuseSettings,
    ControlSettings,
    EdgeSettings,
    SettingsError,
    default_workers,
    format_hostport,
    parse_hostport,
)
from veil.supervisor import Supervisor

console = Console(highlight=False, soft_wrap=True)


def _hostport(what: str) -> Callable[[click.Context, click.Parameter, str], tuple[str, int]]:
    """A click callback turning HOST:PORT into (host, port), or a usage error."""

    def convert(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, int]:
        try:
            return parse_hostport(value, what=what)
        except SettingsError as exc:
            raise click.BadParameter(str(exc), ctx, param) from exc

    return convert


def _reserve_port(host: str, port: int) -> tuple[socket.socket, int]:
    """Bind (not listen) a SO_REUSEPORT socket so port 0 resolves to one port for all workers."""
    from veil.edge.worker import listen_socket

    try:
        sock = listen_socket(host, port)
    except OSError as exc:
        fail(f"cannot bind the edge to {format_hostport(host, port)}: {exc.strerror}")
        raise  # unreachable: fail() exits
    return sock, sock.getsockname()[1]


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _check_free(host: str, port: int, what: str) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            fail(f"cannot listen for the {what} on {format_hostport(host, port)}: {exc.strerror}")


def _edge_children(
    sup: object, settings: EdgeSettings, snapshot_file: Path | None, workers: int
) -> None:
    from veil.edge.worker import worker_main
    from veil.supervisor import Supervisor

    assert isinstance(sup, Supervisor)
    for i in range(workers):
        sup.add(f"edge-worker-{i}", worker_main, settings, snapshot_file, i)


_SIZE_UNITS = {
    "": 1,
    "k": 1024,
    "kib": 1024,
    "m": 1024**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gib": 1024**3,
}


def _size(ctx: click.Context, param: click.Parameter, value: str) -> int:
    """A byte size such as 256MiB, 4G or 0 (0 or "off": the tier is not used)."""
    text = value.strip().lower()
    if text == "off":
        return 0
    digits = text.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = text[len(digits) :]
    if not digits.isdigit() or unit not in _SIZE_UNITS:
        raise click.BadParameter(f"{value!r} is not a size like 256MiB, 4GiB or 0")
    return int(digits) * _SIZE_UNITS[unit]


def _cache_options(f: Callable[..., None]) -> Callable[..., None]:
    f = click.option(
        "--cache-disk",
        callback=_size,
        default="4GiB",
        show_default=True,
        help="Disk tier of the HTTP cache, shared by the workers (0: none).",
    )(f)
    return click.option(
        "--cache-memory",
        callback=_size,
        default="256MiB",
        show_default=True,
        help="Memory tier of the HTTP cache, per edge worker (0: none).",
    )(f)


@cli.command()
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=DEFAULT_DATA_DIR,
    show_default=True,
    help="Where the database, tokens and edge state live.",
)
@click.option(
    "--edge-listen",
    callback=_hostport("edge address"),
    default=format_hostport(*DEFAULT_EDGE_LISTEN),
    show_default=True,
)
@click.option(
    "--api-listen",
    callback=_hostport("API address"),
    default=format_hostport(*DEFAULT_API_LISTEN),
    show_default=True,
)
@click.option(
    "--admin-listen",
    default="127.0.0.1:9180",
    show_default=True,
    help="Prometheus /metrics for the edge, or 'off'.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=None,
    help="Edge worker processes [default: one per core].",
)
@click.option("--demo", is_flag=True, help="Also run a demo origin behind the zone demo.localhost.")
@click.option(
    "--allow-private-origins",
    is_flag=True,
    help="Allow origins in loopback/private ranges (for local set-ups).",
)
@click.option(
    "--database",
    "database_url",
    default=None,
    help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db [default: SQLite in DATA_DIR].",
)
@_cache_options
@abuse_desk_options
@edge_geo_options
def up(
    data_dir: Path,
    edge_listen: tuple[str, int],
    api_listen: tuple[str, int],
    admin_listen: str,
    workers: int | None,
    demo: bool,
    allow_private_origins: bool,
    database_url: str | None,
    cache_memory: int,
    cache_disk: int,
    abuse: AbuseSettings,
    geoip_mmdb: Path | None,
    country_header: str | None,
) -> None:
    """Run control plane and edge together in one process tree."""
    from veil.control.bootstrap import prepare
    from veil.control.server import run as run_control
    from veil.demo.origin import run as run_demo
    from veil.supervisor import Supervisor

    if demo and not allow_private_origins:
        allow_private_origins = True
        console.print("[yellow]--demo: private origins allowed (the demo origin is on loopback)[/]")
    admin = None if admin_listen == "off" else _parse_or_fail(admin_listen, "admin address")
    _check_free(*api_listen, "API")
    edge_sock, edge_port = _reserve_port(*edge_listen)
    edge_host = edge_listen[0]
    data_dir.mkdir(parents=True, exist_ok=True)
    control_settings = ControlSettings(
        listen=api_listen,
        data_dir=data_dir,
        database_url=database_url,
        allow_private_origins=allow_private_origins,
        edge_addresses=_own_addresses(edge_host, allow_private_origins),
        abuse=abuse,
    )
    demo_origin = ("127.0.0.1", _free_port("127.0.0.1")) if demo else None
    try:
        boot = prepare(control_settings, demo_origin=demo_origin)
    except Exception as exc:  # one clear line for any set-up failure (database, files)
        fail(f"cannot prepare the control plane: {exc}")
        return
    api_url = f"http://{format_hostport(*api_listen)}"
    edge_settings = EdgeSettings(
        listen=(edge_host, edge_port),
        workers=workers or default_workers(),
        state_dir=data_dir / "edge",
        control_url=api_url,
        control_token=boot.edge_token,
        allow_private_origins=allow_private_origins,
        admin_listen=admin,
        node_id=f"{socket.gethostname()}-up",
        cache_memory_bytes=cache_memory,
        cache_disk_bytes=cache_disk,
        geoip_mmdb=geoip_mmdb,
        country_header=country_header,
    )
    sup = Supervisor(grace=edge_settings.drain_timeout + 5)
    sup.add("control", run_control, control_settings)
    if demo_origin is not None:
        sup.add("demo-origin", run_demo, *demo_origin)
    _edge_children(sup, edge_settings, None, edge_settings.workers)
    if admin is not None:
        _start_admin(admin, edge_settings.state_dir)

    def announce() -> None:
        _wait_ready(api_listen, sup)
        edge_url = f"http://{format_hostport(edge_host, edge_port)}"
        console.print(
            f"[bold]veil up[/]  edge {edge_url}  ·  API {api_url}/client/v4  ·  "
            f"{edge_settings.workers} edge worker(s)  ·  data {data_dir}"
        )
        if boot.operator_token:
            console.print(
                f"Operator token (shown once; also saved to {data_dir / 'admin.token'}, mode 0600):"
            )
            console.print(f"  [bold]{boot.operator_token}[/]")
        if demo:
            console.print("\nTry it:")
            console.print(
                f"  curl -i http://demo.localhost:{edge_port}/   "
                "# twice: Cache-Status says miss, then hit"
            )
            veil = _veil_command()
            console.print(f"  {veil} purge demo.localhost --everything --data-dir {data_dir}")
            console.print(f"  {veil} zone list --data-dir {data_dir}")
            console.print(
                f"  {veil} zone add shop.test --origin http://127.0.0.1:9000 --data-dir {data_dir}"
            )
            console.print(
                f'  curl -H "Authorization: Bearer $(cat {data_dir}/admin.token)" '
                f"{api_url}/client/v4/zones"
            )
            console.print(f"  open {api_url}/abuse   # the abuse desk's public form")
            console.print(f"  {veil} abuse list --data-dir {data_dir}")
        if admin is not None:
            console.print(f"Metrics: http://{format_hostport(*admin)}/metrics")
        console.print("Ctrl-C stops everything (edge workers drain first).", style="dim")

    try:
        sup.run(on_started=announce)
    finally:
        edge_sock.close()


def _own_addresses(edge_host: str, allow_private: bool) -> tuple[str, ...]:
    """The edge's address, refused as an origin at API time. With private origins allowed the
    edge itself refuses its exact listening socket at connect time instead (resolve.py), so a
    local origin on the same loopback address but another port stays possible."""
    if allow_private or edge_host in ("0.0.0.0", "::", ""):
        return ()
    return (edge_host,)


def _veil_command() -> str:
    """How the user can call this same `veil` (e.g. `.venv/bin/veil` after `make run`)."""
    argv0 = sys.argv[0]
    if os.sep not in argv0 or shutil.which("veil") == argv0:
        return "veil"
    return os.path.relpath(argv0)


def _wait_ready(api_listen: tuple[str, int], sup: Supervisor, timeout: float = 60.0) -> None:
    """Wait (bounded) until the control API accepts connections, so the banner is true."""
    host = "127.0.0.1" if api_listen[0] in ("0.0.0.0", "") else api_listen[0]
    host = "::1" if host == "::" else host
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not sup.stopping:
        try:
            with socket.create_connection((host, api_listen[1]), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)


def _parse_or_fail(text: str, what: str) -> tuple[str, int]:
    try:
        return parse_hostport(text, what=what)
    except SettingsError as exc:
        fail(str(exc))
        raise


def _start_admin(listen: tuple[str, int], state_dir: Path) -> None:
    from veil.edge.admin import start_admin

    metrics_dir = state_dir / "metrics"
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("worker-*.json"):
        stale.unlink(missing_ok=True)
    try:
        start_admin(listen, metrics_dir)
    except OSError as exc:
        fail(f"cannot serve metrics on {format_hostport(*listen)}: {exc.strerror}")


@cli.command()
@click.option(
    "--data-dir", type=click.Path(path_type=Path), default=DEFAULT_DATA_DIR, show_default=True
)
@click.option(
    "--api-listen",
    callback=_hostport("API address"),
    default=format_hostport(*DEFAULT_API_LISTEN),
    show_default=True,
)
@click.option("--allow-private-origins", is_flag=True)
@click.option(
    "--edge-address",
    "edge_addresses",
    multiple=True,
    help="An address of the edge fleet, refused as an origin (repeatable).",
)
@click.option("--database", "database_url", default=None)
@abuse_desk_options
def control(
    data_dir: Path,
    api_listen: tuple[str, int],
    allow_private_origins: bool,
    edge_addresses: tuple[str, ...],
    database_url: str | None,
    abuse: AbuseSettings,
) -> None:
    """Run the control plane alone (API on --api-listen)."""
    from veil.control.bootstrap import prepare
    from veil.control.server import ControlServerError
    from veil.control.server import run as run_control

    settings = ControlSettings(
        listen=api_listen,
        data_dir=data_dir,
        database_url=database_url,
        allow_private_origins=allow_private_origins,
        edge_addresses=edge_addresses,
        abuse=abuse,
    )
    _check_free(*api_listen, "API")
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        boot = prepare(settings)
    except Exception as exc:
        fail(f"cannot prepare the control plane: {exc}")
        return
    if boot.operator_token:
        console.print(f"Operator token (shown once; saved to {data_dir / 'admin.token'}):")
        console.print(f"  [bold]{boot.operator_token}[/]")
    console.print(f"Edge token for `veil edge --token`: saved to {data_dir / 'edge.token'}")
    try:
        run_control(settings)
    except ControlServerError as exc:  # e.g. the address is in use: one line, no traceback
        fail(str(exc))


@cli.command()
@click.option(
    "--control",
    "control_url",
    default=None,
    help="Control API base URL, e.g. http://127.0.0.1:8081.",
)
@click.option(
    "--token",
    default=None,
    envvar="VEIL_EDGE_TOKEN",
    help="An API token with edge:read (or $VEIL_EDGE_TOKEN).",
)
@click.option(
    "--snapshot",
    "snapshot_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="Serve from a snapshot JSON file instead of a control plane.",
)
@click.option(
    "--listen",
    callback=_hostport("edge address"),
    default=format_hostport(*DEFAULT_EDGE_LISTEN),
    show_default=True,
)
@click.option("--workers", type=click.IntRange(1, 256), default=None)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=DEFAULT_DATA_DIR / "edge",
    show_default=True,
)
@click.option("--admin-listen", default="off", show_default=True)
@click.option("--allow-private-origins", is_flag=True)
@click.option("--node-id", default=None, help="This edge's name in `veil status`.")
@click.option("--no-access-log", is_flag=True)
@click.option(
    "--header-timeout",
    type=click.FloatRange(0.1, 300),
    default=10.0,
    show_default=True,
    help="Seconds for a request head to arrive (slowloris guard).",
)
@click.option(
    "--keepalive-timeout",
    type=click.FloatRange(0.1, 3600),
    default=75.0,
    show_default=True,
    help="Seconds an idle visitor connection is kept.",
)
@_cache_options
@click.option(
    "--send-timeout",
    type=click.FloatRange(0.1, 3600),
    default=60.0,
    show_default=True,
    help="Seconds a visitor may take no more of a cached body before it is cut off.",
)
@edge_geo_options
def edge(
    control_url: str | None,
    token: str | None,
    snapshot_file: Path | None,
    listen: tuple[str, int],
    workers: int | None,
    state_dir: Path,
    admin_listen: str,
    allow_private_origins: bool,
    node_id: str | None,
    no_access_log: bool,
    header_timeout: float,
    keepalive_timeout: float,
    send_timeout: float,
    cache_memory: int,
    cache_disk: int,
    geoip_mmdb: Path | None,
    country_header: str | None,
) -> None:
    """Run the edge alone, following a control plane (or a snapshot file)."""
    from veil.supervisor import Supervisor

    if snapshot_file is None and (not control_url or not token):
        fail("veil edge needs --control URL and --token T (or --snapshot FILE)")
    admin = None if admin_listen == "off" else _parse_or_fail(admin_listen, "admin address")
    sock, port = _reserve_port(*listen)
    state_dir.mkdir(parents=True, exist_ok=True)
    settings = EdgeSettings(
        listen=(listen[0], port),
        workers=workers or default_workers(),
        state_dir=state_dir,
        control_url=control_url or "",
        control_token=token or "",
        allow_private_origins=allow_private_origins,
        admin_listen=admin,
        node_id=node_id or socket.gethostname(),
        access_log=not no_access_log,
        header_timeout=header_timeout,
        keepalive_timeout=keepalive_timeout,
        send_timeout=send_timeout,
        cache_memory_bytes=cache_memory,
        cache_disk_bytes=cache_disk,
        geoip_mmdb=geoip_mmdb,
        country_header=country_header,
    )
    (state_dir / "edge.addr").write_text(format_hostport(listen[0], port) + "\n")
    sup = Supervisor(grace=settings.drain_timeout + 5)
    _edge_children(sup, settings, snapshot_file, settings.workers)
    if admin is not None:
        _start_admin(admin, state_dir)
    console.print(
        f"veil edge on http://{format_hostport(listen[0], port)} with {settings.workers} worker(s)"
    )
    try:
        sup.run()
    finally:
        sock.close()
