"""The dimensions the observatory counts declarations along, and the periods it counts over."""

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

# The observatory counts days and months as they are lived in metropolitan France.
OBSERVATORY_TZ = ZoneInfo("Europe/Paris")
MAX_DIMENSIONS = 2


class Dimension(StrEnum):
    region = "region"
    category = "category"
    month = "month"
    structure_type = "structure_type"
    origin = "origin"
    degraded_mode = "degraded_mode"
    patient_safety = "patient_safety"
    support_requested = "support_requested"


class InvalidQuery(ValueError):
    pass


def parse_group_by(value: str) -> list[Dimension]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise InvalidQuery("group_by names at least one dimension")
    if len(names) > MAX_DIMENSIONS:
        raise InvalidQuery(f"group_by takes at most {MAX_DIMENSIONS} dimensions, got {len(names)}")
    if len(set(names)) != len(names):
        raise InvalidQuery("group_by names a dimension twice")
    unknown = [name for name in names if name not in Dimension.__members__]
    if unknown:
        known = ", ".join(Dimension)
        raise InvalidQuery(f"unknown dimension {', '.join(unknown)}; known: {known}")
    return [Dimension(name) for name in names]


def period_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """Inclusive calendar days → a half-open interval of instants."""
    if start is not None and end is not None and start > end:
        raise InvalidQuery(f"from ({start}) is after to ({end})")
    lower = datetime.combine(start, time(), OBSERVATORY_TZ) if start else None
    upper = datetime.combine(end + timedelta(days=1), time(), OBSERVATORY_TZ) if end else None
    return lower, upper
