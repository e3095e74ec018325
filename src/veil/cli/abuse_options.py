"""The abuse desk's options of `veil up` / `veil control`, and the edge's geo options of
`veil up` / `veil edge`, each gathered into one settings value (docs/abuse.md)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from veil.settings import AbuseSettings, SettingsError, parse_hostport

SMTP_TLS_MODES = ("starttls", "require-starttls", "tls", "none")
_DESK_FIELDS = (
    "smtp",
    "smtp_tls",
    "smtp_user",
    "smtp_password",
    "abuse_smtp_listen",
    "public_url",
    "mail_from",
    "asn_mmdb",
    "rdap_bootstrap",
    "operator_name",
    "agent_name",
    "agent_address",
    "agent_email",
    "agent_phone",
    "dsa_contact_email",
    "max_strikes",
    "strike_window_days",
    "escalate_after_days",
    "restore_business_days",
    "holiday",
)


def _optional_hostport(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return parse_hostport(value, what=f"--{(param.name or '').replace('_', '-')}")
    except SettingsError as exc:
        raise click.BadParameter(str(exc)) from None


def abuse_desk_options(f: Callable[..., None]) -> Callable[..., None]:
    """Add the desk's options; the command receives them as one `abuse: AbuseSettings`."""

    @functools.wraps(f)
    def wrapper(**kwargs: Any) -> None:
        values = {name: kwargs.pop(name) for name in _DESK_FIELDS}
        kwargs["abuse"] = AbuseSettings(
            smtp=values["smtp"],
            smtp_tls=values["smtp_tls"],
            smtp_user=values["smtp_user"] or "",
            smtp_password=values["smtp_password"] or "",
            smtp_listen=values["abuse_smtp_listen"],
            public_url=values["public_url"].rstrip("/") if values["public_url"] else None,
            mail_from=values["mail_from"],
            asn_mmdb=values["asn_mmdb"],
            rdap_bootstrap=values["rdap_bootstrap"],
            operator_name=values["operator_name"],
            agent_name=values["agent_name"],
            agent_address=values["agent_address"],
            agent_email=values["agent_email"],
            agent_phone=values["agent_phone"],
            dsa_contact_email=values["dsa_contact_email"],
            max_strikes=values["max_strikes"],
            strike_window_days=values["strike_window_days"],
            escalate_after_days=values["escalate_after_days"],
            restore_business_days=values["restore_business_days"],
            holidays=tuple(sorted(set(values["holiday"]))),
        )
        f(**kwargs)

    path = click.Path(path_type=Path, exists=True, dir_okay=False)
    options = [
        click.option(
            "--smtp",
            callback=_optional_hostport,
            default=None,
            help="SMTP relay HOST:PORT for the desk's mail [default: mail waits in the outbox].",
        ),
        click.option(
            "--smtp-tls",
            type=click.Choice(SMTP_TLS_MODES),
            default="starttls",
            show_default=True,
            help="TLS to the relay: STARTTLS when offered, required, implicit TLS (465), none.",
        ),
        click.option("--smtp-user", default=None, help="Log in to the relay as this user."),
        click.option(
            "--smtp-password",
            envvar="VEIL_SMTP_PASSWORD",
            default=None,
            help="The relay password; prefer $VEIL_SMTP_PASSWORD (a flag shows in `ps`).",
        ),
        click.option(
            "--abuse-smtp-listen",
            callback=_optional_hostport,
            default=None,
            help="Take notices by e-mail: an SMTP intake on HOST:PORT.",
        ),
        click.option(
            "--public-url",
            default=None,
            help="Base URL of the public desk pages in mailed links [default: the API's URL].",
        ),
        click.option("--mail-from", default="abuse@veil.localhost", show_default=True),
        click.option(
            "--asn-mmdb", type=path, default=None, help="MaxMind-format IP-to-ASN database."
        ),
        click.option(
            "--rdap-bootstrap",
            type=path,
            default=None,
            help="IANA RDAP bootstrap JSON (RFC 9224) for hosting providers' abuse contacts.",
        ),
        click.option("--operator-name", default="Veil", show_default=True),
        click.option("--agent-name", default="", help="Designated agent (17 U.S.C. §512(c)(2))."),
        click.option("--agent-address", default=""),
        click.option("--agent-email", default=""),
        click.option("--agent-phone", default=""),
        click.option("--dsa-contact-email", default="", help="DSA single point of contact."),
        click.option(
            "--max-strikes",
            type=click.IntRange(1, 100),
            default=3,
            show_default=True,
            help="Repeat-infringer policy (§512(i)): this many active strikes ...",
        ),
        click.option(
            "--strike-window-days",
            type=click.IntRange(1, 3650),
            default=365,
            show_default=True,
            help="... within this many days call for a suspension review.",
        ),
        click.option(
            "--escalate-after-days",
            type=click.IntRange(1, 365),
            default=30,
            show_default=True,
            help="Escalate valid notices the customer leaves unanswered this long.",
        ),
        click.option(
            "--restore-business-days",
            type=click.IntRange(10, 14),
            default=10,
            show_default=True,
            help="Restore after a counter-notice this many business days on (§512(g)(2)(C)).",
        ),
        click.option(
            "--holiday",
            type=click.DateTime(formats=["%Y-%m-%d"]),
            multiple=True,
            callback=lambda ctx, param, value: [v.date() for v in value],
            help="A day that is not a business day, YYYY-MM-DD (repeatable).",
        ),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def edge_geo_options(f: Callable[..., None]) -> Callable[..., None]:
    """Add --geoip-mmdb and --country-header (geo-scoped legal blocks)."""
    f = click.option(
        "--country-header",
        default=None,
        help="A request field set by a trusted front (e.g. CF-IPCountry) with the country.",
    )(f)
    return click.option(
        "--geoip-mmdb",
        type=click.Path(path_type=Path, exists=True, dir_okay=False),
        default=None,
        help="MaxMind-format country database for geo-scoped legal blocks.",
    )(f)
