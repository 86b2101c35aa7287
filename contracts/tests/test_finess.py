"""FINESS numbers: the département they give and the check digit they carry."""

import pytest

from vigie_contracts.finess import InvalidFiness, luhn_key, parse_finess, with_check_digit


@pytest.mark.parametrize(
    ("number", "departement"),
    [
        ("130783236", "13"),  # Assistance publique – Hôpitaux de Marseille
        ("970211207", "972"),  # CHU de Martinique
        ("970100228", "971"),  # CHU de Guadeloupe
        ("750712184", "75"),
        (with_check_digit("2A000001"), "2A"),
        (with_check_digit("2B000002"), "2B"),
        (with_check_digit("97030002"), "973"),
        (with_check_digit("97040003"), "974"),
        (with_check_digit("97060004"), "976"),
        (with_check_digit("01000005"), "01"),
        (with_check_digit("95000006"), "95"),
    ],
)
def test_gives_the_departement_of_a_valid_number(number: str, departement: str) -> None:
    assert parse_finess(number).departement == departement


def test_accepts_lowercase_corsican_letters_and_surrounding_spaces() -> None:
    number = with_check_digit("2A123456")
    assert parse_finess(f"  {number.lower()} ").number == number


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("13078323", "9 characters, this one has 8"),
        ("1307832366", "9 characters, this one has 10"),
        ("130783237", "check digit is 7, expected 6"),
        ("200000001", "département 20 does not exist"),
        ("975000001", "overseas numbers start with 9701"),
        ("970500001", "overseas numbers start with 9701"),
        ("960000001", "a FINESS number is a département"),
        ("00000000" + "0", "a FINESS number is a département"),
        ("2C0000001", "a FINESS number is a département"),
        ("13O783236", "a FINESS number is a département"),
    ],
)
def test_refuses_an_impossible_number_and_says_why(number: str, reason: str) -> None:
    with pytest.raises(InvalidFiness, match=reason):
        parse_finess(number)


def test_every_single_digit_error_is_caught_by_the_check_digit() -> None:
    number = "130783236"
    for position in range(2, 9):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            typo = number[:position] + digit + number[position + 1 :]
            with pytest.raises(InvalidFiness):
                parse_finess(typo)


def test_luhn_key_matches_the_register_on_known_numbers() -> None:
    assert luhn_key("13078323") == 6
    assert luhn_key("97021120") == 7
