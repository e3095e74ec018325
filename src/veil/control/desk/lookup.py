"""The hosting-provider lookup behind `HostFinder`: IP -> ASN (MaxMind-format file), then the
abuse contact from RDAP (RFC 9224 bootstrap, RFC 9083 answers).

Theory of operation. The intake asks `find(origin)` while it files a notice, inside the
request that must give the reporter a receipt in under a second, so the whole lookup runs
against one deadline (`AbuseSettings.rdap_timeout`) and never raises:

1. A hostname origin (a CNAME record) is resolved to its first address (getaddrinfo in a
   worker thread, abandoned at the deadline).
2. The ASN database (GeoLite2-ASN shape: `autonomous_system_number`,
   `autonomous_system_organization`) gives the AS number, its organisation and the network.
3. The bootstrap file picks the registry (`veil.abuse.rdap.rdap_base_for_ip`); `GET
   {base}ip/{address}` (RFC 9082 §3.1.1) runs in a worker thread the caller waits for until
   the deadline. At most 3 redirects, http(s) only, and only to a server the bootstrap file
   names (RIRs redirect among themselves; a redirect elsewhere — an internal address, cloud
   metadata — is refused: the answer is untrusted and the bootstrap file is the only source
   of servers); at most 1 MiB.
4. The provider: the RDAP registrant's or abuse entity's organisation, else the AS
   organisation, else the RDAP network's name; the abuse e-mail only from RDAP. `source` is
   "rdap" when RDAP supplied the name or the e-mail, else "asn".

Answers are cached per address for an hour (a failed or timed-out RDAP query for five
minutes, so a burst of notices does not wait on a dead registry each time), at most 4096.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import re
import socket
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import maxminddb

from veil.abuse.rdap import abuse_contact, network_of, rdap_base_for_ip, rdap_ip_url
from veil.clock import SYSTEM_CLOCK, Clock
from veil.control.desk.hosting import HostFinder, HostingProvider, NoLookup
from veil.settings import AbuseSettings, SettingsError

log = logging.getLogger("veil.control.desk.lookup")

CACHE_TTL = 3600.0  # seconds an answer is kept
RETRY_TTL = 300.0  # seconds a failed lookup is kept before it is tried again
CACHE_SIZE = 4096
MAX_RDAP_BYTES = 1 << 20
MAX_REDIRECTS = 3
RDAP_ACCEPT = "application/rdap+json, application/json;q=0.9"  # RFC 9083 §1.2 (media type)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HOSTNAME = re.compile(r"(?=.{1,253}\Z)[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?\.?")
_EMAIL = re.compile(
    r"[^@\s<>()\[\],;:\"\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})\.[A-Za-z0-9-]+"
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class AsnRecord:
    """What the ASN database says about an address."""

    asn: int | None
    organization: str | None
    network: str | None  # the database's network holding the address, as a CIDR


@dataclass(frozen=True, slots=True)
class RdapFinding:
    """What an RDAP answer says about an address's network."""

    name: str | None  # registrant or abuse-entity organisation
    network_name: str | None  # the network object's `name` (often a label like "BT-CORPORATE")
    abuse_email: str | None
    network: str | None


# --- IP -> ASN -------------------------------------------------------------------------------


class AsnDatabase:
    """A MaxMind-format IP-to-ASN database, opened once (memory-mapped by `maxminddb`)."""

    def __init__(self, path: Path) -> None:
        try:
            self._reader = maxminddb.open_database(str(path))
        except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
            raise SettingsError(f"--asn-mmdb {path}: not a readable MaxMind DB ({exc})") from None

    def lookup(self, ip: str) -> AsnRecord | None:
        try:
            record, prefix = self._reader.get_with_prefix_len(ip)
        except ValueError:  # e.g. an IPv6 address in an IPv4-only database
            return None
        if not isinstance(record, dict):
            return None
        number = record.get("autonomous_system_number")
        asn = number if isinstance(number, int) and not isinstance(number, bool) else None
        network = ipaddress.ip_network(f"{ip}/{prefix}", strict=False)
        return AsnRecord(
            asn=asn,
            organization=clean_name(record.get("autonomous_system_organization")),
            network=str(network),
        )


# --- RDAP -----------------------------------------------------------------------------------


