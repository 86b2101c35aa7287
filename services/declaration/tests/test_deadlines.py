"""The legal clocks, one test per regime and per trigger (sources in docs/rules.md):

- NIS2, directive (UE) 2022/2555 art. 23(4): essential and important entities, significant
  incidents only; early warning 24 h and notification 72 h after becoming aware, final report one
  month after the notification;
- OSE, loi n° 2018-133 art. 7: "sans délai";
- GDPR art. 33: 72 h for a breach of confidentiality, integrity or availability.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from vigie_contracts.declaration import DeclarationContent
from vigie_contracts.events import Severity
from vigie_declaration.domain.deadlines import DeadlineState, add_month, deadlines

DETECTED = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)
SIGNIFICANT = Severity(grave=True, significatif=False, nis2_significant=True)
NOT_SIGNIFICANT = Severity(grave=True, significatif=False, nis2_significant=False)
OSE_SIGNIFICANT = Severity(grave=True, significatif=False, ose_significant=True)


def content(
    *, regime: str = "nis2_essential", impacts: dict[str, Any] | None = None, **told: datetime
) -> DeclarationContent:
    data: dict[str, Any] = {
        "structure": {"finess": "750712184", "name": "CHU", "type": "health_facility", "regime": regime},
        "declarant": {"name": "A", "role": "RSSI", "email": "a@b.fr"},
        "detected_at": DETECTED.isoformat(),
        "origin": "malicious",
        "category": "ransomware",
        "description": "x",
        "status": "ongoing",
        "impacts": impacts or {},
        **{field: at.isoformat() for field, at in told.items()},
    }
    return DeclarationContent.model_validate(data)


def states(items: list[Any], now: datetime) -> dict[str, DeadlineState]:
    return {f"{d.regime}.{d.obligation}": d.state(now) for d in items}


@pytest.mark.parametrize("regime", ["nis2_essential", "nis2_important"])
def test_a_significant_incident_of_a_nis2_entity_has_three_clocks_towards_anssi(regime: str) -> None:
    items = deadlines(content(regime=regime), SIGNIFICANT)
    by_name = {d.obligation: d for d in items}
    assert by_name["early_warning"].due_at == DETECTED + timedelta(hours=24)
    assert by_name["notification"].due_at == DETECTED + timedelta(hours=72)
    # Not notified yet: a month after the day the notification is due (3 February).
    assert by_name["final_report"].due_at == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    assert {d.addressee for d in items} == {"ANSSI"}
    assert states(items, DETECTED + timedelta(hours=6)) == {
        "nis2.early_warning": DeadlineState.pending,
        "nis2.notification": DeadlineState.pending,
        "nis2.final_report": DeadlineState.pending,
    }


def test_the_final_report_is_due_a_month_after_the_notification() -> None:
    notified = DETECTED + timedelta(hours=50)
    (_, _, final) = deadlines(content(anssi_notified_at=notified), SIGNIFICANT)
    assert final.due_at == datetime(2026, 3, 2, 12, 0, tzinfo=UTC) == add_month(notified)


def test_no_nis2_clock_for_an_incident_that_is_not_significant_or_not_yet_judged() -> None:
    assert deadlines(content(), NOT_SIGNIFICANT) == []
    assert deadlines(content(), None) == []


@pytest.mark.parametrize("regime", ["ose", "none"])
def test_no_nis2_clock_outside_nis2(regime: str) -> None:
    assert [d for d in deadlines(content(regime=regime), SIGNIFICANT) if d.regime == "nis2"] == []


def test_the_declarations_to_vigie_never_meet_a_clock_only_what_the_structure_sent_anssi() -> None:
    nothing_sent = deadlines(content(), SIGNIFICANT)
    assert states(nothing_sent, DETECTED + timedelta(hours=80)) == {
        "nis2.early_warning": DeadlineState.overdue,
        "nis2.notification": DeadlineState.overdue,
        "nis2.final_report": DeadlineState.pending,
    }
    sent = deadlines(
        content(
            anssi_early_warning_at=DETECTED + timedelta(hours=30),
            anssi_notified_at=DETECTED + timedelta(hours=70),
            anssi_final_report_at=DETECTED + timedelta(days=20),
        ),
        SIGNIFICANT,
    )
    assert states(sent, DETECTED + timedelta(days=40)) == {
        "nis2.early_warning": DeadlineState.late,
        "nis2.notification": DeadlineState.met,
        "nis2.final_report": DeadlineState.met,
    }


def test_a_full_notification_within_24_hours_answers_the_early_warning() -> None:
    items = deadlines(content(anssi_notified_at=DETECTED + timedelta(hours=20)), SIGNIFICANT)
    assert states(items, DETECTED + timedelta(hours=30))["nis2.early_warning"] is DeadlineState.met


def test_an_essential_service_operator_owes_anssi_a_notification_without_delay() -> None:
    (item,) = deadlines(content(regime="ose"), OSE_SIGNIFICANT)
    assert (item.regime, item.obligation, item.addressee, item.due_at) == (
        "ose",
        "incident_notification",
        "ANSSI",
        None,
    )
    assert item.state(DETECTED) is DeadlineState.due_now
    (done,) = deadlines(content(regime="ose", anssi_notified_at=DETECTED + timedelta(hours=3)), OSE_SIGNIFICANT)
    assert done.state(DETECTED + timedelta(days=1)) is DeadlineState.met
    assert deadlines(content(regime="ose"), Severity(grave=True, significatif=False, ose_significant=False)) == []


@pytest.mark.parametrize("breach", ["data_disclosure", "data_integrity", "data_unavailable"])
def test_the_cnil_clock_starts_with_any_personal_data_breach(breach: str) -> None:
    """A ransomware attack that makes patient records unavailable is a breach (loss of
    availability), not only a disclosure."""
    (item,) = deadlines(content(regime="none", impacts={breach: True}), None)
    assert (item.regime, item.obligation, item.addressee) == ("gdpr", "cnil_notification", "CNIL")
    assert item.due_at == DETECTED + timedelta(hours=72)
    assert item.state(DETECTED + timedelta(hours=73)) is DeadlineState.overdue
    (told,) = deadlines(
        content(regime="none", impacts={breach: True}, cnil_notified_at=DETECTED + timedelta(hours=48)), None
    )
    assert told.state(DETECTED + timedelta(hours=73)) is DeadlineState.met


def test_no_cnil_clock_without_a_breach() -> None:
    assert deadlines(content(regime="none", impacts={"degraded_mode": True}), None) == []


def test_a_month_later_stays_within_the_shorter_month() -> None:
    assert add_month(datetime(2026, 1, 31, tzinfo=UTC)) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_month(datetime(2028, 1, 31, tzinfo=UTC)) == datetime(2028, 2, 29, tzinfo=UTC)
    assert add_month(datetime(2026, 12, 15, tzinfo=UTC)) == datetime(2027, 1, 15, tzinfo=UTC)
