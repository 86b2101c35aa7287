"""The partner payload v1: what partners may send, and the precise refusal of everything else."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from vigie_contracts.declaration import ADMITTING, HELD, TEXT_PATTERN, DeclarationContent, Provider


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


def errors_of(data: dict[str, Any], context: dict[str, Any] | None = None) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        DeclarationContent.model_validate(data, context=context)
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


def test_finess_check_digit_is_verified_on_admission() -> None:
    offered = payload(structure={"finess": "130783237", "name": "X", "type": "other"})
    errors = errors_of(offered, context=ADMITTING)
    assert errors == {"structure.finess": "Value error, check digit is 7, expected 6"}


def test_what_was_accepted_under_an_earlier_rule_reads_as_it_was_accepted() -> None:
    """2A1000213 carries the key the earlier rule computed (letters as 0), 970600016 the prefix
    once taken for Mayotte: refused on admission, read without loss from an event or a store."""
    for number in ("2A1000213", "970600016"):
        accepted = payload(structure={"finess": number, "name": "X", "type": "other"})
        assert DeclarationContent.model_validate(accepted).structure.finess == number
        assert "structure.finess" in errors_of(accepted, context=ADMITTING)
        # A revision keeps the number the declaration holds, and admits only what it changes.
        held = {**ADMITTING, HELD: {number}}
        assert DeclarationContent.model_validate(accepted, context=held).structure.finess == number
        changed = payload(structure={"finess": number, "finess_ej": "2A1000213", "name": "X", "type": "other"})
        if number != "2A1000213":
            assert errors_of(changed, context=held) == {
                "structure.finess_ej": "Value error, check digit is 3, expected 1"
            }


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


NATIONAL_FORM: dict[str, Any] = {
    "cert_contact": {"name": "Paul Durand", "email": "astreinte-ssi@ap-hm.example.fr", "phone": "+33 4 91 00 00 00"},
    "affected_functions": ["urgences", "bloc opératoire", "facturation"],
    "affected_systems": ["DPI", "PACS"],
    "actions_taken": "Isolement du réseau, bascule en mode dégradé, plainte déposée.",
    "complaint": {"filed": True},
    "personal_data": {"persons_affected": 120_000, "kinds": ["health", "identity", "social_security_number"]},
}


def test_what_the_national_form_asks_is_optional_and_accepted() -> None:
    detected = datetime.now(UTC) - timedelta(days=3)
    after = (detected + timedelta(hours=20)).isoformat()
    content = DeclarationContent.model_validate(
        payload(
            structure={
                "finess": "130783236",
                "name": "AP-HM",
                "type": "military_hospital",
                "legal_status": "public",
                "regime": "nis2_essential",
            },
            detected_at=detected.isoformat(),
            status="resolved",
            resolved_at=after,
            impacts={"degraded_mode": True, "territorial_extent": "regional"},
            cnil_notified_at=after,
            anssi_early_warning_at=after,
            anssi_notified_at=after,
            anssi_final_report_at=after,
            **NATIONAL_FORM,
        )
    )
    assert content.structure.binding_regime == "nis2_essential"
    assert content.personal_data is not None
    assert content.personal_data.persons_affected == 120_000
    minimal = DeclarationContent.model_validate(payload())
    assert (minimal.structure.legal_status, minimal.structure.regime, minimal.impacts.territorial_extent) == (
        None,
        None,
        None,
    )
    assert (minimal.cert_contact, minimal.complaint, minimal.personal_data, minimal.resolved_at) == (None,) * 4


def test_the_older_essential_operator_flag_reads_as_a_regime_and_cannot_contradict_it() -> None:
    def structure(**fields: Any) -> dict[str, Any]:
        return payload(structure={"finess": "130783236", "name": "AP-HM", "type": "health_facility", **fields})

    assert DeclarationContent.model_validate(structure(essential_operator=True)).structure.binding_regime == (
        "nis2_essential"
    )
    assert DeclarationContent.model_validate(structure()).structure.binding_regime == "none"
    assert DeclarationContent.model_validate(structure(essential_operator=True, regime="ose")).structure.regime == "ose"
    for regime in ("none", "nis2_important"):
        assert errors_of(structure(essential_operator=True, regime=regime)) == {
            "structure": f"Value error, essential_operator is true but regime is {regime!r}"
        }


def test_the_dates_of_what_was_done_follow_detection_and_are_past() -> None:
    detected = datetime.now(UTC) - timedelta(days=2)
    before = (detected - timedelta(hours=1)).isoformat()
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for field in ("cnil_notified_at", "anssi_early_warning_at", "anssi_notified_at", "anssi_final_report_at"):
        assert errors_of(payload(detected_at=detected.isoformat(), **{field: before})) == {
            field: "Value error, must not be before detected_at"
        }
        assert errors_of(payload(**{field: future})) == {field: "Value error, must not be in the future"}
    assert errors_of(payload(complaint={"filed": True, "filed_at": future})) == {
        "complaint.filed_at": "Value error, must not be in the future"
    }


def test_the_national_form_fields_refuse_what_cannot_be() -> None:
    now = datetime.now(UTC).isoformat()
    assert errors_of(payload(resolved_at=now)) == {"": "Value error, resolved_at is given but status is 'ongoing'"}
    assert errors_of(payload(complaint={"filed": False, "filed_at": now})) == {
        "complaint": "Value error, filed_at is given but filed is false"
    }
    assert errors_of(payload(personal_data={"persons_affected": -1})) == {
        "personal_data.persons_affected": "Input should be greater than or equal to 0"
    }
    assert errors_of(payload(personal_data={"persons_affected": 10**9})) == {
        "personal_data.persons_affected": "Input should be less than or equal to 100000000"
    }
    assert errors_of(payload(personal_data={"kinds": ["dna"]})) == {
        "personal_data.kinds.0": "Input should be 'health', 'identity', 'social_security_number', 'contact',"
        " 'financial', 'credentials' or 'other'"
    }
    assert errors_of(payload(affected_systems=["DPI"] * 31)) == {
        "affected_systems": "List should have at most 30 items after validation, not 31"
    }
    assert errors_of(payload(actions_taken="x" * 5001)) == {
        "actions_taken": "String should have at most 5000 characters"
    }
    assert errors_of(payload(impacts={"territorial_extent": "european"})) == {
        "impacts.territorial_extent": "Input should be 'local', 'departmental', 'regional' or 'national'"
    }
    assert errors_of(payload(cert_contact={"name": "X", "email": "not-an-address"}))["cert_contact.email"].startswith(
        "String should match pattern"
    )
