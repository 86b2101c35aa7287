"""Severity by the letter of the texts (see docs/rules.md for each source):

- art. D1111-16-2 II and III of the Code de la santé publique (version of décret n° 2022-715 of
  27 April 2022): grave; significatif *among the grave ones*, when the incident has potential or
  proven repercussions on the departmental, regional or national organisation of the health
  system **and** is likely to reach other structures;
- directive (UE) 2022/2555 (NIS2) art. 23(3), for essential and important entities only;
- loi n° 2018-133 art. 7, for essential-service operators (OSE).
"""

from datetime import UTC, datetime
from typing import Any

import pytest

from vigie_contracts.declaration import DeclarationContent
from vigie_enrichment.domain.severity import (
    GRAVE,
    NIS2_DAMAGE,
    NIS2_DISRUPTION,
    OSE_CONTINUITY,
    SIGNIFICATIF,
    Context,
    assess,
)

CHU = {"finess": "130783236", "name": "CHU", "type": "health_facility"}


def content(structure: dict[str, Any] | None = None, **impacts: Any) -> DeclarationContent:
    return DeclarationContent.model_validate(
        {
            "structure": structure or CHU,
            "declarant": {"name": "A", "role": "RSSI", "email": "a@b.fr"},
            "detected_at": datetime(2026, 11, 1, tzinfo=UTC).isoformat(),
            "origin": "malicious",
            "category": "ransomware",
            "description": "x",
            "status": "ongoing",
            "impacts": impacts,
        }
    )


def texts(severity: Any, criterion: str) -> list[str]:
    return [r.text for r in severity.reasons if r.criterion == criterion]


def test_grave_with_each_reason_of_the_health_code() -> None:
    severity = assess(content(patient_safety="proven", data_disclosure=True, data_integrity=True, degraded_mode=True))
    assert severity.grave is True
    assert texts(severity, GRAVE) == [
        "La sécurité des soins a été mise en danger (conséquence avérée).",
        "La confidentialité de données de santé est atteinte.",
        "L'intégrité de données de santé est atteinte.",
        "Le fonctionnement normal de la structure est perturbé (mode dégradé).",
    ]
    potential = assess(content(patient_safety="potential"))
    assert texts(potential, GRAVE) == ["La sécurité des soins peut être mise en danger (conséquence potentielle)."]
    unavailable = assess(content(data_unavailable=True))
    assert texts(unavailable, GRAVE) == [
        "Le fonctionnement normal de la structure est perturbé (données indisponibles)."
    ]
    assert assess(content()).grave is False


EVERYTHING_BUT_GRAVITY = Context(
    shared_provider="BioCloud", campaign_declarations=3, ransomware_cves=("CVE-2018-13379",)
)


def test_an_incident_that_is_not_grave_is_never_significatif() -> None:
    """Shared provider, campaign, ransomware CVE and a national extent: still not significatif,
    since III chooses significant incidents among the grave ones."""
    severity = assess(content(territorial_extent="national"), EVERYTHING_BUT_GRAVITY)
    assert (severity.grave, severity.significatif) == (False, False)
    assert severity.reasons == []


def test_significatif_needs_repercussions_beyond_the_structure_and_others_exposed() -> None:
    # Others exposed, but the structure says its repercussions stay local: not significatif.
    local = assess(content(degraded_mode=True, territorial_extent="local"), EVERYTHING_BUT_GRAVITY)
    assert (local.grave, local.significatif) == (True, False)
    unstated = assess(content(degraded_mode=True), EVERYTHING_BUT_GRAVITY)
    assert unstated.significatif is False
    # A regional extent, but nothing says other structures may be reached: not significatif.
    alone = assess(content(degraded_mode=True, territorial_extent="regional"))
    assert alone.significatif is False
    # Both: significatif, with every reason.
    both = assess(content(degraded_mode=True, territorial_extent="regional"), EVERYTHING_BUT_GRAVITY)
    assert both.significatif is True
    assert texts(both, SIGNIFICATIF) == [
        "Retentissement régional sur l'organisation du système de santé, selon la structure.",
        "L'incident touche un prestataire partagé (BioCloud) : d'autres structures peuvent être atteintes.",
        "L'incident fait partie d'une campagne (3 déclarations liées lors de l'évaluation).",
        "Vulnérabilité exploitée connue pour servir aux campagnes de rançongiciel (CVE-2018-13379) :"
        " d'autres structures équipées sont exposées.",
    ]


@pytest.mark.parametrize("extent", ["departmental", "regional", "national"])
def test_each_extent_beyond_the_structure_counts(extent: str) -> None:
    severity = assess(content(data_integrity=True, territorial_extent=extent), Context(campaign_declarations=2))
    assert severity.significatif is True


def test_care_interrupted_in_a_hospital_sends_patients_elsewhere() -> None:
    """Patients turned away reorganise the département's care and load other structures: both
    conditions of III, from the declaration alone."""
    for kind in ("health_facility", "military_hospital"):
        severity = assess(content({**CHU, "type": kind}, care_interrupted=True))
        assert (severity.grave, severity.significatif) == (True, True), kind
        assert texts(severity, SIGNIFICATIF) == [
            "Des soins interrompus dans un établissement de santé reportent des patients vers d'autres structures."
        ]
    lab = assess(content({**CHU, "type": "biology_lab"}, care_interrupted=True))
    assert (lab.grave, lab.significatif) == (True, False)


def test_nis2_binds_essential_and_important_entities_only() -> None:
    for regime in ("nis2_essential", "nis2_important"):
        severity = assess(content({**CHU, "regime": regime}, degraded_mode=True))
        assert severity.nis2_significant is True, regime
        assert texts(severity, NIS2_DISRUPTION) == ["Perturbation opérationnelle grave des services de l'entité."]
        assert assess(content({**CHU, "regime": regime})).nis2_significant is False
    for regime in ("ose", "none"):
        assert assess(content({**CHU, "regime": regime}, degraded_mode=True)).nis2_significant is None
    # Before ``regime``, the payload said ``essential_operator``, read as a NIS2 essential entity.
    assert assess(content({**CHU, "essential_operator": True}, degraded_mode=True)).nis2_significant is True
    assert assess(content(CHU, degraded_mode=True)).nis2_significant is None


@pytest.mark.parametrize(
    "impacts",
    [
        {"patient_safety": "potential"},  # capable of affecting persons: (b) counts it
        {"patient_safety": "proven"},
        {"data_disclosure": True},
        {"data_integrity": True},
    ],
)
def test_nis2_counts_damage_that_may_affect_persons(impacts: dict[str, Any]) -> None:
    severity = assess(content({**CHU, "regime": "nis2_important"}, **impacts))
    assert severity.nis2_significant is True
    assert texts(severity, NIS2_DAMAGE) == [
        "Des personnes (patients, personnes dont les données sont atteintes) ont subi"
        " ou peuvent subir des dommages considérables."
    ]


def test_an_essential_service_operator_is_judged_on_continuity() -> None:
    hit = assess(content({**CHU, "regime": "ose"}, data_unavailable=True))
    assert (hit.ose_significant, hit.nis2_significant) == (True, None)
    assert texts(hit, OSE_CONTINUITY) == ["Impact, avéré ou possible, sur la continuité du service essentiel."]
    assert assess(content({**CHU, "regime": "ose"}, data_disclosure=True)).ose_significant is False
    assert assess(content(CHU, data_unavailable=True)).ose_significant is None
