"""The JSON access log: one line per exchange, buffered and written in whole lines.

Workers append to one file opened with O_APPEND; each flush is a single write() of whole lines
so lines from different workers never interleave. The log holds what the visitor sent and
what the edge answered — never the origin's address.
"""

from __future__ import annotations

import json
import json.encoder
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

# A str -> its JSON string literal, straight to the C function (no Python wrapper).
_quote: Final[Callable[[str], str]] = getattr(json.encoder, "c_encode_basestring_ascii", None) or (
    json.encoder.py_encode_basestring_ascii
)

# Zones, hosts and methods repeat on almost every line: their JSON literals are memoised
# (bounded: emptied at 4096 entries). Paths vary and are quoted each time.
_QUOTED: Final[dict[str, str]] = {}
_MEMO_LIMIT: Final = 4096


def _quoted(text: str) -> str:
    literal = _QUOTED.get(text)
    if literal is None:
        if len(_QUOTED) >= _MEMO_LIMIT:
            _QUOTED.clear()
        literal = _QUOTED[text] = _quote(text)
    return literal


class AccessLog:
    def __init__(self, path: Path, *, flush_bytes: int = 64 * 1024) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        self._buf: list[str] = []
        self._size = 0
        self._flush_bytes = flush_bytes

    def record(
        self,
        *,
        ray: bytes,
        zone: str | None,
        client_ip: str,
        method: bytes,
        host: str,
        path: bytes,
        status: int,
        sent: int,
        duration: float,
        origin_time: float | None,
        cache: str,
    ) -> None:
        # Built with an f-string of integers and pre-quoted text: compiled, that is one
        # concatenation of ready parts. json.dumps of a dict, float formatting, or `%`
        # formatting of a template (which parses the template on every call) cost several
        # thousand instructions more per line (measured with bench/instructions.py).
        time_ms = int(time.time() * 1000)
        duration_us = int(duration * 1_000_000)
        origin_us = "null" if origin_time is None else str(int(origin_time * 1_000_000))
        zone_json = "null" if zone is None else _quoted(zone)
        line = (
            f'{{"time_ms":{time_ms},"ray":"{ray.decode()}","zone":{zone_json},'
            f'"client_ip":"{client_ip}","method":{_quoted(method.decode("latin-1"))},'
            f'"host":{_quoted(host)},"path":{_quote(path.decode("latin-1"))},'
            f'"status":{status},"bytes":{sent},"duration_us":{duration_us},'
            f'"origin_us":{origin_us},"cache":"{cache}"}}'
        )
        self._buf.append(line)
        self._size += len(line) + 1
        if self._size >= self._flush_bytes:
            self.flush()

    def flush(self) -> None:
        if not self._buf:
            return
        data = ("\n".join(self._buf) + "\n").encode()
        self._buf.clear()
        self._size = 0
        os.write(self._fd, data)

    def close(self) -> None:
        self.flush()
        os.close(self._fd)
