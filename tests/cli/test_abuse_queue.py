"""`veil abuse list|show|act` against a real control process on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from tests.control.live import LiveControl, start_control
from veil.cli import (
    abuse_queue,  # noqa: F401  (registers the commands)
    cli,
    main,
)

pytestmark = pytest.mark.slow
ORIGIN = "93.184.215.14"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveControl]:
    control = start_control(tmp_path_factory.mktemp("abuse-cli"))
    yield control
    control.stop()


def api(live: LiveControl, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(
        method,
        f"{live.url}/client/v4{path}",
        headers={"Authorization": f"Bearer {live.admin_token}"},
        timeout=10,
        **kwargs,
    )
    assert response.status_code == 200, response.text
    return response.json()["result"]


@pytest.fixture(scope="module")
def cases(live: LiveControl) -> dict[str, str]:
    """A proxied zone and two forwarded notices on it: a DMCA one and a phishing one."""
    zone = api(live, "POST", "/zones", json={"name": "cli-shop.example"})
    api(
        live,
        "POST",
        f"/zones/{zone['id']}/dns_records",
        json={"type": "A", "name": "cli-shop.example", "content": ORIGIN, "proxied": True},
    )
    notice = {
        "email": "counsel@rights.example",
        "name": "Ada Counsel",
        "signature": "Ada Counsel",
        "original_work": "Gown photographs",
        "justification": "A copy of a bank's login page.",
        "agree": 1,
    }
    base = f"/accounts/{zone['account']['id']}/abuse-reports"
    filed = {}
    for act in ("abuse_dmca", "abuse_phishing"):
        body = {**notice, "act": act, "urls": f"https://cli-shop.example/{act}"}
        filed[act] = api(live, "POST", f"{base}/{act}", json=body)
    return filed


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


def test_list_shows_the_queue_nearest_deadline_first(
    live: LiveControl, cases: dict[str, str]
) -> None:
    """The table lists id, category, domain, state, deadline; phishing (4 h) before DMCA (72 h);
    filters and --json work."""
    listed = veil(live, "abuse", "list")
    assert listed.exit_code == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["ID", "CATEGORY", "DOMAIN", "STATE", "DEADLINE", "OVERDUE", "FLAGS"]
    assert cases["abuse_phishing"] in lines[1] and "phishing" in lines[1]
    assert cases["abuse_dmca"] in lines[2] and "cli-shop.example" in lines[2]
    assert "forwarded" in lines[2]
    dmca_only = veil(live, "abuse", "list", "--category", "dmca", "--json")
    assert dmca_only.exit_code == 0, dmca_only.stderr
    [row] = json.loads(dmca_only.stdout)
    assert row["id"] == cases["abuse_dmca"] and row["overdue"] is False
    assert "no cases" in veil(live, "abuse", "list", "--overdue").stdout
    assert "no cases" in veil(live, "abuse", "list", "--state", "closed").stdout


def test_show_prints_the_case_readably(live: LiveControl, cases: dict[str, str]) -> None:
    """show: state, origin, URLs, disclosures, messages and the log, one fact a line."""
    shown = veil(live, "abuse", "show", cases["abuse_dmca"])
    assert shown.exit_code == 0, shown.stderr
    text = shown.stdout
    assert f"case:           {cases['abuse_dmca']}" in text
    assert "origin:         " + ORIGIN in text
    assert "https://cli-shop.example/abuse_dmca" in text
    assert "notice_received" in text and "case_state received -> valid" in text
    assert "next: reply_requested" in text
    as_json = json.loads(veil(live, "abuse", "show", cases["abuse_dmca"], "--json").stdout)
    assert as_json["origin_ip"] == ORIGIN


def test_act_then_cancel(live: LiveControl, cases: dict[str, str]) -> None:
    """act creates a geo-scoped pending block on its date; --action --event cancels it; moving
    it again is one clear line."""
    case_id = cases["abuse_dmca"]
    acted = veil(
        live,
        "abuse",
        "act",
        case_id,
        "--type",
        "legal_block",
        "--countries",
        "de,FR",
        "--effective",
        "2030-12-01T00:00Z",
        "--reason",
        "Counterfeit sale.",
    )
    assert acted.exit_code == 0, acted.stderr
    assert "legal_block pending in DE,FR, effective 2030-12-01 00:00 UTC" in acted.stdout
    action_id = acted.stdout.split()[1].rstrip(":")
    case = api(live, "GET", f"/veil/abuse/cases/{case_id}")
    [action] = case["actions"]
    assert action["id"] == action_id and action["statement"]["explanation"] == "Counterfeit sale."
    cancelled = veil(live, "abuse", "act", "--action", action_id, "--event", "cancel")
    assert cancelled.exit_code == 0, cancelled.stderr
    assert f"action {action_id}: legal_block is now cancelled" in cancelled.stdout
    again = veil(live, "abuse", "act", "--action", action_id, "--event", "cancel")
    assert "is cancelled: 'cancel' is not possible" in one_error_line(again)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("show", "nope"), "abuse case not found"),
        (("act",), "name the case and the action"),
        (("act", "nope", "--type", "legal_block"), "abuse case not found"),
        (("act", "x", "--type", "legal_block", "--countries", "Germany"), "invalid --countries"),
        (("act", "x", "--type", "legal_block", "--effective", "soon"), "invalid --effective"),
        (("act", "x", "--action", "y", "--event", "cancel"), "not both"),
        (("act", "--action", "y"), "go together"),
        (("act", "--action", "nope", "--event", "lift"), "abuse action not found"),
    ],
)
def test_errors_are_one_line(live: LiveControl, args: tuple[str, ...], expected: str) -> None:
    """Every refusal, local or from the API, is one line on stderr and a non-zero exit."""
    assert expected in one_error_line(veil(live, "abuse", *args))


def test_usage_error_is_one_line(live: LiveControl, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad option value through the real entry point: one line, exit 2."""
    with pytest.raises(SystemExit) as exit_info:
        main(["abuse", "list", "--category", "spam", "--data-dir", str(live.data_dir)])
    assert exit_info.value.code == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Invalid value for '--category'" in lines[0]


def test_unreachable_api_is_one_line(live: LiveControl) -> None:
    """No API at the address: one line naming it."""
    result = CliRunner().invoke(
        cli,
        ["abuse", "list", "--api", "http://127.0.0.1:1", "--token", "veil_x"],
        env={"VEIL_TOKEN": ""},
    )
    assert "cannot reach the Veil API" in one_error_line(result)
