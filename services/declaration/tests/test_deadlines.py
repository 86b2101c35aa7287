"""Deadlines from detection: NIS2 for essential operators, CNIL when health data was disclosed."""

from datetime import UTC, datetime, timedelta
from typing import Any

from vigie_contracts.declaration import DeclarationContent
from vigie_contracts.events import RevisionKind
from vigie_declaration.domain.deadlines import DeadlineState, add_month, deadlines

DETECTED = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)


def content(*, essential: bool = True, disclosure: bool = False, cnil: datetime | None = None) -> DeclarationContent:
    data: dict[str, Any] = {
        "structure": {
            "finess": "750712184",
            "name": "CHU",
            "type": "health_facility",
            "essential_operator": essential,
        },
        "declarant": {"name": "A", "role": "RSSI", "email": "a@b.fr"},
        "detected_at": DETECTED.isoformat(),
        "origin": "malicious",
        "category": "ransomware",
        "description": "x",
        "status": "ongoing",
        "impacts": {"data_disclosure": disclosure},
    }
    if cnil is not None:
        data["cnil_notified_at"] = cnil.isoformat()
    return DeclarationContent.model_validate(data)


def states(items: list[Any], now: datetime) -> dict[str, DeadlineState]:
    return {f"{d.regime}.{d.obligation}": d.state(now) for d in items}


def test_an_essential_operator_has_the_three_nis2_deadlines() -> None:
    items = deadlines(content(), [(RevisionKind.initial, DETECTED + timedelta(hours=5))])
    by_name = {d.obligation: d for d in items}
    assert by_name["early_warning"].due_at == DETECTED + timedelta(hours=24)
    assert by_name["notification"].due_at == DETECTED + timedelta(hours=72)
    assert by_name["final_report"].due_at == datetime(2026, 2, 28, 10, 0, tzinfo=UTC)
    assert states(items, DETECTED + timedelta(hours=6)) == {
        "nis2.early_warning": DeadlineState.met,
        "nis2.notification": DeadlineState.pending,
        "nis2.final_report": DeadlineState.pending,
    }


def test_late_and_overdue_are_told_apart() -> None:
    submissions = [(RevisionKind.initial, DETECTED + timedelta(hours=30))]
    assert states(deadlines(content(), submissions), DETECTED + timedelta(hours=80)) == {
        "nis2.early_warning": DeadlineState.late,
        "nis2.notification": DeadlineState.overdue,
        "nis2.final_report": DeadlineState.pending,
    }


def test_a_notification_or_final_report_revision_fulfils_its_deadline() -> None:
    submissions = [
        (RevisionKind.initial, DETECTED + timedelta(hours=2)),
        (RevisionKind.update, DETECTED + timedelta(hours=10)),
        (RevisionKind.final_report, DETECTED + timedelta(days=20)),
    ]
    assert states(deadlines(content(), submissions), DETECTED + timedelta(days=40)) == {
        "nis2.early_warning": DeadlineState.met,
        "nis2.notification": DeadlineState.late,  # the final report came after 72 h
        "nis2.final_report": DeadlineState.met,
    }


def test_no_nis2_deadline_for_a_structure_that_is_not_an_essential_operator() -> None:
    assert deadlines(content(essential=False), [(RevisionKind.initial, DETECTED)]) == []


def test_cnil_deadline_applies_when_health_data_was_disclosed() -> None:
    items = deadlines(content(essential=False, disclosure=True), [(RevisionKind.initial, DETECTED)])
    assert states(items, DETECTED + timedelta(hours=73)) == {"gdpr.cnil_notification": DeadlineState.overdue}
    told = deadlines(
        content(essential=False, disclosure=True, cnil=DETECTED + timedelta(hours=48)),
        [(RevisionKind.initial, DETECTED)],
    )
    assert states(told, DETECTED + timedelta(hours=73)) == {"gdpr.cnil_notification": DeadlineState.met}


def test_a_month_later_stays_within_the_shorter_month() -> None:
    assert add_month(datetime(2026, 1, 31, tzinfo=UTC)) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_month(datetime(2028, 1, 31, tzinfo=UTC)) == datetime(2028, 2, 29, tzinfo=UTC)
    assert add_month(datetime(2026, 12, 15, tzinfo=UTC)) == datetime(2027, 1, 15, tzinfo=UTC)