def load_bootstrap(path: Path) -> dict[str, object]:
    """An RFC 9224 bootstrap registry (IANA `ipv4.json` / `ipv6.json` shape; one file may
    hold both families' `services`)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SettingsError(f"--rdap-bootstrap {path}: not a readable JSON file ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), list):
        raise SettingsError(f'--rdap-bootstrap {path}: no "services" list (RFC 9224 §3)')
    return doc


def bootstrap_servers(bootstrap: object) -> frozenset[tuple[str, int | None]]:
    """(host, port) of every server URL in an RFC 9224 bootstrap document."""
    found: set[tuple[str, int | None]] = set()
    services = bootstrap.get("services") if isinstance(bootstrap, dict) else None
    for service in services if isinstance(services, list) else []:
        urls = service[1] if isinstance(service, list) and len(service) == 2 else []
        for url in urls if isinstance(urls, list) else []:
            if isinstance(url, str):
                with contextlib.suppress(httpx.InvalidURL):
                    parsed = httpx.URL(url)
                    found.add((parsed.host, parsed.port))
    return frozenset(found)


class RdapClient:
    """Queries the registry the bootstrap names; every failure is "no answer" (None)."""

    def __init__(self, bootstrap: object, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._bootstrap = bootstrap
        self._servers = bootstrap_servers(bootstrap)
        self._clock = clock
        self._http = httpx.Client(
            follow_redirects=False,  # followed by hand: bounded, http(s) only
            headers={"Accept": RDAP_ACCEPT, "User-Agent": "veil-abuse-desk"},
        )

    def covers(self, ip: str) -> bool:
        """Whether the bootstrap names a registry for `ip` (else there is nothing to ask)."""
        return rdap_base_for_ip(self._bootstrap, ip) is not None

    def lookup(self, ip: str, deadline: float) -> RdapFinding | None:
        base = rdap_base_for_ip(self._bootstrap, ip)
        if base is None:
            return None
        doc = self._fetch(rdap_ip_url(base, ip), deadline)
        if not isinstance(doc, dict):
            return None
        return finding_of(doc)

    def _fetch(self, url: str, deadline: float) -> object:
        target = httpx.URL(url)
        for _ in range(MAX_REDIRECTS + 1):
            left = deadline - self._clock.monotonic()
            if left <= 0:
                return None
            with self._http.stream("GET", target, timeout=httpx.Timeout(left)) as response:
                if response.status_code in _REDIRECTS:
                    location = response.headers.get("location")
                    target = response.url.join(location) if location else httpx.URL("")
                    if target.scheme not in ("http", "https"):
                        return None  # no file:, gopher:, relative nonsense
                    if (target.host, target.port) not in self._servers:
                        return None  # only registries the operator's bootstrap names
                    continue
                if response.status_code != 200:
                    return None
                body = self._read(response, deadline)
            return None if body is None else json.loads(body)
        return None

    def _read(self, response: httpx.Response, deadline: float) -> bytes | None:
        size = int(response.headers.get("content-length") or 0)
        if size > MAX_RDAP_BYTES:
            return None
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > MAX_RDAP_BYTES or self._clock.monotonic() > deadline:
                return None
            chunks.append(chunk)
        return b"".join(chunks)


def finding_of(doc: dict[str, object]) -> RdapFinding:
    """The provider's name, abuse e-mail and network from a decoded RDAP IP answer."""
    contact = abuse_contact(doc)
    network = network_of(doc)
    named = contact is not None and contact.provider_from in ("registrant", "abuse-entity")
    emails = () if contact is None else contact.emails
    return RdapFinding(
        name=clean_name(contact.provider) if named and contact is not None else None,
        network_name=clean_name(network.name),
        abuse_email=next((e for e in emails if is_email(e)), None),
        network=network.cidrs[0] if network.cidrs else None,
    )


# --- Untrusted text -------------------------------------------------------------------------


def clean_name(value: object) -> str | None:
    """A name from a database or an RDAP answer, fit for a letter: no control characters,
    single spaces, at most 255 characters (the `account_hosts.name` width)."""
    if not isinstance(value, str):
        return None
    text = "".join(" " if unicodedata.category(c).startswith("C") else c for c in value)
    text = " ".join(text.split())[:255].strip()
    return text or None


def is_email(value: str) -> bool:
    """A plain `local@domain` address, safe for a To: header (no spaces, CR, LF, brackets)."""
    return len(value) <= 254 and _EMAIL.fullmatch(value) is not None


# --- The finder -----------------------------------------------------------------------------


def run_bounded(work: Callable[[], T], timeout: float, name: str) -> T | None:
    """`work()` in a daemon thread; its result, or None if it raised or outlasted `timeout`
    (the thread is then abandoned; its own timeouts end it)."""
    box: list[T] = []

    def run() -> None:
        try:
            box.append(work())
        except Exception as exc:  # best effort: logged, reported as "no answer"
            log.info("%s failed: %s", name, exc)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    thread.join(max(0.0, timeout))
    return box[0] if box else None


