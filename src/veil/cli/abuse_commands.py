"""`veil abuse …`: the operator's side of the abuse desk (docs/abuse.md).

The group lives here; its commands are registered by `veil.cli.abuse_queue` (list, show, act)
and `veil.cli.abuse_records` (verify-log, report), both clients of the running API."""

from __future__ import annotations

from veil.cli import cli


@cli.group()
def abuse() -> None:
    """The abuse desk: cases, actions, the audit log and the transparency report."""
