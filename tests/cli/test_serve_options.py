"""Tier (a): the serving commands' option parsing (cache sizes)."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from veil.cli import cli
from veil.cli.serve import _size


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("off", 0), ("4096", 4096), ("64k", 65536), ("256MiB", 256 << 20), ("4G", 4 << 30)],
)
def test_sizes(text: str, expected: int) -> None:
    """Byte sizes accept plain bytes and K/M/G (binary) units, case-insensitive."""
    assert _size(click.Context(cli), click.Option(["--x"]), text) == expected


@pytest.mark.parametrize("text", ["12Q", "-1", "1.5G", "", "G"])
def test_bad_sizes_are_one_line(text: str, tmp_path: object) -> None:
    """A bad size is one clear line and a non-zero exit, before anything starts."""
    result = CliRunner().invoke(cli, ["edge", "--snapshot", __file__, "--cache-memory", text])
    assert result.exit_code != 0
    assert "--cache-memory" in result.output and "Traceback" not in result.output
