"""A real `veil control` with the abuse desk's mail wired to a test relay (aiosmtpd), and a
customer zone whose account declares its hosting provider — for the desk's acceptance tests."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.procs import VEIL, free_port, wait_port
from tests.support.smtp_sink import Sink, smtp_sink

ORIGIN = "93.184.215.14"
CUSTOMER = "owner@gowns.example"
HOST = "abuse@hosting.example"
HOST_NAME = "Example Hosting GmbH"


@dataclass
class Desk:
    api_port: int
    intake_port: int
    sink: Sink
    data_dir: Path
    token: str
    account_id: str = ""

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"


async def _customer_zone(desk: Desk) -> str:
    """An account with a contact, its zone gowns.example (proxied www to ORIGIN), and its
    declared hosting provider; returns the account id."""
    async with httpx.AsyncClient(
        base_url=f"{desk.api}/client/v4",
        headers={"Authorization": f"Bearer {desk.token}"},
        timeout=10,
    ) as api:
        account = (
            await api.post("/accounts", json={"name": "Gowns", "contact_email": CUSTOMER})
        ).json()["result"]
        zone = (
            await api.post("/zones", json={"name": "gowns.example", "account": account})
        ).json()["result"]
        record = await api.post(
            f"/zones/{zone['id']}/dns_records",
            json={"type": "A", "name": "www", "content": ORIGIN, "proxied": True},
        )
        assert record.status_code == 200, record.text
        host = await api.put(
            f"/accounts/{account['id']}/hosting_provider",
            json={"name": HOST_NAME, "abuse_email": HOST},
        )
        assert host.status_code == 200, host.text
        return str(account["id"])


@asynccontextmanager
async def running_desk(tmp_path: Path) -> AsyncIterator[Desk]:
    """`veil control` with --smtp (the test relay) and --abuse-smtp-listen; SIGTERM must stop
    it cleanly (exit 0)."""
    data_dir = tmp_path / "data"
    api_port, intake_port = free_port(), free_port()
    async with smtp_sink() as sink:
        log_path = tmp_path / "control.log"
        with log_path.open("w") as log:
            proc = await asyncio.create_subprocess_exec(
                *VEIL,
                "control",
                "--data-dir",
                str(data_dir),
                "--api-listen",
                f"127.0.0.1:{api_port}",
                "--smtp",
                f"127.0.0.1:{sink.port}",
                "--abuse-smtp-listen",
                f"127.0.0.1:{intake_port}",
                "--mail-from",
                "abuse@veil.test",
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            await asyncio.to_thread(wait_port, api_port, 30.0)
            await asyncio.to_thread(wait_port, intake_port, 30.0)
            token = (data_dir / "admin.token").read_text().strip()
            desk = Desk(api_port, intake_port, sink, data_dir, token)
            desk.account_id = await _customer_zone(desk)
            yield desk
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(20):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 0, log_path.read_text()
