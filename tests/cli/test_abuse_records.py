"""`veil abuse verify-log` and `veil abuse report` against a real control process."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from tests.control.live import LiveControl, start_control
from veil.cli import (
    abuse_records,  # noqa: F401  (registers the commands)
    cli,
)

pytestmark = pytest.mark.slow

NOTICE: dict[str, Any] = {
    "urls": "https://cli-shop.example/copy-1",
    "email": "counsel@rights.example",
    "email2": "counsel@rights.example",
    "name": "Ada Counsel",
    "signature": "Ada Counsel",
    "original_work": "Photographs of the 2026 collection",
    "agent_name": "Gowns Agency",
    "company": "Rights LLP",
    "address1": "1 Main St",
    "city": "Springfield",
    "country": "US",
    "tele": "+1 555 0100",
    "agree": 1,
}


def api(live: LiveControl, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(
        method,
        f"{live.url}/client/v4{path}",
        headers={"Authorization": f"Bearer {live.admin_token}"},
        timeout=15,
        **kwargs,
    )
    body = response.json()
    assert body["success"], body
    return body["result"]


def seed(live: LiveControl) -> None:
    """A proxied zone and three notices filed through the API (one invalid, one off-network)."""
    zone = api(live, "POST", "/zones", json={"name": "cli-shop.example"})
    api(
        live,
        "POST",
        f"/zones/{zone['id']}/dns_records",
        json={"type": "A", "name": "cli-shop.example", "content": "127.0.0.1", "proxied": True},
    )
    path = f"/accounts/{zone['account']['id']}/abuse-reports/abuse_dmca"
    headers = {"Authorization": f"Bearer {live.admin_token}"}
    for body in (
        NOTICE,
        {**NOTICE, "urls": "https://elsewhere.example/x", "email": "b@rights.example"},
        {**NOTICE, "urls": "https://cli-shop.example/copy-2", "email": "c@rights.example"},
    ):
        body = {**body, "email2": body["email"]}
        response = httpx.post(f"{live.url}/client/v4{path}", json=body, headers=headers)
        assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveControl]:
    control = start_control(tmp_path_factory.mktemp("abuse-cli"))
    seed(control)
    yield control
    control.stop()


def veil(live: LiveControl, *args: str) -> Result:
    return CliRunner().invoke(
        cli, [*args, "--data-dir", str(live.data_dir)], env={"VEIL_TOKEN": ""}
    )


def one_error_line(result: Result) -> str:
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output + result.stderr
    return lines[0]


def test_verify_log_ok_prints_count_and_head(live: LiveControl) -> None:
    """An untouched log: exit 0, "ok: N entries, head H" as the API reports them."""
    expected = api(live, "GET", "/veil/abuse/log/verify")
    result = veil(live, "abuse", "verify-log")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"ok: {expected['entries']} entries, head {expected['head']}"
    assert expected["entries"] > 5
    pinned = veil(live, "abuse", "verify-log", "--head", expected["head"])
    assert pinned.exit_code == 0, pinned.stderr


def test_verify_log_bad_head_is_one_line(live: LiveControl) -> None:
    """A --head that is not a sha256 hash is refused before any call."""
    assert "--head" in one_error_line(veil(live, "abuse", "verify-log", "--head", "xyz"))


def test_report_csv_to_a_file(live: LiveControl, tmp_path: Path) -> None:
    """--format csv --output FILE writes the CSV with the log's head and the notice counts."""
    head = api(live, "GET", "/veil/abuse/log/verify")["head"]
    out = tmp_path / "report.csv"
    result = veil(live, "abuse", "report", "--format", "csv", "--output", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"wrote {out}"
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert ["anchor", "head", head] in rows
    assert ["notices_by_network", "off_network", "1"] in rows
    assert ["notices_by_network", "on_network", "2"] in rows


def test_report_json_and_html_to_stdout(live: LiveControl) -> None:
    """JSON is the API's report; HTML is the self-contained page."""
    result = veil(live, "abuse", "report", "--format", "json", "--since", "2020-01-01")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["sections"]["notices"]["received"] == 3
    assert document["period"]["start"] == "2020-01-01T00:00:00Z"
    page = veil(live, "abuse", "report", "--format", "html")
    assert page.exit_code == 0 and page.stdout.startswith("<!doctype html>")
    assert document["log"]["head"] in page.stdout


def test_report_bad_period_is_the_apis_one_line(live: LiveControl) -> None:
    """A period the API refuses is its message on one line, exit 1."""
    line = one_error_line(veil(live, "abuse", "report", "--since", "soon", "--format", "csv"))
    assert "since: give a date" in line


def test_verify_log_database_that_has_no_log_is_one_line(tmp_path: Path) -> None:
    """--database on a database without the desk's tables: one clear line, exit 1."""
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    result = CliRunner().invoke(
        cli, ["abuse", "verify-log", "--database", f"sqlite:///{empty}"], env={"VEIL_TOKEN": ""}
    )
    assert "cannot read the abuse log" in one_error_line(result)


def test_tampered_log_fails_via_api_and_database(tmp_path: Path) -> None:
    """Editing one row of the running service's log: verify-log (API) and verify-log
    --database both exit 1 naming that row."""
    control = start_control(tmp_path / "tampered")
    try:
        seed(control)
        database = control.data_dir / "veil.db"
        with sqlite3.connect(database) as conn:
            ids = [row[0] for row in conn.execute("SELECT id FROM abuse_log ORDER BY id")]
            conn.execute(
                "UPDATE abuse_log SET entry = json_set(entry, '$.urls', 99) WHERE id = ?",
                (ids[2],),
            )
        line = one_error_line(veil(control, "abuse", "verify-log"))
        assert "row 2 " in line and "edited" in line
        direct = CliRunner().invoke(
            cli,
            ["abuse", "verify-log", "--database", f"sqlite:///{database}"],
            env={"VEIL_TOKEN": ""},
        )
        assert "row 2 " in one_error_line(direct)
    finally:
        control.stop()
