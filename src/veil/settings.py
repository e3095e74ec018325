"""Frozen settings, parsed once from the command line and passed down (STYLE: settings.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

DEFAULT_DATA_DIR = Path(".veil")
DEFAULT_EDGE_LISTEN = ("127.0.0.1", 8080)
DEFAULT_API_LISTEN = ("127.0.0.1", 8081)


class SettingsError(ValueError):
    """A setting that cannot be used; the message is one line for the operator."""


def parse_hostport(text: str, *, what: str = "address") -> tuple[str, int]:
    """Parse HOST:PORT or [V6]:PORT into (host, port)."""
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
        if not sep or not port_text:
            raise SettingsError(f"{what} {text!r} is not [IPV6]:PORT")
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep or not host:
            raise SettingsError(f"{what} {text!r} is not HOST:PORT")
    if not port_text.isdigit() or not 0 <= int(port_text) < 65536:
        raise SettingsError(f"{what} {text!r} has no valid port")
    return host, int(port_text)


def format_hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


@dataclass(frozen=True, slots=True)
class EdgeSettings:
    """The data plane. `control_url`/`control_token` say where snapshots come from."""

    listen: tuple[str, int] = DEFAULT_EDGE_LISTEN
    workers: int = 1
    state_dir: Path = DEFAULT_DATA_DIR / "edge"
    control_url: str = "http://127.0.0.1:8081"
    control_token: str = ""
    allow_private_origins: bool = False
    admin_listen: tuple[str, int] | None = None  # Prometheus /metrics
    node_id: str = "edge-1"
    header_timeout: float = 10.0  # whole request head must arrive within this (slowloris)
    keepalive_timeout: float = 75.0  # idle client connection between requests
    body_idle_timeout: float = 60.0  # a request body stalled this long is abandoned (408)
    send_timeout: float = 60.0  # a visitor that takes no more of a stored body this long is cut
    drain_timeout: float = 30.0  # SIGTERM: finish in-flight requests, at most this long
    max_header_bytes: int = 32 * 1024  # -> 431
    max_target_bytes: int = 8 * 1024  # -> 414
    upstream_idle_timeout: float = 60.0  # pooled origin connections close after this
    upstream_max_idle_per_origin: int = 512
    access_log: bool = True
    cache_memory_bytes: int = 256 * 1024 * 1024  # per worker process
    cache_disk_bytes: int = 4 * 1024 * 1024 * 1024  # shared by the workers; 0: no disk tier
    geoip_mmdb: Path | None = None  # MaxMind-format country database for geo-scoped blocks
    country_header: str | None = None  # a trusted request field carrying the visitor's country


@dataclass(frozen=True, slots=True)
class AbuseSettings:
    """The abuse desk's operator settings (docs/abuse.md)."""

    public_url: str | None = None  # base of the links mailed to reporters; None: the API's URL
    smtp: tuple[str, int] | None = None  # outgoing mail relay; None: mail stays in the outbox
    smtp_tls: str = "starttls"  # starttls (when offered) | require-starttls | tls | none
    smtp_user: str = ""  # log in to the relay (AUTH) when set
    smtp_password: str = field(default="", repr=False)  # from $VEIL_SMTP_PASSWORD
    smtp_listen: tuple[str, int] | None = None  # SMTP intake for notices sent to abuse@
    mail_from: str = "abuse@veil.localhost"
    asn_mmdb: Path | None = None  # MaxMind-format IP-to-ASN database (GeoLite2-ASN shape)
    rdap_bootstrap: Path | None = None  # IANA RDAP bootstrap file (ipv4.json / ipv6.json)
    rdap_timeout: float = 0.8  # the receipt must come in under 1 s
    operator_name: str = "Veil"
    agent_name: str = ""  # the designated agent (17 U.S.C. §512(c)(2))
    agent_address: str = ""
    agent_email: str = ""
    agent_phone: str = ""
    dsa_contact_email: str = ""  # DSA Art. 11/12 single point of contact
    dsa_languages: tuple[str, ...] = ("en",)
    max_strikes: int = 3  # the repeat-infringer policy (§512(i)): this many active strikes ...
    strike_window_days: int = 365  # ... within this many days call for a suspension review
    escalate_after_days: int = 30  # valid notices left unanswered this long are escalated
    restore_business_days: int = 10  # §512(g)(2)(C): 10 to 14 business days after a counter-notice
    holidays: tuple[date, ...] = ()  # days that are not business days (besides weekends)


@dataclass(frozen=True, slots=True)
class ControlSettings:
    listen: tuple[str, int] = DEFAULT_API_LISTEN
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None  # None: sqlite file in data_dir
    allow_private_origins: bool = False
    edge_addresses: tuple[str, ...] = ()  # the edge's own IPs, refused as origins
    abuse: AbuseSettings = AbuseSettings()

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'veil.db').resolve()}"
