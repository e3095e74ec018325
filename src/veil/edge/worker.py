"""One edge worker process: a uvloop event loop serving the shared port (SO_REUSEPORT).

Start-up order is what makes the edge statically stable: the saved snapshot is installed
before the socket accepts, then the snapshot follower keeps it current. SIGTERM drains:
stop accepting, close idle connections, let busy ones finish (at most `drain_timeout`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from pathlib import Path

import uvloop

from veil.edge.accesslog import AccessLog
from veil.edge.config import ControlPoll, SnapshotSource, SnapshotStore, StaticFile, follow
from veil.edge.context import EdgeContext
from veil.edge.server import ClientConnection
from veil.settings import EdgeSettings

log = logging.getLogger("veil.edge")
TICK = 0.5  # seconds between sweeps (deadlines, idle origin connections, log/metrics flush)


def listen_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket that other workers can share via SO_REUSEPORT."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


def make_source(settings: EdgeSettings, snapshot_file: Path | None) -> SnapshotSource:
    if snapshot_file is not None:
        return StaticFile(snapshot_file)
    return ControlPoll(settings.control_url, settings.control_token, node_id=settings.node_id)


async def serve(
    settings: EdgeSettings, *, snapshot_file: Path | None = None, index: int = 0
) -> None:
    """Run one worker until SIGTERM/SIGINT, then drain."""
    loop = asyncio.get_running_loop()
    access_log = AccessLog(settings.state_dir / "access.log") if settings.access_log else None
    ctx = EdgeContext(loop=loop, settings=settings, access_log=access_log)
    store = SnapshotStore(settings.state_dir)
    saved = store.load()
    if saved is not None:
        ctx.install(saved)
    sock = listen_socket(*settings.listen)
    server = await loop.create_server(lambda: ClientConnection(ctx), sock=sock, backlog=4096)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    follower = loop.create_task(follow(ctx, make_source(settings, snapshot_file), store))
    metrics_path = settings.state_dir / "metrics" / f"worker-{index}.json"
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    ticker = loop.create_task(_tick(ctx, metrics_path))
    try:
        await stop.wait()
        await drain(ctx, server, settings.drain_timeout)
    finally:
        follower.cancel()
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        ctx.pool.close_all()
        if access_log is not None:
            access_log.close()
        with contextlib.suppress(OSError):
            ctx.metrics.dump(metrics_path)


async def drain(ctx: EdgeContext, server: asyncio.Server, grace: float) -> None:
    """Stop accepting; idle connections close now, busy ones after their current response."""
    server.close()
    ctx.draining = True
    for conn in list(ctx.connections):
        conn.drain()
    if ctx.connections:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ctx.drained.wait(), grace)
    for conn in list(ctx.connections):
        conn.abort()


async def _tick(ctx: EdgeContext, metrics_path: Path) -> None:
    n = 0
    while True:
        await asyncio.sleep(TICK)
        ctx.sweep()
        n += 1
        if n % 2 == 0:
            if ctx.access_log is not None:
                ctx.access_log.flush()
            with contextlib.suppress(OSError):
                ctx.metrics.dump(metrics_path)


def worker_main(settings: EdgeSettings, snapshot_file: Path | None, index: int) -> None:
    """Process entry point (spawned by the supervisor)."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(serve(settings, snapshot_file=snapshot_file, index=index))
