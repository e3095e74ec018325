"""`veil purge` and `veil zone cache` against a real control process on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from tests.control.live import LiveControl, start_control
from veil.cli import (
    cache_commands,  # noqa: F401  (registers the commands)
    cli,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveControl]:
    control = start_control(tmp_path_factory.mktemp("cli-cache"))
    yield control
    control.stop()


@pytest.fixture(scope="module")
def zone_id(live: LiveControl) -> str:
    """A zone `shop.example` for the module."""
    response = httpx.post(
        f"{live.url}/client/v4/zones",
        json={"name": "shop.example"},
        headers={"Authorization": f"Bearer {live.admin_token}"},
    )
    return str(response.json()["result"]["id"])


def veil(live: LiveControl, *args: str) -> Result:
    return CliRunner().invoke(
        cli, [*args, "--data-dir", str(live.data_dir)], env={"VEIL_TOKEN": ""}
    )


def one_error_line(result: Result) -> str:
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output + result.stderr
    return lines[0]


def purges(live: LiveControl, zone_id: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{live.url}/client/v4/veil/edge/snapshot",
        headers={"Authorization": f"Bearer {live.edge_token}"},
    )
    [zone] = [z for z in response.json()["result"]["zones"] if z["id"] == zone_id]
    result: list[dict[str, Any]] = zone["purges"]
    return result


def test_purge_urls_tags_and_everything(live: LiveControl, zone_id: str) -> None:
    """veil purge sends one request per call; the snapshot carries the items."""
    urls = veil(
        live,
        "purge",
        "shop.example",
        "--url",
        "https://shop.example/a",
        "--url",
        "https://shop.example/b",
    )
    assert urls.exit_code == 0, urls.stderr
    assert "purge of 2 items in shop.example sent (purge id " in urls.stdout
    assert [p["value"] for p in purges(live, zone_id)][-2:] == [
        "https://shop.example/a",
        "https://shop.example/b",
    ]
    soft = veil(live, "purge", "shop.example", "--tag", "sale", "--soft")
    assert soft.exit_code == 0 and "soft purge of 1 item" in soft.stdout
    assert purges(live, zone_id)[-1] | {"version": 0} == {
        "version": 0,
        "kind": "tag",
        "value": "sale",
        "soft": True,
        "headers": [],
    }
    variant = veil(
        live,
        "purge",
        "shop.example",
        "--url",
        "https://shop.example/v",
        "--header",
        "Accept-Language: de",
    )
    assert variant.exit_code == 0, variant.stderr
    assert purges(live, zone_id)[-1]["headers"] == [["accept-language", "de"]]
    for option in (["--prefix", "shop.example/img"], ["--host", "shop.example"]):
        assert veil(live, "purge", "shop.example", *option).exit_code == 0
    everything = veil(live, "purge", "shop.example", "--everything")
    assert everything.exit_code == 0 and "purge of everything in shop.example" in everything.stdout
    assert [p["kind"] for p in purges(live, zone_id)] == ["everything"]


def test_purge_bad_input_is_one_error_line(live: LiveControl, zone_id: str) -> None:
    """No target, two kinds, a foreign URL, an unknown zone: one line, non-zero exit."""
    assert "give exactly one kind" in one_error_line(veil(live, "purge", "shop.example"))
    mixed = veil(live, "purge", "shop.example", "--tag", "a", "--everything")
    assert "give exactly one kind" in one_error_line(mixed)
    foreign = veil(live, "purge", "shop.example", "--url", "https://other.example/x")
    assert "files[0]: other.example is not in zone shop.example" in one_error_line(foreign)
    assert "no zone named" in one_error_line(veil(live, "purge", "nope.example", "--everything"))
    header = veil(live, "purge", "shop.example", "--tag", "a", "--header", "X: y")
    assert "--header only goes with --url" in one_error_line(header)


def test_zone_cache_shows_and_changes_settings(live: LiveControl, zone_id: str) -> None:
    """Without options it shows the settings; options change them (several at once)."""
    shown = veil(live, "zone", "cache", "shop.example")
    assert shown.exit_code == 0, shown.stderr
    assert "standard" in shown.stdout and "as the origin says" in shown.stdout
    changed = veil(
        live,
        "zone",
        "cache",
        "shop.example",
        "--level",
        "cache_everything",
        "--edge-ttl",
        "3600",
        "--browser-ttl",
        "60",
        "--dev-mode",
        "on",
        "--query",
        "allow",
        "--query-allow",
        "id",
        "--key-header",
        "X-Tier",
        "--key-cookie",
        "ab",
    )
    assert changed.exit_code == 0, changed.stderr
    for text in ("cache_everything", "3600 s", "60 s", "on (", "allow (id)", "x-tier", "ab"):
        assert text in changed.stdout, text
    cleared = veil(live, "zone", "cache", "shop.example", "--key-header", "", "--dev-mode", "off")
    assert cleared.exit_code == 0 and "x-tier" not in cleared.stdout


def test_zone_cache_bad_input_is_one_error_line(live: LiveControl, zone_id: str) -> None:
    """An unknown level, a negative TTL or a refused key field: one line, non-zero exit."""
    for option, value in (("--level", "x"), ("--edge-ttl", "-1")):
        proc = subprocess.run(
            [sys.executable, "-m", "veil", "zone", "cache", "shop.example", option, value],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "VEIL_TOKEN": live.admin_token},
        )
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert proc.returncode == 2 and len(lines) == 1 and option in lines[0], proc.stderr
    allow = veil(live, "zone", "cache", "shop.example", "--query", "none", "--query-allow", "a")
    assert "only used when query is allow" in one_error_line(allow)
