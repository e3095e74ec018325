"""Tier (c), acceptance 3 across the whole stack: `veil up`, a notice, the operator's action,
the edge. A pending legal_block becomes effective on its date and the edge answers 451 for that
URL only; an order's geo-scoped block answers 451 only to visitors of its countries; a contest
moves a pending action to in_review and the edge does not enforce it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.test_up import Stack, _start_up, _stop

DMCA: dict[str, Any] = {
    "act": "abuse_dmca",
    "email": "counsel@rights.example",
    "name": "Ada Counsel",
    "signature": "Ada Counsel",
    "original_work": "Bridal gown collection 2026",
    "address1": "1 Main St",
    "city": "Springfield",
    "country": "US",
    "tele": "+1 555 0100",
    "agree": 1,
}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    s = _start_up(tmp_path, "--allow-private-origins", "--country-header", "X-Test-Country")
    yield s
    _stop(s.proc)


def _api(stack: Stack) -> httpx.Client:
    token = (stack.data_dir / "admin.token").read_text().strip()
    return httpx.Client(
        base_url=f"http://127.0.0.1:{stack.api_port}/client/v4",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def _file(api: httpx.Client, account: str, *urls: str) -> str:
    body = {**DMCA, "urls": "\n".join(urls)}
    response = api.post(f"/accounts/{account}/abuse-reports/abuse_dmca", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["result"])


def _status_until(
    stack: Stack, path: str, want: int, headers: dict[str, str], within: float
) -> int:
    deadline = time.monotonic() + within
    status = 0
    while time.monotonic() < deadline:
        status = stack.get_with("shop.test", path, headers).status_code
        if status == want:
            return status
        time.sleep(0.05)
    return status


def _at(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def test_pending_block_geo_order_and_contest_at_the_edge(stack: Stack, origin_port: int) -> None:
    """Pending 451 on its date for that URL only; a geo-scoped order for DE only; a contested
    pending block is in_review and never enforced."""
    added = stack.cli("zone", "add", "shop.test", "--origin", f"http://127.0.0.1:{origin_port}")
    assert added.returncode == 0, added.stderr
    assert _status_until(stack, "/item/1", 200, {}, 5) == 200
    with _api(stack) as api:
        [account] = [a["id"] for a in api.get("/accounts").json()["result"]]
        case = _file(api, account, "http://shop.test/item/1")
        acted = stack.cli("abuse", "act", case, "--type", "legal_block", "--effective", _at(2))
        assert acted.returncode == 0, acted.stderr
        assert stack.get("shop.test", "/item/1").status_code == 200  # pending, not yet due
        assert _status_until(stack, "/item/1", 451, {}, 10) == 451
        blocked = stack.get("shop.test", "/item/1")
        assert 'rel="blocked-by"' in blocked.headers["link"]
        assert f":{origin_port}" not in blocked.text and f":{origin_port}" not in str(
            blocked.headers
        )
        assert "/abuse/agent" in blocked.text and "/abuse/contact" in blocked.text
        assert stack.get("shop.test", "/item/2").status_code == 200  # that URL only

        order = api.post(
            "/veil/abuse/orders",
            json={
                "authority": "Landgericht Berlin",
                "country": "DE",
                "legal_basis": "§ 97 UrhG",
                "urls": ["http://shop.test/item/3"],
            },
        )
        assert order.status_code == 200, order.text
        assert _status_until(stack, "/item/3", 451, {"X-Test-Country": "DE"}, 10) == 451
        assert stack.get_with("shop.test", "/item/3", {"X-Test-Country": "FR"}).status_code == 200

        contested = _file(api, account, "http://shop.test/item/4")
        acted = stack.cli("abuse", "act", contested, "--type", "legal_block", "--effective", _at(2))
        assert acted.returncode == 0, acted.stderr
        [mitigation] = api.get(f"/accounts/{account}/abuse-reports/{contested}/mitigations").json()[
            "result"
        ]["mitigations"]
        appeal = api.post(
            f"/accounts/{account}/abuse-reports/{contested}/mitigations/appeal",
            json={"appeals": [{"id": mitigation["id"], "reason": "misclassified"}]},
        )
        assert appeal.status_code == 200, appeal.text
        [after] = api.get(f"/accounts/{account}/abuse-reports/{contested}/mitigations").json()[
            "result"
        ]["mitigations"]
        assert after["status"] == "in_review"
    time.sleep(3)
    assert stack.get("shop.test", "/item/4").status_code == 200
