"""First start and every start: data dir, migrations, default account, tokens, demo zone.

`prepare(settings)` is idempotent. On the first start (or when `admin.token` is missing) it
creates the operator's `admin` token and writes it to `data_dir/admin.token` (mode 0600); the
plain value is returned only then. The `edge:read` token for the local edge in
`data_dir/edge.token` is kept across restarts while it is valid (edges started apart with it keep
following a restarted control); a missing or revoked one is replaced. With
`demo_origin=(host, port)` it keeps zone `demo.localhost` (account "Demo") proxied to that
origin.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from veil.clock import SYSTEM_CLOCK, Clock
from veil.control.changes import commit_change
from veil.control.desk.lookup import build_finder
from veil.control.publish import origin_settings
from veil.control.records import OriginPolicy, RecordSpec
from veil.control.schemas.accounts import AccountCreate
from veil.control.schemas.settings import OriginValue
from veil.control.store.db import migrate, open_database
from veil.control.store.models import Account
from veil.control.store.repo import accounts, dns_records, tokens, zone_settings, zones
from veil.control.store.repo.audit import SYSTEM_ACTOR
from veil.control.store.repo.paging import Page
from veil.control.tokens import Permission, hash_token
from veil.settings import ControlSettings

ADMIN_TOKEN_FILE = "admin.token"  # noqa: S105 (a name, not a secret)
EDGE_TOKEN_FILE = "edge.token"  # noqa: S105 (a name, not a secret)
ADMIN_TOKEN_NAME = "operator"  # noqa: S105 (a name, not a secret)
EDGE_TOKEN_NAME = "local edge"  # noqa: S105 (a name, not a secret)
DEMO_ZONE = "demo.localhost"
DEMO_ACCOUNT = "Demo"


@dataclass(frozen=True, slots=True)
class Bootstrap:
    operator_token: str | None  # the plain admin token, only when created on this start
    edge_token: str


def write_secret(path: Path, value: str) -> None:
    """Write `value` to `path` readable by the owner only (0600), atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, (value + "\n").encode())
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _ensure_account(session: Session, name: str, email: str, now: datetime) -> Account:
    account = accounts.find_account_by_name(session=session, name=name)
    if account is not None:
        return account
    account_in = AccountCreate(name=name, contact_email=email, contact_email_verified=True)
    account = accounts.create_account(session=session, account_in=account_in, now=now)
    commit_change(
        session=session,
        actor=SYSTEM_ACTOR,
        action="account.create",
        resource_type="account",
        resource_id=account.id,
        now=now,
        after={"name": name},
        edge_visible=False,
    )
    return account


def _ensure_operator_token(session: Session, data_dir: Path, now: datetime) -> str | None:
    """Mint the operator token on first start — or again when admin.token has been lost
    (whoever runs `prepare` already holds the database itself). Old tokens stay valid."""
    active = [
        t
        for t in tokens.find_tokens_by_name(session=session, name=ADMIN_TOKEN_NAME)
        if t.revoked_on is None
    ]
    if active and (data_dir / ADMIN_TOKEN_FILE).exists():
        return None
    return _mint_saved_token(
        session,
        data_dir / ADMIN_TOKEN_FILE,
        ADMIN_TOKEN_NAME,
        Permission.ADMIN,
        "token.create",
        now,
    )


def _mint_saved_token(
    session: Session, path: Path, name: str, permission: Permission, action: str, now: datetime
) -> str:
    """Create a system token, audit it, and write its value to `path` (mode 0600)."""
    token, value = tokens.create_token(
        session=session,
        name=name,
        permissions=[permission.value],
        zone_ids=None,
        expires_on=None,
        created_by=None,
        now=now,
    )
    commit_change(
        session=session,
        actor=SYSTEM_ACTOR,
        action=action,
        resource_type="token",
        resource_id=token.id,
        now=now,
        after={"name": name, "permissions": [permission.value]},
        edge_visible=False,
    )
    write_secret(path, value)
    return value


