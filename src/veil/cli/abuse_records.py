"""`veil abuse` commands (filled in by issue 4 work in progress)."""

from __future__ import annotations

from veil.cli.abuse_commands import abuse as abuse
