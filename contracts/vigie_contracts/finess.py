"""FINESS numbers: the nine-character national identifier of a health or medico-social structure.

Layout, as the register's published numbers show it (fixtures and their sources in
``contracts/tests/test_finess.py``, the rules in ``docs/rules.md``): the département, a serial
number, and a Luhn check digit over the first eight characters.

- metropolitan départements: two digits (``01`` to ``95``), ``2A`` or ``2B`` for Corsica, whose
  letters weigh their place in the alphabet in the check digit (A = 1, B = 2);
- overseas: ``9701`` Guadeloupe (and Saint-Barthélemy and Saint-Martin, which the register files
  under Guadeloupe), ``9702`` Martinique, ``9703`` Guyane, ``9704`` La Réunion, ``9705``
  Saint-Pierre-et-Miquelon and ``9805`` Mayotte (the register's prefix from Mayotte's former code,
  985). Wallis-et-Futuna (``9806``) has a health agency of its own, outside the ARS' remit.

These rules decide what is *admitted*. A number Vigie already accepted is read as it was
accepted: its check digit is not computed again, and the prefix Vigie once took for Mayotte
(``9706``) still reads, so that a rule corrected since never makes a stored declaration, or an
event on its way, unreadable.
"""

import re
from dataclasses import dataclass

_METROPOLITAN = re.compile(r"(?P<dep>0[1-9]|1\d|[3-8]\d|9[0-5]|2[1-9])\d{6}(?P<key>\d)")
_CORSICAN = re.compile(r"(?P<dep>2[AB])\d{6}(?P<key>\d)")
_OVERSEAS = re.compile(r"(?P<prefix>970[1-5]|9805)\d{4}(?P<key>\d)")
# The overseas prefix → the département (INSEE code).
OVERSEAS_PREFIXES = {"9701": "971", "9702": "972", "9703": "973", "9704": "974", "9705": "975", "9805": "976"}
# Accepted for Mayotte before its register prefix was verified: readable, no longer admitted.
_ACCEPTED_BEFORE = re.compile(r"(?P<prefix>9706)\d{4}(?P<key>\d)")
# A Corsican letter's weight in the check digit: its place in the alphabet.
_LETTERS = {"A": 1, "B": 2}


class InvalidFiness(ValueError):
    """A FINESS number that no structure can hold, with the reason."""


@dataclass(frozen=True, slots=True)
class Finess:
    number: str
    departement: str

    def __str__(self) -> str:
        return self.number


def luhn_key(payload: str) -> int:
    """The Luhn check digit of ``payload`` (digits, and Corsica's A and B weighing 1 and 2)."""
    total = 0
    for position, char in enumerate(reversed(payload)):
        digit = int(char) if char.isdigit() else _LETTERS[char]
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def parse_finess(value: str, *, admitting: bool = True) -> Finess:
    """Validate a FINESS number and say which département it belongs to.

    ``admitting``: a number offered to Vigie, checked by every rule. Otherwise a number Vigie
    already accepted, read as it was accepted (see the module's docstring).

    Raises ``InvalidFiness`` with a sentence a partner can act on.
    """
    number = value.strip().upper()
    if len(number) != 9:
        raise InvalidFiness(f"a FINESS number has 9 characters, this one has {len(number)}")
    if match := _OVERSEAS.fullmatch(number):
        departement = OVERSEAS_PREFIXES[match["prefix"]]
    elif match := _CORSICAN.fullmatch(number) or _METROPOLITAN.fullmatch(number):
        departement = match["dep"]
    elif not admitting and _ACCEPTED_BEFORE.fullmatch(number):
        return Finess(number=number, departement="976")
    elif number.startswith("20"):
        raise InvalidFiness("département 20 does not exist: Corsican numbers start with 2A or 2B")
    elif number.startswith("9806"):
        raise InvalidFiness(
            "Wallis-et-Futuna's structures declare to its own health agency, which Vigie does not serve"
        )
    elif number.startswith(("97", "98")):
        raise InvalidFiness(
            "overseas numbers start with 9701 (Guadeloupe, Saint-Barthélemy, Saint-Martin), 9702 (Martinique),"
            " 9703 (Guyane), 9704 (La Réunion), 9705 (Saint-Pierre-et-Miquelon) or 9805 (Mayotte)"
        )
    else:
        raise InvalidFiness("a FINESS number is a département (01-95, 2A, 2B, 9701-9705 or 9805) followed by digits")
    expected = luhn_key(number[:8])
    if admitting and int(match["key"]) != expected:
        raise InvalidFiness(f"check digit is {match['key']}, expected {expected}")
    return Finess(number=number, departement=departement)


def with_check_digit(first_eight: str) -> str:
    """Complete eight characters into a number the check digit accepts: for the made-up
    structures of demos and load tests, never as proof of a rule (tests of the rule use the
    register's own numbers)."""
    return first_eight + str(luhn_key(first_eight))
