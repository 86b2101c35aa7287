"""Patient data stays out: French social security numbers (NIR) are found in free text and
masked before a declaration is stored or published.

A NIR is 13 characters and a 2-digit key: sex, year and month of birth, département of birth
(``2A``/``2B`` in Corsica), commune, order number, then the key, ``97 - (number mod 97)``, where
Corsica's ``2A`` and ``2B`` count as ``19`` and ``18``. People write it with or without spaces;
only sequences whose key is right are masked, so that other long numbers survive.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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


# The free-text fields of a declaration, where a person's number may slip in.
FREE_TEXT = (
    ("description",),
    ("structure", "name"),
    ("declarant", "role"),
    ("provider", "name"),
)


@dataclass(frozen=True)
class Redaction:
    content: dict[str, Any]
    nir: int


def redact(content: Mapping[str, Any]) -> Redaction:
    """A copy of a declaration's content (as JSON data) with its free text cleared of NIRs."""
    cleaned: dict[str, Any] = {key: dict(value) if isinstance(value, dict) else value for key, value in content.items()}
    total = 0
    for path in FREE_TEXT:
        parent: object = cleaned
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and isinstance(parent.get(path[-1]), str):
            parent[path[-1]], count = mask_nir(parent[path[-1]])
            total += count
    return Redaction(content=cleaned, nir=total)
