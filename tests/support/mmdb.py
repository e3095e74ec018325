"""Build small MaxMind-format (`.mmdb`) databases for tests, with the `mmdb-writer` package.

`write_mmdb(path, {"192.0.2.0/24": {...}, "2001:db8::/32": {...}}, "GeoLite2-ASN")` writes an
IPv6 tree with IPv4 mapped at ::/96 (as MaxMind's own files do), so `maxminddb` finds both
families. Record shapes the desk and the edge read:

- ASN (GeoLite2-ASN): `{"autonomous_system_number": 64500, "autonomous_system_organization":
  "Example Hosting"}`
- Country (GeoLite2-Country): `{"country": {"iso_code": "DE"}}`

Integers are written as uint32 (MaxMind's type for AS numbers); nested dicts and lists are
written as maps and arrays.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmdb_writer import MMDBWriter
from netaddr import IPSet


def write_mmdb(path: Path | str, networks: dict[str, dict[str, Any]], database_type: str) -> Path:
    """Write `networks` (CIDR -> record) to `path` as a `database_type` database; returns path."""
    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type=database_type,
        languages=["en"],
        description="Veil test database",
        int_type="u32",
    )
    for cidr, record in networks.items():
        writer.insert_network(IPSet([cidr]), record)
    writer.to_db_file(str(path))
    return Path(path)
