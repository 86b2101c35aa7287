"""Periods people ask for in calendar days, as lived in metropolitan France, turned into the
half-open interval of instants the databases filter on."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

FRANCE = ZoneInfo("Europe/Paris")
# Declarations are a 21st-century matter; a date outside this range is a mistake to report.
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)


class InvalidPeriod(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def period_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """Inclusive days ``from`` … ``to`` → [first instant, first instant after)."""
    for field, day in (("from", start), ("to", end)):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise InvalidPeriod(field, f"{day} is outside {EARLIEST} … {LATEST}")
    if start is not None and end is not None and start > end:
        raise InvalidPeriod("from", f"{start} is after to ({end})")
    lower = datetime.combine(start, time(), FRANCE) if start else None
    upper = datetime.combine(end + timedelta(days=1), time(), FRANCE) if end else None
    return lower, upper
