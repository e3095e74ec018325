"""`veil abuse verify-log` and `veil abuse report`: the desk's records (docs/abuse.md).

Both are clients of the running API (`--data-dir`, `--api`, `--token` as everywhere). An
auditor who does not trust the running service runs `veil abuse verify-log --database URL`,
which reads the `abuse_log` table itself and recomputes the chain
(`veil.control.desk.log.verify_log`); nothing is written to that database.
Exit status of verify-log: 0 when the chain holds, 1 when it does not (or on any error)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from veil.cli.abuse_commands import abuse
from veil.cli.api_commands import Target, call, die, request, resolve_target
from veil.settings import DEFAULT_DATA_DIR

REASONS = {
    "link": "its prev_hash is not the previous row's hash (a row was deleted, inserted or moved)",
    "hash": "its hash does not match its contents (the row was edited)",
    "head": "the log does not end in the given head hash (rewritten or truncated)",
}


def _target_options(command: Any) -> Any:
    """--data-dir, --api, --token, resolved only when the API is used."""
    for option in reversed(
        [
            click.option(
                "--data-dir",
                type=click.Path(file_okay=False, path_type=Path),
                default=DEFAULT_DATA_DIR,
                show_default=True,
                help="Where api.url and admin.token live.",
            ),
            click.option("--api", default=None, help="Control API URL (default: DIR/api.url)."),
            click.option(
                "--token",
                envvar="VEIL_TOKEN",
                default=None,
                help="API token (default: $VEIL_TOKEN, else DIR/admin.token).",
            ),
        ]
    ):
        command = option(command)
    return command


def _verdict(ok: bool, entries: int, head: str, first_bad: int | None, reason: str) -> None:
    if ok:
        click.echo(f"ok: {entries} entries, head {head}")
        return
    why = REASONS.get(reason, reason or "the chain does not verify")
    if reason == "head":
        die(f"log verification failed after the last row ({entries} rows): {why}")
    die(f"log verification failed at row {first_bad} (0-based, of {entries}): {why}")


def _verify_database(url: str, head: str | None) -> None:
    from sqlalchemy import func, select
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from veil.abuse.chain import GENESIS
    from veil.control.desk.log import verify_log
    from veil.control.store.db import open_database
    from veil.control.store.models import AbuseLogEntry

    try:
        shown = make_url(url).render_as_string(hide_password=True)
        db = open_database(url)
    except (ArgumentError, ValueError, ImportError) as exc:
        die(f"invalid --database URL: {type(exc).__name__}")
    try:
        with db.read() as session:
            result = verify_log(session=session, head=head)
            entries = session.scalar(select(func.count()).select_from(AbuseLogEntry)) or 0
            last = session.scalars(
                select(AbuseLogEntry.hash).order_by(AbuseLogEntry.id.desc()).limit(1)
            ).first()
    except SQLAlchemyError as exc:
        die(f"cannot read the abuse log at {shown}: {type(exc).__name__}")
    finally:
        db.dispose()
    _verdict(result.ok, entries, last or GENESIS, result.first_bad, result.reason)


@abuse.command("verify-log")
@_target_options
@click.option(
    "--database",
    default=None,
    metavar="URL",
    help="Read this database directly (SQLAlchemy URL) instead of asking the running API.",
)
@click.option("--head", default=None, help="A published head hash the log must still end in.")
def verify_log_command(
    data_dir: Path, api: str | None, token: str | None, database: str | None, head: str | None
) -> None:
    """Recompute the audit log's hash chain; exit 1 at the first bad row."""
    if head is not None:
        head = head.strip().lower()
        if len(head) != 64 or any(c not in "0123456789abcdef" for c in head):
            die("--head: a sha256 hash, 64 hex digits")
    if database is not None:
        _verify_database(database, head)
        return
    target = resolve_target(data_dir, api, token)
    result = call(target, "GET", "/veil/abuse/log/verify", params={"head": head} if head else None)
    _verdict(
        bool(result["ok"]),
        int(result["entries"]),
        str(result["head"]),
        result.get("first_bad"),
        str(result.get("reason") or ""),
    )


def _get_text(target: Target, path: str, params: dict[str, str]) -> str:
    """A GET whose success is a text body (csv, html); an error is the envelope's message."""
    response = request(target, "GET", path, params=params)
    if response.is_success:
        return response.text
    try:
        errors = response.json().get("errors") or []
        message = "; ".join(str(e.get("message", e)) for e in errors if isinstance(e, dict))
    except (ValueError, AttributeError):
        message = ""
    die(message or f"the Veil API at {target.api} answered HTTP {response.status_code}")


@abuse.command("report")
@_target_options
@click.option("--since", default=None, help="Start (YYYY-MM-DD or RFC 3339) [default: a year ago].")
@click.option(
    "--until", default=None, help="End, excluded (YYYY-MM-DD or RFC 3339) [default: now]."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "html", "json"]),
    default="csv",
    show_default=True,
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to FILE instead of standard output.",
)
def report_command(
    data_dir: Path,
    api: str | None,
    token: str | None,
    since: str | None,
    until: str | None,
    fmt: str,
    output: Path | None,
) -> None:
    """The transparency report (DSA Article 15), computed from the audit log alone."""
    target = resolve_target(data_dir, api, token)
    params = {
        "format": fmt,
        **({"since": since} if since else {}),
        **({"until": until} if until else {}),
    }
    if fmt == "json":
        text = json.dumps(call(target, "GET", "/veil/abuse/report", params=params), indent=2) + "\n"
    else:
        text = _get_text(target, "/veil/abuse/report", params)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        die(f"cannot write {output}: {exc.strerror or type(exc).__name__}")
    click.echo(f"wrote {output}")
