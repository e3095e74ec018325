"""`veil zone|token|status` against a real control process on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from tests.control.live import LiveControl, start_control
from veil.cli import (
    api_commands,  # noqa: F401  (registers the commands)
    cli,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveControl]:
    control = start_control(tmp_path_factory.mktemp("cli"))
    yield control
    control.stop()


def veil(live: LiveControl | None, *args: str, env: dict[str, str] | None = None) -> Result:
    """Run `veil ARGS` in process with --data-dir pointing at the live control's data dir."""
    extra = ["--data-dir", str(live.data_dir)] if live is not None else []
    return CliRunner().invoke(cli, [*args, *extra], env={"VEIL_TOKEN": "", **(env or {})})


def one_error_line(result: Result) -> str:
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output + result.stderr
    return lines[0]


def api_get(live: LiveControl, path: str) -> object:
    response = httpx.get(
        f"{live.url}/client/v4{path}", headers={"Authorization": f"Bearer {live.admin_token}"}
    )
    return response.json()["result"]


def test_zone_add_list_rm(live: LiveControl) -> None:
    """zone add creates the zone, a proxied apex record and origin settings; list and rm work."""
    added = veil(live, "zone", "add", "cli.example", "--origin", "https://127.0.0.1:8443")
    assert added.exit_code == 0, added.stderr
    assert "cli.example added" in added.stdout
    [zone] = api_get(live, "/zones?name=cli.example")  # type: ignore[misc]
    records = api_get(live, f"/zones/{zone['id']}/dns_records")
    assert [(r["type"], r["name"], r["content"], r["proxied"]) for r in records] == [  # type: ignore[attr-defined]
        ("A", "cli.example", "127.0.0.1", True)
    ]
    origin = api_get(live, f"/zones/{zone['id']}/settings/origin")
    assert origin["value"]["scheme"] == "https" and origin["value"]["port"] == 8443  # type: ignore[index]
    listed = veil(live, "zone", "list")
    assert listed.exit_code == 0 and "cli.example" in listed.stdout
    removed = veil(live, "zone", "rm", "cli.example")
    assert removed.exit_code == 0 and "removed" in removed.stdout
    assert api_get(live, "/zones?name=cli.example") == []


def test_zone_add_with_a_name_origin_and_host_header(live: LiveControl) -> None:
    """A host name origin becomes a proxied CNAME; --host-header is stored."""
    added = veil(
        live,
        "zone",
        "add",
        "named.example",
        "--origin",
        "http://origin.example.net",
        "--host-header",
        "www.named.example",
    )
    assert added.exit_code == 0, added.stderr
    [zone] = api_get(live, "/zones?name=named.example")  # type: ignore[misc]
    [record] = api_get(live, f"/zones/{zone['id']}/dns_records")  # type: ignore[misc]
    assert record["type"] == "CNAME" and record["content"] == "origin.example.net"
    origin = api_get(live, f"/zones/{zone['id']}/settings/origin")
    assert origin["value"] == {  # type: ignore[index]
        "scheme": "http",
        "port": 80,
        "host_header": "www.named.example",
        "connect_timeout": 15.0,
        "read_timeout": 100.0,
    }


def test_duplicate_zone_is_one_line(live: LiveControl) -> None:
    """Adding an existing zone prints the API's message on one line and exits non-zero."""
    assert veil(live, "zone", "add", "dup.example", "--origin", "http://8.8.8.8").exit_code == 0
    result = veil(live, "zone", "add", "dup.example", "--origin", "http://8.8.8.8")
    assert "dup.example already exists" in one_error_line(result)


@pytest.mark.parametrize(
    "origin",
    [
        "ftp://x.example",
        "http://",
        "http://u:p@x.example",
        "http://x.example/path",
        "http://x:99999",
    ],
)
def test_invalid_origin_url_is_one_line(live: LiveControl, origin: str) -> None:
    """A bad --origin is refused before any API call."""
    line = one_error_line(veil(live, "zone", "add", "bad.example", "--origin", origin))
    assert "invalid origin URL" in line
    assert api_get(live, "/zones?name=bad.example") == []


def test_refused_origin_leaves_no_half_zone(live: LiveControl) -> None:
    """If the API refuses the origin record, the zone just created is removed again."""
    result = veil(live, "zone", "add", "half.example", "--origin", "http://-bad.example")
    assert "host name" in one_error_line(result)
    assert api_get(live, "/zones?name=half.example") == []


