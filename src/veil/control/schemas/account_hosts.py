"""The hosting provider an account declares (a Veil addition): it wins over the ASN/RDAP
lookup when the abuse desk names who hosts a site and whom it tells about a notice."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from veil.control.schemas.common import Label

# A plain addr-spec (RFC 5322 §3.4.1, dot-atom only) with a dotted domain: it goes into the To:
# header of the letters the desk sends, so no display names, spaces or line breaks.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
AbuseEmail = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=254,
        pattern=rf"^{_ATEXT}(?:\.{_ATEXT})*@{_LABEL}(?:\.{_LABEL})+$",
    ),
]


class AccountHostUpdate(BaseModel):
    name: Label
    abuse_email: AbuseEmail


class AccountHostPublic(BaseModel):
    account_id: str
    name: str
    abuse_email: str
    source: Literal["declared"] = "declared"
    modified_on: datetime
