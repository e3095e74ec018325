"""Tier (a): the abuse desk's options of `veil up` / `veil control` become one AbuseSettings,
and the desk the control plane builds from it follows the operator's policy."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import click
from click.testing import CliRunner

from veil.cli.abuse_options import abuse_desk_options
from veil.control.desk.context import DeskContext
from veil.control.desk.due_process import restore_business_days, restore_on
from veil.control.desk.hosting import NoLookup
from veil.settings import AbuseSettings


def _parse(*args: str, env: dict[str, str] | None = None) -> tuple[int, Any, str]:
    seen: dict[str, AbuseSettings] = {}

    @click.command()
    @abuse_desk_options
    def probe(abuse: AbuseSettings) -> None:
        seen["abuse"] = abuse

    result = CliRunner().invoke(probe, list(args), env=env)
    return result.exit_code, seen.get("abuse"), result.output


def test_policy_options_reach_the_desk() -> None:
    """Strikes, window, escalation, restore days and holidays configure the desk."""
    code, abuse, output = _parse(
        "--max-strikes", "5", "--strike-window-days", "180", "--escalate-after-days", "14",
        "--restore-business-days", "14", "--holiday", "2026-12-25", "--holiday", "2026-12-24",
        "--smtp", "127.0.0.1:2525", "--smtp-user", "desk", "--smtp-tls", "tls",
        env={"VEIL_SMTP_PASSWORD": "s3cret"},
    )  # fmt: skip
    assert code == 0, output
    assert abuse.smtp == ("127.0.0.1", 2525) and abuse.smtp_tls == "tls"
    assert abuse.smtp_user == "desk" and abuse.smtp_password == "s3cret"
    assert "s3cret" not in repr(abuse)
    desk = DeskContext.from_settings(abuse, public_url="http://desk.test", finder=NoLookup())
    assert desk.policy.max_strikes == 5 and desk.policy.window == timedelta(days=180)
    assert desk.escalate_after == timedelta(days=14)
    assert restore_business_days(desk) == 14
    assert desk.holidays == frozenset({date(2026, 12, 24), date(2026, 12, 25)})


def test_holidays_push_the_restore_date() -> None:
    """A holiday inside the window moves the restore day one business day later."""
    received = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)  # a Monday
    plain = restore_on(received, 10)
    shifted = restore_on(received, 10, frozenset({date(2026, 12, 25)}))
    assert plain == datetime(2026, 12, 28, tzinfo=UTC)  # 10 business days after Dec 14
    assert shifted == plain + timedelta(days=1)


def test_out_of_range_policy_is_one_line() -> None:
    """Restore days outside 10-14 (the statute) or a bad date: a clear error, exit 2."""
    code, _, output = _parse("--restore-business-days", "9")
    assert code == 2 and "--restore-business-days" in output
    code, _, output = _parse("--holiday", "25/12/2026")
    assert code == 2 and "--holiday" in output