def test_ipv6_origin_message_survives_markup(live: LiveControl) -> None:
    """Brackets in an IPv6 origin URL are printed literally, not taken as markup."""
    result = veil(live, "zone", "add", "v6.example", "--origin", "http://[::1]:99999")
    assert "[::1]" in one_error_line(result)


def test_zone_rm_unknown(live: LiveControl) -> None:
    """Removing a zone that does not exist is one line."""
    assert "no zone named" in one_error_line(veil(live, "zone", "rm", "nope.example"))


def test_token_create_list_revoke(live: LiveControl) -> None:
    """token create prints the token alone on its last line; it works until revoked."""
    assert veil(live, "zone", "add", "tok.example", "--origin", "http://8.8.8.8").exit_code == 0
    created = veil(
        live,
        "token",
        "create",
        "--name",
        "ci",
        "--zone",
        "tok.example",
        "--permission",
        "zone:read",
        "--permission",
        "dns:read",
        "--expires",
        "2099-01-01T00:00:00Z",
    )
    assert created.exit_code == 0, created.stderr
    value = created.stdout.strip().splitlines()[-1]
    assert value.startswith("veil_") and len(value) == 51
    verify = httpx.get(
        f"{live.url}/client/v4/user/tokens/verify", headers={"Authorization": f"Bearer {value}"}
    )
    token_id = verify.json()["result"]["id"]
    listed = veil(live, "token", "list")
    assert listed.exit_code == 0 and token_id in listed.stdout and value not in listed.stdout
    only_mine = veil(live, "zone", "list", env={"VEIL_TOKEN": value})
    assert only_mine.exit_code == 0 and "tok.example" in only_mine.stdout
    assert "cli.example" not in only_mine.stdout and "dup.example" not in only_mine.stdout
    assert veil(live, "token", "revoke", token_id).exit_code == 0
    refused = veil(live, "zone", "list", env={"VEIL_TOKEN": value})
    assert "revoked" in one_error_line(refused)


def test_token_create_bad_expiry_is_one_line(live: LiveControl) -> None:
    """--expires must be ISO 8601."""
    result = veil(
        live, "token", "create", "--name", "x", "--permission", "zone:read", "--expires", "soon"
    )
    assert "invalid --expires" in one_error_line(result)


def test_status(live: LiveControl) -> None:
    """status shows the version and counts."""
    result = veil(live, "status")
    assert result.exit_code == 0 and "config version" in result.stdout


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_api_is_one_line(tmp_path: Path) -> None:
    """No API listening: one line naming the URL, exit non-zero."""
    (tmp_path / "admin.token").write_text("veil_x\n")
    url = f"http://127.0.0.1:{_closed_port()}"
    result = CliRunner().invoke(
        cli, ["zone", "list", "--data-dir", str(tmp_path), "--api", url], env={"VEIL_TOKEN": ""}
    )
    line = one_error_line(result)
    assert "cannot reach the Veil API" in line and url in line


def test_missing_token_file_is_one_line(tmp_path: Path) -> None:
    """No --token, no $VEIL_TOKEN and no admin.token: one line saying how to get one."""
    result = CliRunner().invoke(
        cli, ["status", "--data-dir", str(tmp_path)], env={"VEIL_TOKEN": ""}
    )
    assert "no API token" in one_error_line(result)


def test_api_url_is_read_from_the_data_dir(tmp_path: Path) -> None:
    """Without --api the URL comes from DIR/api.url."""
    url = f"http://127.0.0.1:{_closed_port()}"
    (tmp_path / "api.url").write_text(url + "\n")
    result = CliRunner().invoke(
        cli, ["status", "--data-dir", str(tmp_path), "--token", "t"], env={"VEIL_TOKEN": ""}
    )
    assert url in one_error_line(result)


def test_entry_point_unreachable_has_no_traceback(tmp_path: Path) -> None:
    """`python -m veil zone list` against nothing: one stderr line, exit 1, no traceback."""
    url = f"http://127.0.0.1:{_closed_port()}"
    proc = subprocess.run(
        [sys.executable, "-m", "veil", "zone", "list", "--api", url, "--token", "veil_x"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot reach the Veil API" in lines[0], proc.stderr
