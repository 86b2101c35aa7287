"""The clocks that start when an incident is detected, and where each one stands.

- NIS2, for essential operators: early warning within 24 hours, incident notification within
  72 hours, final report within one month (counted here, like the others, from detection: the
  strictest reading, since the directive counts the last from the notification).
- GDPR, when health data was disclosed: the CNIL is to be notified within 72 hours.

The health code asks for a declaration "sans délai": every declaration is its own answer to it.
"""

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from vigie_contracts.declaration import DeclarationContent
from vigie_contracts.events import RevisionKind


class DeadlineState(StrEnum):
    met = "met"  # done in time
    late = "late"  # done, after the deadline
    pending = "pending"  # not done yet, still time
    overdue = "overdue"  # not done, and the time is past


@dataclass(frozen=True)
class Deadline:
    regime: str
    obligation: str
    due_at: datetime
    fulfilled_at: datetime | None

    def state(self, now: datetime) -> DeadlineState:
        if self.fulfilled_at is not None:
            return DeadlineState.met if self.fulfilled_at <= self.due_at else DeadlineState.late
        return DeadlineState.pending if now <= self.due_at else DeadlineState.overdue


def add_month(moment: datetime) -> datetime:
    """The same day and time a month later (the last day of a shorter month)."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _first(submissions: Iterable[tuple[RevisionKind, datetime]], kinds: set[RevisionKind]) -> datetime | None:
    times = [at for kind, at in submissions if kind in kinds]
    return min(times) if times else None


def deadlines(content: DeclarationContent, submissions: list[tuple[RevisionKind, datetime]]) -> list[Deadline]:
    """The deadlines that apply to a declaration, given its current content and the time and
    kind of each of its submissions (the first one included)."""
    detected = content.detected_at
    result: list[Deadline] = []
    if content.structure.essential_operator:
        result += [
            Deadline(
                "nis2",
                "early_warning",
                detected + timedelta(hours=24),
                _first(submissions, set(RevisionKind)),
            ),
            Deadline(
                "nis2",
                "notification",
                detected + timedelta(hours=72),
                _first(submissions, {RevisionKind.notification, RevisionKind.final_report}),
            ),
            Deadline(
                "nis2",
                "final_report",
                add_month(detected),
                _first(submissions, {RevisionKind.final_report}),
            ),
        ]
    if content.impacts.data_disclosure:
        result.append(
            Deadline(
                "gdpr",
                "cnil_notification",
                detected + timedelta(hours=72),
                content.cnil_notified_at,
            )
        )
    return result
