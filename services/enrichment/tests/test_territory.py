"""Where a structure is: FINESS → département → region → ARS, for the whole territory."""

from collections import Counter
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from vigie_contracts.declaration import DeclarationContent
from vigie_contracts.events import DeclarationSubmitted, RevisionKind, SubmittedData
from vigie_contracts.finess import InvalidFiness, with_check_digit
from vigie_contracts.territory import DEPARTEMENTS, REGIONS
from vigie_enrichment.domain.territory import locate
from vigie_enrichment.handlers import enriched_event


def test_covers_the_101_departements_and_the_18_regions() -> None:
    assert len(DEPARTEMENTS) == 101
    assert {d.region.code for d in DEPARTEMENTS.values()} == set(REGIONS)
    assert len({region.ars_code for region in REGIONS.values()}) == 18


def test_regions_hold_their_official_number_of_departements() -> None:
    per_region = Counter(d.region.name for d in DEPARTEMENTS.values())
    assert per_region["Auvergne-Rhône-Alpes"] == 12
    assert per_region["Occitanie"] == 13
    assert per_region["Nouvelle-Aquitaine"] == 12
    assert per_region["Grand Est"] == 10
    assert per_region["Île-de-France"] == 8
    assert per_region["Corse"] == 2
    for overseas in ("Guadeloupe", "Martinique", "Guyane", "La Réunion", "Mayotte"):
        assert per_region[overseas] == 1


@pytest.mark.parametrize(
    ("first_eight", "departement", "region", "ars"),
    [
        ("75071218", "75", "Île-de-France", "ars-idf"),
        ("2A000001", "2A", "Corse", "ars-cor"),
        ("2B000002", "2B", "Corse", "ars-cor"),
        ("97010022", "971", "Guadeloupe", "ars-gua"),
        ("97021120", "972", "Martinique", "ars-mar"),
        ("97030002", "973", "Guyane", "ars-guy"),
        ("97040858", "974", "La Réunion", "ars-reu"),
        ("97060004", "976", "Mayotte", "ars-may"),
        ("90000001", "90", "Bourgogne-Franche-Comté", "ars-bfc"),
        ("13078323", "13", "Provence-Alpes-Côte d'Azur", "ars-paca"),
    ],
)
def test_locates_a_structure_from_its_finess(
    first_eight: str, departement: str, region: str, ars: str
) -> None:
    location = locate(with_check_digit(first_eight))
    assert (location.departement.code, location.region.name, location.region.ars_code) == (
        departement,
        region,
        ars,
    )


def test_a_number_with_a_wrong_check_digit_is_not_located() -> None:
    with pytest.raises(InvalidFiness, match="check digit"):
        locate("130783237")


def test_the_enriched_event_carries_the_region_as_insee_code_and_official_name() -> None:
    now = datetime.now(UTC)
    content = DeclarationContent.model_validate(
        {
            "structure": {
                "finess": with_check_digit("2A000001"),
                "name": "EHPAD",
                "type": "medico_social",
            },
            "declarant": {"name": "A", "role": "Directrice", "email": "a@b.fr"},
            "detected_at": now.isoformat(),
            "origin": "malicious",
            "category": "phishing",
            "description": "Hameçonnage",
            "status": "resolved",
        }
    )
    submitted = DeclarationSubmitted(
        event_id=uuid4(),
        occurred_at=now,
        producer="declaration",
        declaration_id=uuid4(),
        data=SubmittedData(
            reference="VIG-2026-000001",
            revision=1,
            kind=RevisionKind.initial,
            submitted_at=now,
            declaration=content,
        ),
    )
    enriched = enriched_event(submitted, now=now)
    assert enriched.declaration_id == submitted.declaration_id
    assert enriched.data.region.model_dump() == {"code": "94", "name": "Corse"}
    assert enriched.data.departement.model_dump() == {"code": "2A", "name": "Corse-du-Sud"}
    assert enriched.data.ars.code == "ars-cor"
    assert enriched.data.declaration == content
    assert enriched.data.reference == "VIG-2026-000001"
