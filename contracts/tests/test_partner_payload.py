"""The partner payload v1: what partners may send, and the precise refusal of everything else."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from vigie_contracts.declaration import TEXT_PATTERN, DeclarationContent, Provider


def payload(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "structure": {"finess": "130783236", "name": "AP-HM", "type": "health_facility"},
        "declarant": {"name": "Claire Martin", "role": "RSSI", "email": "rssi@ap-hm.example.fr"},
        "detected_at": (datetime.now(UTC) - timedelta(hours=3)).isoformat(),
        "origin": "malicious",
        "category": "ransomware",
        "description": "Chiffrement des serveurs.",
        "status": "ongoing",
    }
    base.update(changes)
    return base


def errors_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        DeclarationContent.model_validate(data)
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in caught.value.errors()}


def test_a_minimal_declaration_gets_safe_defaults() -> None:
    content = DeclarationContent.model_validate(payload())
    assert content.structure.essential_operator is False
    assert content.impacts.patient_safety == "none"
    assert content.scope == []
    assert content.indicators == []
    assert content.support_requested is False


def test_unknown_fields_are_refused_not_dropped() -> None:
    errors = errors_of(payload(severity="high", structure={**payload()["structure"], "siret": "1"}))
    assert errors == {
        "severity": "Extra inputs are not permitted",
        "structure.siret": "Extra inputs are not permitted",
    }


def test_detected_at_must_carry_a_timezone_and_not_be_in_the_future() -> None:
    assert "detected_at" in errors_of(payload(detected_at="2026-01-01T10:00:00"))
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert errors_of(payload(detected_at=future)) == {"detected_at": "Value error, must not be in the future"}


def test_started_at_cannot_follow_detection() -> None:
    detected = datetime.now(UTC) - timedelta(hours=3)
    errors = errors_of(
        payload(
            detected_at=detected.isoformat(),
            started_at=(detected + timedelta(minutes=1)).isoformat(),
        )
    )
    assert errors == {"started_at": "Value error, must not be after detected_at"}


def test_each_enumeration_names_its_field() -> None:
    errors = errors_of(payload(origin="aliens", category="hack", status="done", scope=["cloud"]))
    assert set(errors) == {"origin", "category", "status", "scope.0"}


def test_finess_check_digit_is_verified_at_the_contract() -> None:
    errors = errors_of(payload(structure={"finess": "130783237", "name": "X", "type": "other"}))
    assert errors == {"structure.finess": "Value error, check digit is 7, expected 6"}


def test_description_is_bounded() -> None:
    assert "description" in errors_of(payload(description=""))
    assert "description" in errors_of(payload(description="x" * 10_001))
    DeclarationContent.model_validate(payload(description="x" * 10_000))


def test_indicators_are_typed() -> None:
    errors = errors_of(payload(indicators=[{"type": "ipv4", "value": "203.0.113.1"}, {"type": "ssn", "value": "1"}]))
    assert set(errors) == {"indicators.1.type"}


def test_the_nul_character_is_refused_by_field() -> None:
    errors = errors_of(
        payload(description="avant\x00après", declarant={"name": "A\x00", "role": "R", "email": "a@b.fr"})
    )
    assert set(errors) == {"description", "declarant.name"}
    assert "NUL" in errors["description"]


@pytest.mark.parametrize(
    "text",
    ["a", " a ", "Hôpital", "\ta\n", "", " ", "\t\n", "\x1c", "\u2003", "a\x00b", "\x00", "\ufeff", "x" * 3],
)
def test_the_published_text_pattern_says_what_the_service_accepts(text: str) -> None:
    """A partner validating against the schema refuses what the service would (the schema may
    be stricter, never looser)."""
    said = re.search(TEXT_PATTERN, text) is not None
    try:
        Provider(name=text)
        accepted = True
    except ValidationError:
        accepted = False
    assert not said or accepted, repr(text)
