"""`run(settings)`: serve the control API with uvicorn until SIGTERM or SIGINT.

The listening socket is bound here first, so an address in use is one clear error
(`ControlServerError`) rather than a log line and a bare exit. Once bound, the API's URL is
written to `data_dir/api.url` for the CLI. A signal closes the long-polls at once (they
answer "no change") and the process exits 0 after in-flight requests finish.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import uvicorn

from veil.control.app import control_state, create_app
from veil.control.store.db import migrate
from veil.settings import ControlSettings, format_hostport

API_URL_FILE = "api.url"
GRACEFUL_SHUTDOWN_SECONDS = 5


class ControlServerError(RuntimeError):
    """The API cannot start (e.g. its address is in use); the message is one line."""


def bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ControlServerError(f"cannot listen on {format_hostport(host, port)}: {exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise ControlServerError(
            f"cannot listen on {format_hostport(host, port)}: {reason}"
        ) from None
    return sock


def api_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://{format_hostport(host, port)}"


REPEATED_SIGNAL_WINDOW = 2.0  # seconds


class _Server(uvicorn.Server):
    """uvicorn's server, but a signal ends the long-polls and the exit status stays 0."""

    def __init__(
        self, config: uvicorn.Config, *, on_exit: Callable[[], None], on_started: Callable[[], None]
    ) -> None:
        super().__init__(config)
        self._on_exit = on_exit
        self._on_started = on_started
        self._first_signal = 0.0

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            self._on_started()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._on_exit()
        now = time.monotonic()
        # A second signal forces the exit — unless it is the same shutdown delivered twice
        # (Ctrl-C reaches the whole process group, then `veil up` sends SIGTERM too).
        if self.should_exit and now - self._first_signal > REPEATED_SIGNAL_WINDOW:
            self.force_exit = True
        if not self.should_exit:
            self._first_signal = now
        self.should_exit = True


def _write_url(path: Path, url: str) -> None:
    path.write_text(url + "\n")


def run(settings: ControlSettings) -> None:
    """Serve until SIGTERM/SIGINT (blocking). Raises ControlServerError if it cannot listen."""
    migrate(settings.effective_database_url)
    sock = bind(*settings.listen)
    app = create_app(settings)
    state = control_state(app)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        server_header=False,
    )
    url_file = Path(settings.data_dir) / API_URL_FILE
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    server = _Server(
        config,
        on_exit=state.hub.close,
        on_started=lambda: _write_url(url_file, api_url(sock)),
    )
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        with contextlib.suppress(OSError):
            url_file.unlink()
