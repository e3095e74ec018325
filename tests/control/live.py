"""A real control process (`prepare()` then `run()`) on 127.0.0.1 with a free port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SCRIPT = """
import sys
from pathlib import Path
from veil.control.bootstrap import prepare
from veil.control.server import run
from veil.settings import ControlSettings

settings = ControlSettings(
    listen=("127.0.0.1", 0),
    data_dir=Path(sys.argv[1]),
    database_url=sys.argv[2] or None,
    allow_private_origins=True,
)
prepare(settings)
run(settings)
"""


@dataclass
class LiveControl:
    proc: subprocess.Popen[bytes]
    data_dir: Path
    url: str

    @property
    def admin_token(self) -> str:
        return (self.data_dir / "admin.token").read_text().strip()

    @property
    def edge_token(self) -> str:
        return (self.data_dir / "edge.token").read_text().strip()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)


def start_control(data_dir: Path, database_url: str = "") -> LiveControl:
    """Start control and wait until it has written api.url (it is then accepting)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    url_file = data_dir / "api.url"
    env = {k: v for k, v in os.environ.items() if k != "VEIL_TOKEN"}
    log_path = data_dir / "control.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(data_dir), database_url],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if url_file.exists() and url_file.read_text().strip():
            return LiveControl(proc=proc, data_dir=data_dir, url=url_file.read_text().strip())
        if proc.poll() is not None:
            err = log_path.read_text(errors="replace")
            raise RuntimeError(f"control exited with {proc.returncode}: {err[-2000:]}")
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise RuntimeError("control did not start within 30 s")
