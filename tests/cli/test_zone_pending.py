"""`veil zone add` says when a zone is pending (its account's abuse contact is unverified)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner

from tests.control.live import LiveControl, start_control
from veil.cli import (
    api_commands,  # noqa: F401  (registers the commands)
    cli,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveControl]:
    control = start_control(tmp_path_factory.mktemp("cli-pending"))
    yield control
    control.stop()


def test_zone_add_on_unverified_account_says_pending(live: LiveControl) -> None:
    """The zone is created but reported pending until the account's contact is verified."""
    account = httpx.post(
        f"{live.url}/client/v4/accounts",
        headers={"Authorization": f"Bearer {live.admin_token}"},
        json={"name": "New", "contact_email": "owner@new.example"},
    ).json()["result"]
    args = ["zone", "add", "new.example", "--origin", "http://8.8.8.8", "--account", account["id"]]
    result = CliRunner().invoke(
        cli, [*args, "--data-dir", str(live.data_dir)], env={"VEIL_TOKEN": ""}
    )
    assert result.exit_code == 0, result.stderr
    assert "new.example added" in result.stdout
    assert "pending: not served until the account's abuse contact is verified" in result.stdout
    listed = CliRunner().invoke(
        cli, ["zone", "list", "--data-dir", str(live.data_dir)], env={"VEIL_TOKEN": ""}
    )
    assert "pending" in listed.stdout