def _current_edge_token(session: Session, data_dir: Path, now: datetime) -> str | None:
    """The saved edge token, if it is still an active edge:read token."""
    try:
        value = (data_dir / EDGE_TOKEN_FILE).read_text().strip()
    except OSError:
        return None
    token = tokens.find_token_by_hash(session=session, token_hash=hash_token(value))
    if token is None or token.revoked_on is not None or token.name != EDGE_TOKEN_NAME:
        return None
    if token.expires_on is not None and token.expires_on <= now:
        return None
    return value


def _rotate_edge_token(session: Session, data_dir: Path, now: datetime) -> str:
    current = _current_edge_token(session, data_dir, now)
    if current is not None:
        return current
    for old in tokens.find_tokens_by_name(session=session, name=EDGE_TOKEN_NAME):
        if old.revoked_on is None:
            tokens.revoke_token(session=session, token=old, now=now)
    return _mint_saved_token(
        session,
        data_dir / EDGE_TOKEN_FILE,
        EDGE_TOKEN_NAME,
        Permission.EDGE_READ,
        "token.rotate",
        now,
    )


def _ensure_demo(session: Session, host: str, port: int, now: datetime) -> None:
    account = _ensure_account(session, DEMO_ACCOUNT, "demo@localhost", now)
    zone = zones.find_zone_by_name(session=session, name=DEMO_ZONE)
    changed = False
    if zone is None:
        zone = zones.create_zone(session=session, name=DEMO_ZONE, account_id=account.id, now=now)
        changed = True
    record_type = _address_type(host)
    spec = RecordSpec(
        type=record_type,
        name=DEMO_ZONE,
        content=host,
        ttl=1,
        proxied=True,
        priority=None,
        comment="demo origin",
    )
    existing = [
        r
        for r in dns_records.list_records(
            session=session, zone_id=zone.id, page=Page(page=1, per_page=100), name=DEMO_ZONE
        )[0]
    ]
    if not any(r.type == spec.type and r.content == spec.content and r.proxied for r in existing):
        for record in existing:
            dns_records.delete_record(session=session, record=record)
        dns_records.create_record(session=session, zone_id=zone.id, spec=spec, now=now)
        changed = True
    stored = zone_settings.get_setting(session=session, zone_id=zone.id, setting_id="origin")
    current = origin_settings(stored.value if stored is not None else None)
    if stored is None or current.port != port:
        base = OriginValue.model_validate(stored.value) if stored is not None else OriginValue()
        value = base.model_copy(update={"port": port}).model_dump()
        zone_settings.put_setting(
            session=session, zone_id=zone.id, setting_id="origin", value=value, now=now
        )
        changed = True
    if changed:
        commit_change(
            session=session,
            actor=SYSTEM_ACTOR,
            action="demo.ensure",
            resource_type="zone",
            resource_id=zone.id,
            now=now,
            after={"zone": DEMO_ZONE, "origin": f"{host}:{port}"},
            edge_visible=True,
        )


def _address_type(host: str) -> str:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "CNAME"
    return "A" if address.version == 4 else "AAAA"


def prepare(
    settings: ControlSettings,
    *,
    demo_origin: tuple[str, int] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Bootstrap:
    """Make the control plane ready to serve (idempotent; see the module docstring)."""
    OriginPolicy.from_addresses(  # refuse bad --edge-address values before anything else
        allow_private=settings.allow_private_origins, addresses=settings.edge_addresses
    )
    build_finder(settings.abuse)  # an unreadable --asn-mmdb / --rdap-bootstrap: one line, now
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.effective_database_url
    migrate(url)
    db = open_database(url)
    now = datetime.fromtimestamp(clock.now(), UTC)
    try:
        with db.write() as session:
            _ensure_account(session, accounts.DEFAULT_ACCOUNT_NAME, "operator@localhost", now)
            operator = _ensure_operator_token(session, settings.data_dir, now)
            edge = _rotate_edge_token(session, settings.data_dir, now)
            if demo_origin is not None:
                _ensure_demo(session, demo_origin[0], demo_origin[1], now)
    finally:
        db.dispose()
    return Bootstrap(operator_token=operator, edge_token=edge)
