"""Revisions merge what changed; credentials reach only their scope; rate limits refill."""

from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from vigie_declaration.domain.access import ANY_DEPARTEMENT, Caller, CredentialKind, Denied
from vigie_declaration.domain.revision import RevisionCreate, RevisionRefused, apply_changes
from vigie_declaration.entrypoints.ratelimit import RateLimiter

CURRENT: dict[str, Any] = {
    "structure": {
        "finess": "750712184",
        "name": "CHU",
        "type": "health_facility",
        "essential_operator": False,
    },
    "impacts": {"degraded_mode": True, "patient_safety": "potential"},
    "scope": ["servers", "vpn"],
    "provider": {"name": "Hébergeur"},
    "status": "ongoing",
}


def test_objects_merge_field_by_field_and_lists_are_replaced() -> None:
    revised = apply_changes(
        CURRENT,
        {"impacts": {"patient_safety": "none"}, "scope": ["servers"], "status": "contained"},
    )
    assert revised["impacts"] == {"degraded_mode": True, "patient_safety": "none"}
    assert revised["scope"] == ["servers"]
    assert revised["status"] == "contained"
    assert revised["structure"] == CURRENT["structure"]
    assert CURRENT["impacts"]["patient_safety"] == "potential", "the current content is not modified"


def test_null_clears_an_optional_field() -> None:
    assert "provider" not in apply_changes(CURRENT, {"provider": None})
    resolved = apply_changes({**CURRENT, "resolved_at": "2026-11-02T10:00:00+00:00"}, {"resolved_at": None})
    assert "resolved_at" not in resolved


def test_the_national_form_objects_merge_field_by_field() -> None:
    current = {
        **CURRENT,
        "personal_data": {"persons_affected": 1200, "kinds": ["health"]},
        "complaint": {"filed": False},
    }
    revised = apply_changes(
        current,
        {
            "personal_data": {"persons_affected": 3400},
            "complaint": {"filed": True, "filed_at": "2026-11-03T09:00:00+00:00"},
        },
    )
    assert revised["personal_data"] == {"persons_affected": 3400, "kinds": ["health"]}
    assert revised["complaint"] == {"filed": True, "filed_at": "2026-11-03T09:00:00+00:00"}


def test_a_declaration_cannot_move_to_another_structure() -> None:
    with pytest.raises(RevisionRefused) as refused:
        apply_changes(CURRENT, {"structure": {"finess": "130783236"}})
    assert refused.value.field == "changes.structure.finess"
    assert (
        apply_changes(CURRENT, {"structure": {"finess": "750712184", "name": "CHU Nord"}})["structure"]["name"]
        == "CHU Nord"
    )


def test_initial_is_not_a_revision_kind() -> None:
    with pytest.raises(ValidationError, match="'initial' is the first submission"):
        RevisionCreate.model_validate({"kind": "initial", "based_on": 1})
    assert RevisionCreate.model_validate({"kind": "final_report", "based_on": 3}).changes == {}


def caller(kind: CredentialKind, **scope: Any) -> Caller:
    return Caller(credential_id=uuid4(), principal=f"{kind}:x", kind=kind, **scope)


def test_a_partner_declares_within_its_allow_list_only() -> None:
    partner = caller(CredentialKind.partner, finess=frozenset({"750712184"}), departements=frozenset({"2A"}))
    partner.check_declare("750712184", "75")
    partner.check_declare("2A0000011", "2A")
    with pytest.raises(Denied) as denied:
        partner.check_declare("750100018", "75")
    assert denied.value.status == 403
    caller(CredentialKind.partner, departements=frozenset({ANY_DEPARTEMENT})).check_declare("970100228", "971")


def test_only_partners_declare() -> None:
    for kind in (CredentialKind.ars, CredentialKind.national):
        with pytest.raises(Denied) as denied:
            caller(kind, region_code="11").check_declare("750712184", "75")
        assert denied.value.status == 403


def test_reading_outside_scope_is_hidden_from_partners_and_refused_to_agencies() -> None:
    declaration = uuid4()
    with pytest.raises(Denied) as hidden:
        caller(CredentialKind.partner).check_read("partner:other", "11", declaration)
    assert hidden.value.status == 404
    with pytest.raises(Denied) as refused:
        caller(CredentialKind.ars, region_code="53").check_read("partner:x", "11", declaration)
    assert refused.value.status == 403
    caller(CredentialKind.ars, region_code="11").check_read("partner:other", "11", declaration)
    caller(CredentialKind.national).check_read("partner:other", "04", declaration)


def test_the_rate_limit_allows_a_minutes_worth_then_refills() -> None:
    limiter = RateLimiter(default_per_minute=600)
    credential = uuid4()
    assert all(limiter.wait_seconds(credential, 6, now=0.0) == 0 for _ in range(6))
    assert limiter.wait_seconds(credential, 6, now=0.0) == 10
    assert limiter.wait_seconds(credential, 6, now=10.0) == 0
    assert limiter.wait_seconds(uuid4(), None, now=0.0) == 0


def test_a_principal_is_named_after_its_holder_in_plain_ascii() -> None:
    from vigie_declaration.domain.credentials import slug  # noqa: PLC0415

    assert slug("Éditeur de démonstration") == "editeur-de-demonstration"
    assert slug("  GHT Cœur Grand Est ") == "ght-coeur-grand-est"
    assert slug("***") == "unnamed"
