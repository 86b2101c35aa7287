"""French social security numbers (NIR), found in free text and masked: patient data never
travels with a declaration, nor into a log line.

A NIR is 13 characters and a 2-digit key: sex, year and month of birth, département of birth
(``2A``/``2B`` in Corsica), commune, order number, then the key, ``97 - (number mod 97)``, where
Corsica's ``2A`` and ``2B`` count as ``19`` and ``18``. People write it with or without spaces;
only sequences whose key is right are masked, so that other long numbers survive.
"""

import re

MASK = "[NIR masqué]"

_SEP = r"[ .\u00a0\u202f-]?"
_NIR = re.compile(
    rf"(?<![0-9A-Za-z])"
    rf"(?P<sex>[1-478]){_SEP}(?P<year>\d{{2}}){_SEP}(?P<month>\d{{2}}){_SEP}"
    rf"(?P<dep>\d{{2}}|2[ABab]){_SEP}(?P<commune>\d{{3}}){_SEP}(?P<order>\d{{3}})"
    rf"[ .\u00a0\u202f-]{{0,3}}(?P<key>\d{{2}})"
    rf"(?![0-9A-Za-z])"
)
_CORSICA = {"2A": "19", "2B": "18"}


def nir_key(first_thirteen: str) -> int:
    """The key of a NIR's 13 first characters (``2A``/``2B`` allowed)."""
    digits = first_thirteen.upper()
    digits = digits[:5] + _CORSICA.get(digits[5:7], digits[5:7]) + digits[7:]
    return 97 - int(digits) % 97


def _is_nir(match: re.Match[str]) -> bool:
    first = "".join(match.group("sex", "year", "month", "dep", "commune", "order"))
    return nir_key(first) == int(match["key"])


def mask_nir(text: str) -> tuple[str, int]:
    """``text`` with every NIR masked, and how many there were."""
    found = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal found
        if not _is_nir(match):
            return match[0]
        found += 1
        return MASK

    return _NIR.sub(replace, text), found
