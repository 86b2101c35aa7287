"""FINESS numbers: the nine-character national identifier of a health or medico-social structure.

Layout: the département (two characters, ``2A``/``2B`` for Corsica, or ``970x`` for the
overseas départements 97x), a serial number, and a Luhn check digit over the first eight
characters. Corsican letters count as ``0`` in the check digit, as the register computes it.
"""

import re
from dataclasses import dataclass

_METROPOLITAN = re.compile(r"(?P<dep>0[1-9]|1\d|[3-8]\d|9[0-5]|2[1-9])\d{6}(?P<key>\d)")
_CORSICAN = re.compile(r"(?P<dep>2[AB])\d{6}(?P<key>\d)")
_OVERSEAS = re.compile(r"970(?P<dom>[1-46])\d{4}(?P<key>\d)")


class InvalidFiness(ValueError):
    """A FINESS number that no structure can hold, with the reason."""


@dataclass(frozen=True, slots=True)
class Finess:
    number: str
    departement: str

    def __str__(self) -> str:
        return self.number


def luhn_key(payload: str) -> int:
    """The Luhn check digit of ``payload`` (digits; Corsican letters count as 0)."""
    total = 0
    for position, char in enumerate(reversed(payload)):
        digit = int(char) if char.isdigit() else 0
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def parse_finess(value: str) -> Finess:
    """Validate a FINESS number and say which département it belongs to.

    Raises ``InvalidFiness`` with a sentence a partner can act on.
    """
    number = value.strip().upper()
    if len(number) != 9:
        raise InvalidFiness(f"a FINESS number has 9 characters, this one has {len(number)}")
    if match := _OVERSEAS.fullmatch(number):
        departement = "97" + match["dom"]
    elif match := _CORSICAN.fullmatch(number) or _METROPOLITAN.fullmatch(number):
        departement = match["dep"]
    elif number.startswith("20"):
        raise InvalidFiness("département 20 does not exist: Corsican numbers start with 2A or 2B")
    elif number.startswith("97"):
        raise InvalidFiness(
            "overseas numbers start with 9701, 9702, 9703, 9704 or 9706 "
            "(Guadeloupe, Martinique, Guyane, La Réunion, Mayotte)"
        )
    else:
        raise InvalidFiness("a FINESS number is a département (01-95, 2A, 2B or 970x) followed by digits")
    expected = luhn_key(number[:8])
    if int(match["key"]) != expected:
        raise InvalidFiness(f"check digit is {match['key']}, expected {expected}")
    return Finess(number=number, departement=departement)


def with_check_digit(first_eight: str) -> str:
    """Complete eight characters into a valid FINESS number (for fixtures and demos)."""
    return first_eight + str(luhn_key(first_eight))
