"""The edge's side of the abuse desk: per-worker indexes, the visitor's country, pass cookies,
and the answers (451 legal block, 403 suspension, 403 interstitial, the click-through).

Only zones whose snapshot entry carries abuse blocks reach this module (`Exchange.start`
checks `route.zone.abuse`, an empty tuple for every other zone), and it runs at ROUTE, before
the cache lookup, so a blocked URL is never served from the cache either. The decisions are
`veil.edge.abuse` (pure); this module does the I/O around them: reading the country (a trusted
request field, or a MaxMind-format database opened once per worker), the per-edge pass secret
(`STATE_DIR/abuse-pass.key`, made on first use, shared by the workers), and writing pages.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from veil.edge import abuse
from veil.edge.abuse import AbuseIndex
from veil.edge.abuse_pages import interstitial_page, legal_block_page, suspended_page
from veil.http.headers import Header, wants_json
from veil.settings import EdgeSettings
from veil.snapshot import AbuseBlock, Snapshot

if TYPE_CHECKING:
    from veil.edge.exchange import Exchange

log = logging.getLogger("veil.edge.abuse")
CONTINUE_PATH = "/.veil/abuse/continue"  # answered by the edge on zones with interstitials
CONTINUE_TARGET = CONTINUE_PATH.encode()
LOCATION_SAFE = "/?#[]@!$&'()*+,;=:%-._~"  # RFC 3986 reserved and unreserved characters
NONCE_COOKIE = "veil_warn"  # double-submit nonce: the continue link works only for its viewer
NONCE_SECONDS = 600
KEY_FILE = "abuse-pass.key"
NO_STORE = (b"Cache-Control", b"no-store")


class AbuseGate:
    """Per worker: each blocked zone's index (rebuilt per snapshot) and the country source."""

    def __init__(self, settings: EdgeSettings) -> None:
        self.settings = settings
        self.indexes: dict[str, AbuseIndex] = {}
        self._header = settings.country_header.lower().encode() if settings.country_header else b""
        self._reader: Any = None
        self._secret: bytes | None = None
        self._warned_no_geo = False
        self._geo_broken = False  # the database could not be read: fail closed (logged)

    def install(self, snapshot: Snapshot) -> None:
        self.indexes = {z.id: abuse.build_index(z.abuse) for z in snapshot.zones if z.abuse}

    # -- the request ---------------------------------------------------------------------

    def check(self, ex: Exchange, zone_id: str) -> bool:
        """Answer the request when a block applies (True); False lets it go on normally."""
        index = self.indexes.get(zone_id)
        if index is None:
            return False
        if ex.target.startswith(CONTINUE_TARGET) and ex.target.split(b"?", 1)[0] == CONTINUE_TARGET:
            self._continue(ex, index)
            return True
        found = abuse.candidates(index, abuse.visitor_keys(ex.host, ex.target))
        if not found:
            return False
        now = time.time()
        country, geo_known = self._country(ex) if abuse.needs_country(found) else (None, True)
        passed = self._passes(ex, found, now) if abuse.needs_pass(found) else frozenset()
        block = abuse.in_force(found, now=now, country=country, geo_known=geo_known, passed=passed)
        if block is None:
            return False
        self._answer(ex, block, now)
        return True

    def _answer(self, ex: Exchange, block: AbuseBlock, now: float) -> None:
        as_json = wants_json(ex.scan.accept)
        ray = ex.ray.decode()
        headers: list[Header] = [NO_STORE]
        if block.kind == abuse.LEGAL_BLOCK:
            # RFC 7725 §3: 451, and a Link naming who implements the block — the operator's
            # public statement of the action (its page names the operator and the reasons).
            ctype, body = legal_block_page(block, ray=ray, now=now, as_json=as_json)
            if block.statement_url:
                link = f'<{block.statement_url}>; rel="blocked-by"'.encode()
                headers.append((b"Link", link))
            return ex.answer(451, [(b"Content-Type", ctype), *headers], body)
        if block.kind == abuse.ACCOUNT_SUSPEND:
            # 403, not 451: a suspension is the provider's own decision under its terms, not
            # the consequence of a legal demand that RFC 7725 §3 reserves 451 for.
            ctype, body = suspended_page(block, ray=ray, now=now, as_json=as_json)
            return ex.answer(403, [(b"Content-Type", ctype), *headers], body)
        self._interstitial(ex, block, now, as_json)

    def _interstitial(self, ex: Exchange, block: AbuseBlock, now: float, as_json: bool) -> None:
        # 403, not Cloudflare's 200: the warning is not a representation of the target resource
        # (RFC 9110 §15.3.1), so a 200 would let crawlers index it and scripts take it for the
        # page; a browser shows a 403 page the same, and the visitor can still click through.
        nonce = secrets.token_hex(16)
        back = ex.target.decode("latin-1") if ex.target.startswith(b"/") else "/"
        query = urllib.parse.urlencode({"b": block.id, "n": nonce, "to": back})
        ctype, body = interstitial_page(
            block,
            continue_url=f"{CONTINUE_PATH}?{query}",
            ray=ex.ray.decode(),
            now=now,
            as_json=as_json,
        )
        cookie = f"{NONCE_COOKIE}={nonce}; Path=/; Max-Age={NONCE_SECONDS}; HttpOnly; SameSite=Lax"
        headers = [(b"Content-Type", ctype), NO_STORE, (b"Set-Cookie", cookie.encode())]
        ex.answer(403, headers, body)

    def _continue(self, ex: Exchange, index: AbuseIndex) -> None:
        """The click-through: with the nonce its warning page set, grant a pass and go back."""
        query = urllib.parse.parse_qs(ex.target.decode("latin-1").partition("?")[2])
        block_id, nonce, back = (query.get(k, [""])[0] for k in ("b", "n", "to"))
        jar = abuse.cookies(v for n, v in ex.request_headers if n.lower() == b"cookie")
        known = any(
            b.id == block_id and b.kind in abuse.INTERSTITIALS
            for blocks in index.by_key.values()
            for b in blocks
        )
        if not (known and nonce and jar.get(NONCE_COOKIE) == nonce):
            return ex.synth_status(400, "Bad request", "This warning link has expired.")
        if not back.startswith("/") or back.startswith("//") or "\\" in back:
            back = "/"  # never an open redirect to another site
        back = urllib.parse.quote(back, safe=LOCATION_SAFE)  # no CR/LF, no raw non-ASCII
        expires = int(time.time()) + abuse.PASS_SECONDS
        value = abuse.sign_pass(self._key(), host=ex.host, block_id=block_id, expires=expires)
        name = abuse.pass_cookie_name(block_id)
        cookie = f"{name}={value}; Path=/; Max-Age={abuse.PASS_SECONDS}; HttpOnly; SameSite=Lax"
        headers: list[Header] = [
            NO_STORE,
            (b"Location", back.encode("ascii")),
            (b"Set-Cookie", cookie.encode()),
            (b"Set-Cookie", f"{NONCE_COOKIE}=; Path=/; Max-Age=0".encode()),
            (b"Content-Type", b"text/plain; charset=utf-8"),
        ]
        ex.answer(303, headers, b"See the page you asked for.\n")

    # -- the visitor's facts -------------------------------------------------------------

    def _passes(self, ex: Exchange, blocks: tuple[AbuseBlock, ...], now: float) -> frozenset[str]:
        jar = abuse.cookies(v for n, v in ex.request_headers if n.lower() == b"cookie")
        key = self._key()
        return frozenset(
            b.id
            for b in blocks
            if b.kind in abuse.INTERSTITIALS
            and abuse.pass_valid(
                key, jar.get(abuse.pass_cookie_name(b.id), ""), host=ex.host, block_id=b.id, now=now
            )
        )

    def _country(self, ex: Exchange) -> tuple[str | None, bool]:
        """(ISO code or None, whether any country source is usable). The trusted field wins
        when the request has it; then the database; with neither, fail closed (logged once)."""
        if self._header:
            for name, value in ex.request_headers:
                if name.lower() == self._header:
                    code = value.decode("latin-1").strip().upper()
                    return (code if len(code) == 2 and code.isalpha() else None), True
            if self.settings.geoip_mmdb is None:
                return None, True
        reader = self._open_reader() if self.settings.geoip_mmdb is not None else None
        if reader is not None:
            return _country_of(reader, ex.client.client_ip), True
        if not self._warned_no_geo:
            self._warned_no_geo = True
            log.warning(
                "a geo-scoped legal block is enforced worldwide: no usable --geoip-mmdb or "
                "--country-header tells this edge a visitor's country (failing closed)"
            )
        return None, False

    def _open_reader(self) -> Any:
        """The GeoIP database, opened once per worker; None when it cannot be read."""
        if self._reader is None and not self._geo_broken:
            import maxminddb  # only edges with geo-scoped blocks pay for it

            try:
                self._reader = maxminddb.open_database(str(self.settings.geoip_mmdb))
            except (OSError, ValueError, RuntimeError) as exc:  # InvalidDatabaseError
                log.error("cannot read --geoip-mmdb %s: %s", self.settings.geoip_mmdb, exc)
                self._geo_broken = True
        return self._reader

    def _key(self) -> bytes:
        if self._secret is None:
            self._secret = load_secret(self.settings.state_dir / KEY_FILE)
        return self._secret


def _country_of(reader: Any, ip: str) -> str | None:
    """`country.iso_code` of the address in a MaxMind-format country database."""
    try:
        record = reader.get(ip)
    except ValueError:  # not an IP address (a unix socket peer)
        return None
    country = record.get("country") if isinstance(record, dict) else None
    code = country.get("iso_code") if isinstance(country, dict) else None
    return code.upper() if isinstance(code, str) else None


def load_secret(path: Path) -> bytes:
    """The per-edge HMAC key, made once (0600) and shared by the workers: the first worker to
    link its key into place wins (link(2) is atomic and fails when the name exists)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    data = path.read_bytes()
    if len(data) != 32:
        raise RuntimeError(f"{path} is not a 32-byte key")
    return data
