"""A real control process on 127.0.0.1: the official Cloudflare SDK, signals, api.url."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cloudflare import Cloudflare

from tests.control.live import LiveControl, start_control
from veil.control.server import ControlServerError, bind

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveControl]:
    """One control process for the module; stopped with SIGINT (Ctrl-C), which must exit 0."""
    control = start_control(tmp_path_factory.mktemp("live"))
    yield control
    assert control.stop(signal.SIGINT) == 0


def test_cloudflare_sdk_manages_zones_and_records(live: LiveControl) -> None:
    """The official `cloudflare` SDK, pointed at Veil, creates, lists and reads zones/records."""
    client = Cloudflare(api_token=live.admin_token, base_url=f"{live.url}/client/v4", max_retries=0)
    try:
        verify = client.user.tokens.verify()
        assert verify is not None and verify.status == "active"
        [account] = [a for a in client.accounts.list() if a.name == "default"]
        zone = client.zones.create(account={"id": account.id}, name="sdk.example", type="full")
        assert zone is not None and zone.name == "sdk.example" and zone.account.id == account.id
        listed = [z.name for z in client.zones.list()]
        assert "sdk.example" in listed
        assert [z.id for z in client.zones.list(name="sdk.example")] == [zone.id]
        got = client.zones.get(zone_id=zone.id)
        assert got is not None and got.status == "active"
        record = client.dns.records.create(
            zone_id=zone.id,
            type="A",
            name="www.sdk.example",
            content="8.8.8.8",
            ttl=1,
            proxied=True,
        )
        assert record is not None and record.name == "www.sdk.example" and record.proxied
        txt = client.dns.records.create(
            zone_id=zone.id, type="TXT", name="sdk.example", content="hello", ttl=300
        )
        assert txt is not None
        records = list(client.dns.records.list(zone_id=zone.id))
        assert {(r.type, r.name, r.content) for r in records} == {
            ("A", "www.sdk.example", "8.8.8.8"),
            ("TXT", "sdk.example", "hello"),
        }
        read = client.dns.records.get(dns_record_id=record.id, zone_id=zone.id)
        assert read is not None and read.content == "8.8.8.8"
        edited = client.dns.records.edit(
            dns_record_id=record.id, zone_id=zone.id, type="A", name="www", content="1.1.1.1", ttl=1
        )
        assert edited is not None and edited.content == "1.1.1.1"
        client.dns.records.delete(dns_record_id=txt.id, zone_id=zone.id)
        assert len(list(client.dns.records.list(zone_id=zone.id))) == 1
        deleted = client.zones.delete(zone_id=zone.id)
        assert deleted is not None and deleted.id == zone.id
    finally:
        client.close()


def test_sdk_sees_api_errors(live: LiveControl) -> None:
    """A duplicate zone surfaces in the SDK as a 400 with Cloudflare's code 1061."""
    import cloudflare

    client = Cloudflare(api_token=live.admin_token, base_url=f"{live.url}/client/v4", max_retries=0)
    try:
        client.zones.create(account={"id": _default_account(client)}, name="twice.example")
        with pytest.raises(cloudflare.BadRequestError) as info:
            client.zones.create(account={"id": _default_account(client)}, name="twice.example")
        assert "1061" in str(info.value) or "already exists" in str(info.value)
    finally:
        client.close()


def _default_account(client: Cloudflare) -> str:
    return next(a.id for a in client.accounts.list() if a.name == "default")


def test_sigterm_ends_long_polls_and_exits_zero(tmp_path: Path) -> None:
    """SIGTERM while an edge long-polls: the poll answers at once and the process exits 0."""
    control = start_control(tmp_path / "data")
    url_file = control.data_dir / "api.url"
    try:
        headers = {"Authorization": f"Bearer {control.edge_token}"}
        current = httpx.get(f"{control.url}/client/v4/veil/edge/snapshot", headers=headers)
        version = current.json()["result"]["version"]
        answers: list[httpx.Response] = []

        def poll() -> None:
            answers.append(
                httpx.get(
                    f"{control.url}/client/v4/veil/edge/snapshot",
                    params={"after": version, "wait": 30},
                    headers=headers,
                    timeout=40,
                )
            )

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(0.5)
        started = time.monotonic()
        code = control.stop(signal.SIGTERM)
        poller.join(10)
        assert code == 0
        assert time.monotonic() - started < 4
        assert answers and answers[0].status_code == 200 and answers[0].json()["result"] is None
        assert not url_file.exists()
    finally:
        if control.proc.poll() is None:
            control.proc.kill()
            control.proc.wait()


def test_address_in_use_is_one_clear_error() -> None:
    """Binding a busy port raises ControlServerError with a one-line message."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ControlServerError) as info:
            bind("127.0.0.1", port)
    assert f"127.0.0.1:{port}" in str(info.value) and "\n" not in str(info.value)
