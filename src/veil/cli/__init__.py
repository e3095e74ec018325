"""The `veil` command line: thin — parse args, build settings, run.

Commands are grouped by module: `serve.py` (up, control, edge: the long-running processes) and
`api_commands.py` (zone, token, status: clients of a running control API).
Errors are one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import sys

import click
from rich.console import Console

from veil import __version__

err_console = Console(stderr=True, highlight=False)


class VeilGroup(click.Group):
    """A click group whose usage errors are one clear line."""

    def main(self, *args: object, **kwargs: object) -> object:
        try:
            return super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        except click.exceptions.Abort:
            err_console.print("veil: aborted")
            sys.exit(130)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
            sys.exit(0)
        except click.ClickException as exc:
            where = f"veil {exc.ctx.info_name}: " if getattr(exc, "ctx", None) else "veil: "  # type: ignore[attr-defined]
            err_console.print(f"[red]error:[/red] {where}{exc.format_message()}")
            sys.exit(exc.exit_code if exc.exit_code else 2)


@click.group(cls=VeilGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="veil")
def cli() -> None:
    """Veil — a self-hostable CDN: edge proxy, control API, protection, abuse desk."""


def fail(message: str, code: int = 1) -> None:
    """Print one error line and exit non-zero."""
    err_console.print(f"[red]error:[/red] {message}")
    sys.exit(code)


def main() -> None:
    import importlib

    for module in ("veil.cli.serve", "veil.cli.api_commands"):  # each registers its commands
        importlib.import_module(module)

    result = cli.main(prog_name="veil")
    if isinstance(result, int) and result:
        sys.exit(result)
