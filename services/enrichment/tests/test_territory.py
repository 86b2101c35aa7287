"""Where a structure is: FINESS → département → region → ARS, for the whole territory."""

from collections import Counter

import pytest

from vigie_contracts.finess import InvalidFiness, with_check_digit
from vigie_contracts.territory import DEPARTEMENTS, REGIONS
from vigie_enrichment.domain.territory import locate


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
def test_locates_a_structure_from_its_finess(first_eight: str, departement: str, region: str, ars: str) -> None:
    location = locate(with_check_digit(first_eight))
    assert (location.departement.code, location.region.name, location.region.ars_code) == (
        departement,
        region,
        ars,
    )


def test_a_number_with_a_wrong_check_digit_is_not_located() -> None:
    with pytest.raises(InvalidFiness, match="check digit"):
        locate("130783237")
