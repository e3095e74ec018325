"""Sending a stored file's bytes to a visitor with sendfile(2): no copy through Python.

uvloop's `loop.sendfile` is not implemented and a transport's own descriptor cannot be
watched with `add_writer`, so the sender watches a *duplicate* of the socket's descriptor (the
same socket; the kernel does not care which number asks) and calls `os.sendfile` whenever the
socket can take more — but only once the transport's own buffer is empty, so the response head
it queued always precedes the body. Measured by the cache issue: sendfile halves the server
CPU per GB served compared with read-and-write.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

MAX_STEP = 4 * 1024 * 1024  # bytes per sendfile call: fair to the other connections


class FileSender:
    """Send `count` bytes of `file_fd` from `offset` to the transport's socket."""

    __slots__ = (
        "_count",
        "_dup",
        "_file_fd",
        "_loop",
        "_offset",
        "_on_done",
        "_on_progress",
        "_transport",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        transport: asyncio.Transport,
        file_fd: int,
        offset: int,
        count: int,
        on_done: Callable[[bool], None],
        on_progress: Callable[[], None],
    ) -> None:
        self._loop = loop
        self._transport = transport
        self._file_fd = file_fd
        self._offset = offset
        self._count = count
        self._on_done = on_done  # called once: True when every byte went out
        self._on_progress = on_progress  # called after each step that sent something
        sock = transport.get_extra_info("socket")
        self._dup = os.dup(sock.fileno())
        loop.add_writer(self._dup, self._step)

    @staticmethod
    def usable(transport: asyncio.Transport | None) -> bool:
        """Plain TCP only: a TLS transport encrypts in user space."""
        return (
            transport is not None
            and transport.get_extra_info("sslcontext") is None
            and transport.get_extra_info("socket") is not None
        )

    def _step(self) -> None:
        if self._transport.is_closing():
            return self._finish(False)
        if self._transport.get_write_buffer_size():
            return  # the head (or earlier bytes) first; writable fires again
        sent = 0
        try:
            while self._count > 0:
                n = os.sendfile(self._dup, self._file_fd, self._offset, min(self._count, MAX_STEP))
                if n == 0:
                    return self._finish(False)  # the file is shorter than it said
                self._offset += n
                self._count -= n
                sent += n
                if sent >= MAX_STEP:
                    break
        except BlockingIOError:
            pass
        except OSError:
            return self._finish(False)
        if sent:
            self._on_progress()
        if self._count == 0:
            self._finish(True)

    def _finish(self, ok: bool) -> None:
        self.cancel()
        self._on_done(ok)

    def cancel(self) -> None:
        """Stop watching the socket (idempotent)."""
        if self._dup >= 0:
            self._loop.remove_writer(self._dup)
            os.close(self._dup)
            self._dup = -1