def resolve(name: str) -> str | None:
    """The first address of `name` (getaddrinfo; blocking, call it through run_bounded)."""
    infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    return str(infos[0][4][0]) if infos else None


class _Cache:
    """Per-address answers with an expiry; least recently used dropped past `size`."""

    def __init__(self, clock: Clock, size: int) -> None:
        self._clock = clock
        self._size = size
        self._items: OrderedDict[str, tuple[float, HostingProvider | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bool, HostingProvider | None]:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] <= self._clock.monotonic():
                self._items.pop(key, None)
                return False, None
            self._items.move_to_end(key)
            return True, item[1]

    def put(self, key: str, value: HostingProvider | None, ttl: float) -> None:
        with self._lock:
            self._items[key] = (self._clock.monotonic() + ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class ProviderFinder:
    """`HostFinder` over an ASN database and/or RDAP, bounded by `timeout` per lookup."""

    def __init__(
        self,
        *,
        asn: AsnDatabase | None,
        rdap: RdapClient | None,
        timeout: float,
        clock: Clock = SYSTEM_CLOCK,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self._asn = asn
        self._rdap = rdap
        self._timeout = timeout
        self._clock = clock
        self._cache = _Cache(clock, cache_size)

    def find(self, address: str) -> HostingProvider | None:
        try:
            key = address.strip().lower()
            hit, cached = self._cache.get(key)
            if hit:
                return cached
            provider, complete = self._lookup(key)
            self._cache.put(key, provider, CACHE_TTL if complete else RETRY_TTL)
            return provider
        except Exception as exc:  # never raise into the intake (hosting.py guards too)
            log.warning("hosting-provider lookup for an origin failed: %s", exc)
            return None

    def _lookup(self, address: str) -> tuple[HostingProvider | None, bool]:
        """The provider, and whether every source answered (else: retry sooner)."""
        deadline = self._clock.monotonic() + self._timeout
        ip = self._address(address, deadline)
        if ip is None:
            return None, False
        record = self._asn.lookup(ip) if self._asn is not None else None
        finding: RdapFinding | None = None
        answered = True
        if self._rdap is not None:
            rdap = self._rdap
            finding = run_bounded(
                lambda: rdap.lookup(ip, deadline), deadline - self._clock.monotonic(), "rdap"
            )
            answered = finding is not None or not rdap.covers(ip)
        return provider_of(record, finding), answered

    def _address(self, address: str, deadline: float) -> str | None:
        literal = address.strip("[]")
        try:
            ip = ipaddress.ip_address(literal)
        except ValueError:
            if not _HOSTNAME.fullmatch(literal):
                return None
            found = run_bounded(
                lambda: resolve(literal), deadline - self._clock.monotonic(), "resolve"
            )
            if found is None:
                return None
            ip = ipaddress.ip_address(found.partition("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return str(ip)


def provider_of(record: AsnRecord | None, finding: RdapFinding | None) -> HostingProvider | None:
    """Combine the two sources (see the module doc, step 4)."""
    org = None if record is None else record.organization
    rdap_name = None if finding is None else finding.name
    email = None if finding is None else finding.abuse_email
    name = rdap_name or org or (None if finding is None else finding.network_name)
    if name is None:
        return None
    from_rdap = email is not None or rdap_name is not None or org is None
    network = (record.network if record is not None else None) or (
        finding.network if finding is not None else None
    )
    return HostingProvider(
        name=name,
        abuse_email=email,
        source="rdap" if from_rdap else "asn",
        asn=None if record is None else record.asn,
        network=network,
    )


def build_finder(settings: AbuseSettings, *, clock: Clock = SYSTEM_CLOCK) -> HostFinder:
    """The finder the operator configured (--asn-mmdb, --rdap-bootstrap); a file that cannot
    be read is a `SettingsError` (one line for the operator)."""
    if settings.asn_mmdb is None and settings.rdap_bootstrap is None:
        return NoLookup()
    asn = AsnDatabase(settings.asn_mmdb) if settings.asn_mmdb is not None else None
    rdap = (
        RdapClient(load_bootstrap(settings.rdap_bootstrap), clock=clock)
        if settings.rdap_bootstrap is not None
        else None
    )
    return ProviderFinder(asn=asn, rdap=rdap, timeout=settings.rdap_timeout, clock=clock)
