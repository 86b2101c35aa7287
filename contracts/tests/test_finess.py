"""FINESS numbers: the département they give and the check digit they carry, on numbers the
register and the authorities published, never on numbers this code made.

Sources:
- [RAA-2B-2024-02] Préfecture de Haute-Corse, recueil des actes administratifs n°2B-2024-02-015,
  29 février 2024 (arrêtés ARS Corse): CH de Bastia 2B0000020, CH de Calvi 2B0005342, CHI de
  Corte-Tattone 2B0004246.
- [RAA-2B-2024-07] Préfecture de Haute-Corse, RAA n°2B-2024-07-003, 4 juillet 2024: EHPAD La
  Chênaie 2B0000442, EHPAD U Serenu 2B0003107, EHPAD du CH de Bastia 2B0003628.
- [RAA-2A-2017-046] Préfecture de Corse-du-Sud, RAA n°2A-2017-046, 19 mai 2017: CH d'Ajaccio
  (FINESS juridique) 2A0000014.
- [RAA-2A-2025-178] Préfecture de Corse-du-Sud, RAA n°2A-2025-178, 24 décembre 2025: CH de
  Bonifacio 2A0000170, CH de Castelluccio 2A0000386, CH de Sartène 2A0002606.
- [RAA-973-2024-390] Préfecture de Guyane, RAA n°R03-2024-390, 31 décembre 2024: CH de Cayenne
  970302022, Hôpital privé Saint-Gabriel 970303285 (site 970302055).
- [FINESS-2026-05] Extraction FINESS des établissements, data.gouv.fr,
  etalab-cs1100502-stock-20260512-0339.csv (lines quoted verbatim in the public repository
  sister-software/mailwoman): CHU site Félix Guyon 970400024 (EJ 970408589, La Réunion, 9D); CH
  Louis Constant Fleming, Saint-Martin, 970100400 (EJ 970100186, filed under Guadeloupe, 9A);
  PMI de Saint-Barthélemy 970102018 (EJ 970113015, 9A); CMPP Aloès, Martinique, 970210126 (EJ
  970210118, 9B); Ubipharm-Mayotte 980502199 (EJ 980502181, 9F); Hôpital de Sia, Wallis-et-Futuna,
  980600027 (9J); CH de Bourg-en-Bresse Fleyriat 010000024 (EJ 010780054).
"""

import pytest

from vigie_contracts.finess import InvalidFiness, luhn_key, parse_finess


@pytest.mark.parametrize(
    ("number", "departement"),
    [
        ("2A0000014", "2A"),  # CH d'Ajaccio [RAA-2A-2017-046]
        ("2A0000170", "2A"),  # CH de Bonifacio [RAA-2A-2025-178]
        ("2A0000386", "2A"),  # CH de Castelluccio [RAA-2A-2025-178]
        ("2A0002606", "2A"),  # CH de Sartène [RAA-2A-2025-178]
        ("2B0000020", "2B"),  # CH de Bastia [RAA-2B-2024-02]
        ("2B0005342", "2B"),  # CH de Calvi [RAA-2B-2024-02]
        ("2B0004246", "2B"),  # CHI de Corte-Tattone [RAA-2B-2024-02]
        ("2B0000442", "2B"),  # EHPAD La Chênaie [RAA-2B-2024-07]
        ("2B0003628", "2B"),  # EHPAD du CH de Bastia [RAA-2B-2024-07]
        ("970100400", "971"),  # CH Louis Constant Fleming, Saint-Martin [FINESS-2026-05]
        ("970100186", "971"),  # its legal entity [FINESS-2026-05]
        ("970102018", "971"),  # PMI de Saint-Barthélemy [FINESS-2026-05]
        ("970210126", "972"),  # CMPP Aloès, Ducos [FINESS-2026-05]
        ("970302022", "973"),  # CH de Cayenne [RAA-973-2024-390]
        ("970303285", "973"),  # Hôpital privé Saint-Gabriel [RAA-973-2024-390]
        ("970400024", "974"),  # CHU site Félix Guyon [FINESS-2026-05]
        ("970408589", "974"),  # CHU de La Réunion [FINESS-2026-05]
        ("980502199", "976"),  # Ubipharm-Mayotte, Koungou [FINESS-2026-05]
        ("980502181", "976"),  # its legal entity [FINESS-2026-05]
        ("010000024", "01"),  # CH de Bourg-en-Bresse Fleyriat [FINESS-2026-05]
        ("010780054", "01"),  # its legal entity [FINESS-2026-05]
    ],
)
def test_gives_the_departement_of_a_published_number(number: str, departement: str) -> None:
    assert parse_finess(number).departement == departement


def test_corsican_letters_weigh_their_place_in_the_alphabet() -> None:
    # CH d'Ajaccio and CH de Bastia, as the register publishes them: with A and B counted as 0,
    # their check digits would be 3 and 6.
    assert luhn_key("2A000001") == 4
    assert luhn_key("2B000002") == 0


def test_accepts_lowercase_corsican_letters_and_surrounding_spaces() -> None:
    assert parse_finess("  2a0000014 ").number == "2A0000014"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("2B000002", "9 characters, this one has 8"),
        ("2B00000200", "9 characters, this one has 10"),
        ("2B0000021", "check digit is 1, expected 0"),
        ("2A0000013", "check digit is 3, expected 4"),
        ("200000001", "département 20 does not exist"),
        ("980600027", "Wallis-et-Futuna's structures declare to its own health agency"),  # Hôpital de Sia
        ("975000001", "overseas numbers start with 9701"),
        ("970600001", "overseas numbers start with 9701"),
        ("960000001", "a FINESS number is a département"),
        ("00000000" + "0", "a FINESS number is a département"),
        ("2C0000001", "a FINESS number is a département"),
        ("97O302022", "overseas numbers start with 9701"),
    ],
)
def test_refuses_an_impossible_number_and_says_why(number: str, reason: str) -> None:
    with pytest.raises(InvalidFiness, match=reason):
        parse_finess(number)


@pytest.mark.parametrize("number", ["2A0000014", "970302022", "010780054"])
def test_every_single_digit_error_is_caught_by_the_check_digit(number: str) -> None:
    for position in range(2, 9):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            typo = number[:position] + digit + number[position + 1 :]
            with pytest.raises(InvalidFiness):
                parse_finess(typo)
