"""The legal clocks an incident starts, and where each one stands (sources in ``docs/rules.md``).

- NIS2 (directive (UE) 2022/2555, art. 23(4)), for essential and important entities and only for
  a significant incident: to the CSIRT or competent authority (ANSSI), an early warning within
  24 hours of becoming aware, an incident notification within 72 hours, a final report within
  one month *after the notification*.
- OSE (loi n° 2018-133, art. 7), for essential-service operators: to ANSSI "sans délai" once an
  incident has or may have a significant impact on the continuity of the essential service.
- GDPR (art. 33): to the CNIL within 72 hours of becoming aware of a personal-data breach, which
  is a loss of confidentiality, of integrity or of availability.

Vigie passes declarations to the ARS, CERT Santé and the HFDS, never to ANSSI or the CNIL: a
clock is met only by what the structure says it sent them (``anssi_*_at``, ``cnil_notified_at``),
never by its declarations to Vigie. Becoming aware is ``detected_at``. The health code asks for
a declaration to the ARS "sans délai": every declaration is its own answer to it.
"""

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from vigie_contracts.declaration import DeclarationContent, Regime
from vigie_contracts.events import Severity

ANSSI = "ANSSI"
CNIL = "CNIL"


class DeadlineState(StrEnum):
    met = "met"  # done in time
    late = "late"  # done, after the deadline
    pending = "pending"  # not done yet, still time
    overdue = "overdue"  # not done, and the time is past
    due_now = "due_now"  # "sans délai": no hour is set, and it is not done yet


@dataclass(frozen=True)
class Deadline:
    regime: str
    obligation: str
    addressee: str  # to whom the structure owes it
    due_at: datetime | None  # None: "sans délai"
    fulfilled_at: datetime | None

    def state(self, now: datetime) -> DeadlineState:
        if self.fulfilled_at is not None:
            return (
                DeadlineState.late if self.due_at is not None and self.fulfilled_at > self.due_at else DeadlineState.met
            )
        if self.due_at is None:
            return DeadlineState.due_now
        return DeadlineState.pending if now <= self.due_at else DeadlineState.overdue


def add_month(moment: datetime) -> datetime:
    """The same day and time a month later (the last day of a shorter month)."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _earliest(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return min(known) if known else None


def _nis2(content: DeclarationContent) -> list[Deadline]:
    detected = content.detected_at
    notified = content.anssi_notified_at
    notification_due = detected + timedelta(hours=72)
    return [
        # A full notification sent within the first 24 hours answers the early warning too.
        Deadline(
            "nis2",
            "early_warning",
            ANSSI,
            detected + timedelta(hours=24),
            _earliest(content.anssi_early_warning_at, notified),
        ),
        Deadline("nis2", "notification", ANSSI, notification_due, notified),
        # A month after the notification; while there is none, after the day it is due.
        Deadline("nis2", "final_report", ANSSI, add_month(notified or notification_due), content.anssi_final_report_at),
    ]


def deadlines(content: DeclarationContent, severity: Severity | None) -> list[Deadline]:
    """The deadlines that bind the structure, given its declaration's current content and the
    severity decided on it (None until enrichment has decided: the significance-bound clocks are
    not shown before then)."""
    regime = content.structure.binding_regime
    result: list[Deadline] = []
    if regime in (Regime.nis2_essential, Regime.nis2_important) and severity and severity.nis2_significant:
        result += _nis2(content)
    if regime is Regime.ose and severity and severity.ose_significant:
        result.append(
            Deadline(
                "ose",
                "incident_notification",
                ANSSI,
                None,
                _earliest(content.anssi_early_warning_at, content.anssi_notified_at),
            )
        )
    impacts = content.impacts
    if impacts.data_disclosure or impacts.data_integrity or impacts.data_unavailable:
        result.append(
            Deadline(
                "gdpr", "cnil_notification", CNIL, content.detected_at + timedelta(hours=72), content.cnil_notified_at
            )
        )
    return result
