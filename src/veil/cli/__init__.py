"""The `veil` command line: thin — parse args, build settings, run.

Commands are grouped by module: `serve.py` (up, control, edge: the long-running processes),
`api_commands.py` (zone, token, status: clients of a running control API) and
`cache_commands.py` (purge, zone cache: clients too).
Errors are one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.markup import escape

from veil import __version__

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="veil")
def cli() -> None:
    """Veil — a self-hostable CDN: edge proxy, control API, protection, abuse desk."""


def fail(message: str, code: int = 1) -> None:
    """Print one error line and exit non-zero."""
    err_console.print(f"[red]error:[/red] {escape(message)}")
    sys.exit(code)


def main(args: list[str] | None = None) -> None:
    """Entry point: run the command; usage errors are one clear line, exit code 2."""
    import importlib

    for module in (
        "veil.cli.serve",
        "veil.cli.api_commands",
        "veil.cli.cache_commands",
        "veil.cli.abuse_commands",
        "veil.cli.abuse_queue",
        "veil.cli.abuse_records",
    ):  # each registers its commands
        importlib.import_module(module)
    try:
        result = cli.main(args=args, prog_name="veil", standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("veil: aborted")
        sys.exit(130)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(0)
    except click.ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        where = f"veil {ctx.command_path.removeprefix('veil ')}: " if ctx else "veil: "
        err_console.print(f"[red]error:[/red] {escape(where + exc.format_message())}")
        sys.exit(exc.exit_code or 2)
    if isinstance(result, int) and result:
        sys.exit(result)
