"""HTTP-date (RFC 9110 §5.6.7): parse all three formats, write the preferred one. Pure.

A recipient must accept IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the obsolete RFC 850
form (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`); a sender
only writes IMF-fixdate. Values are whole seconds since the epoch (HTTP dates carry no
fractions). An invalid date is None: callers decide what that means (for Expires, RFC 9111
§5.3 says "already expired").
"""

from __future__ import annotations

import calendar
import re
import time

_MONTHS = {
    m: i
    for i, m in enumerate(
        (
            b"jan",
            b"feb",
            b"mar",
            b"apr",
            b"may",
            b"jun",
            b"jul",
            b"aug",
            b"sep",
            b"oct",
            b"nov",
            b"dec",
        ),
        start=1,
    )
}
_DAYS = (b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun")
_MONTH_NAMES = (
    b"Jan",
    b"Feb",
    b"Mar",
    b"Apr",
    b"May",
    b"Jun",
    b"Jul",
    b"Aug",
    b"Sep",
    b"Oct",
    b"Nov",
    b"Dec",
)

_IMF = re.compile(rb"[A-Za-z]{3}, (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT")
_RFC850 = re.compile(rb"[A-Za-z]{6,9}, (\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT")
_ASCTIME = re.compile(rb"[A-Za-z]{3} ([A-Za-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})")


def _epoch(year: int, month_name: bytes, day: int, hh: int, mm: int, ss: int) -> int | None:
    month = _MONTHS.get(month_name.lower())
    if month is None or not (hh <= 23 and mm <= 59 and ss <= 60):
        return None
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    return calendar.timegm((year, month, day, hh, mm, min(ss, 59), 0, 0, 0))  # :60 is a leap second


def parse_http_date(value: bytes) -> int | None:
    """Seconds since the epoch for any of the three HTTP-date forms, or None if invalid."""
    value = value.strip()
    if m := _IMF.fullmatch(value):
        day, mon, year, hh, mm, ss = m.groups()
        return _epoch(int(year), mon, int(day), int(hh), int(mm), int(ss))
    if m := _RFC850.fullmatch(value):
        day, mon, yy, hh, mm, ss = m.groups()
        # RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is in the past
        # century; read against 2000 (close enough for any date an origin sends today).
        year = 2000 + int(yy) if int(yy) < 70 else 1900 + int(yy)
        return _epoch(year, mon, int(day), int(hh), int(mm), int(ss))
    if m := _ASCTIME.fullmatch(value):
        mon, day, hh, mm, ss, year = m.groups()
        return _epoch(int(year), mon, int(day.strip() or b"0"), int(hh), int(mm), int(ss))
    return None


def format_http_date(epoch: float) -> bytes:
    """IMF-fixdate for `epoch` (seconds), e.g. b"Sun, 06 Nov 1994 08:49:37 GMT"."""
    t = time.gmtime(int(epoch))
    return b"%s, %02d %s %04d %02d:%02d:%02d GMT" % (
        _DAYS[t.tm_wday],
        t.tm_mday,
        _MONTH_NAMES[t.tm_mon - 1],
        t.tm_year,
        t.tm_hour,
        t.tm_min,
        t.tm_sec,
    )
