"""Where a structure is: FINESS → département → region → its agency, for the whole territory, on
numbers the register published (their sources: contracts/tests/test_finess.py)."""

from collections import Counter

import pytest

from vigie_contracts.finess import InvalidFiness
from vigie_contracts.territory import DEPARTEMENTS, REGIONS
from vigie_enrichment.domain.territory import locate


def test_covers_the_102_departements_and_territories_and_their_19_agencies() -> None:
    assert len(DEPARTEMENTS) == 102  # 101 départements and Saint-Pierre-et-Miquelon
    assert {d.region.code for d in DEPARTEMENTS.values()} == set(REGIONS)
    agencies = {region.ars_code for region in REGIONS.values()}
    assert len(agencies) == 19  # the 18 ARS and the ATS of Saint-Pierre-et-Miquelon
    assert "ats-spm" in agencies


def test_regions_hold_their_official_number_of_departements() -> None:
    per_region = Counter(d.region.name for d in DEPARTEMENTS.values())
    assert per_region["Auvergne-Rhône-Alpes"] == 12
    assert per_region["Occitanie"] == 13
    assert per_region["Nouvelle-Aquitaine"] == 12
    assert per_region["Grand Est"] == 10
    assert per_region["Île-de-France"] == 8
    assert per_region["Corse"] == 2
    for overseas in ("Guadeloupe", "Martinique", "Guyane", "La Réunion", "Mayotte", "Saint-Pierre-et-Miquelon"):
        assert per_region[overseas] == 1


@pytest.mark.parametrize(
    ("finess", "departement", "region", "agency"),
    [
        ("010000024", "01", "Auvergne-Rhône-Alpes", "ars-ara"),  # CH de Bourg-en-Bresse Fleyriat
        ("2A0000014", "2A", "Corse", "ars-cor"),  # CH d'Ajaccio
        ("2B0000020", "2B", "Corse", "ars-cor"),  # CH de Bastia
        ("970100400", "971", "Guadeloupe", "ars-gua"),  # CH Louis Constant Fleming, Saint-Martin
        ("970102018", "971", "Guadeloupe", "ars-gua"),  # PMI de Saint-Barthélemy
        ("970210126", "972", "Martinique", "ars-mar"),  # CMPP Aloès
        ("970302022", "973", "Guyane", "ars-guy"),  # CH de Cayenne
        ("970408589", "974", "La Réunion", "ars-reu"),  # CHU de La Réunion
        ("980502199", "976", "Mayotte", "ars-may"),  # Ubipharm-Mayotte
    ],
)
def test_locates_a_structure_from_its_finess(finess: str, departement: str, region: str, agency: str) -> None:
    location = locate(finess)
    assert (location.departement.code, location.region.name, location.region.ars_code) == (departement, region, agency)


def test_saint_pierre_et_miquelon_goes_to_its_administration_territoriale_de_sante() -> None:
    # No published number of the archipelago was found (docs/rules.md); 9705 follows the
    # register's numbering of the other overseas territories (971 → 9701, 985 → 9805).
    location = locate("970500005")
    assert (location.departement.code, location.region.ars_code) == ("975", "ats-spm")
    assert location.region.ars_name.startswith("ATS de Saint-Pierre-et-Miquelon")


def test_a_number_accepted_under_an_earlier_rule_is_still_located() -> None:
    """Enrichment reads what the intake accepted: a Corsican number whose check digit the
    earlier rule computed (letters as 0), or Mayotte's earlier prefix, is placed where it was."""
    assert locate("2A1000213").departement.code == "2A"
    assert locate("970600016").departement.code == "976"
    with pytest.raises(InvalidFiness, match="overseas numbers start with"):
        locate("970700000")
