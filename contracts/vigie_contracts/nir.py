"""French social security numbers (NIR), found in free text and masked: patient data never
travels with a declaration, nor into a log line.

A NIR is 13 characters and a 2-digit key: sex, year and month of birth, département of birth
(``2A``/``2B`` in Corsica), commune, order number, then the key, ``97 - (number mod 97)``, where
Corsica's ``2A`` and ``2B`` count as ``19`` and ``18``.

People write it every way: with spaces, tabs, dots, dashes or slashes between its parts (``/ 91``
before the key), glued to a word (``NIR185…``), or without its key. A number with its key is
masked when the key is right, so that other 15-digit numbers survive; 13 characters standing
alone (no key, or two digits set apart that are not its key) are masked when their parts are
those of a NIR (sex, a month INSEE gives, a département), since nothing else can vouch for them.
"""

import re
from typing import Any

MASK = "[NIR masqué]"

# Between two parts: at most three of these (a tab, two spaces, " / ", a dot and a space).
_SEP = r"[\s.\-_/\u00a0\u202f]{0,3}"
_NIR = re.compile(
    rf"(?<!\d)"
    rf"(?P<sex>[1-478]){_SEP}(?P<year>\d{{2}}){_SEP}(?P<month>\d{{2}}){_SEP}"
    rf"(?P<dep>\d{{2}}|2[ABab]){_SEP}(?P<commune>\d{{3}}){_SEP}(?P<order>\d{{3}})"
    rf"(?:{_SEP}(?P<key>\d{{2}}))?"
    rf"(?!\d)"
)
_CORSICA = {"2A": "19", "2B": "18"}


def nir_key(first_thirteen: str) -> int:
    """The key of a NIR's 13 first characters (``2A``/``2B`` allowed)."""
    digits = first_thirteen.upper()
    digits = digits[:5] + _CORSICA.get(digits[5:7], digits[5:7]) + digits[7:]
    return 97 - int(digits) % 97


def _shaped_like_a_nir(match: re.Match[str]) -> bool:
    """Without a key to check: a month INSEE gives (01 to 12; 20 to 42 and 50 to 99 for a civil
    record without one) and a département of birth (01 to 99, 2A, 2B)."""
    month, dep = int(match["month"]), match["dep"].upper()
    return (1 <= month <= 12 or 20 <= month <= 42 or month >= 50) and dep != "00"


def _is_nir(match: re.Match[str]) -> bool:
    first = "".join(match.group("sex", "year", "month", "dep", "commune", "order"))
    if match["key"] is None:
        return _shaped_like_a_nir(match)
    return nir_key(first) == int(match["key"])


def mask_nir(text: str) -> tuple[str, int]:
    """``text`` with every NIR masked, and how many there were."""
    found = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal found
        if _is_nir(match):
            found += 1
            return MASK
        if match["key"] is not None and match.start("key") > match.end("order") and _shaped_like_a_nir(match):
            # A wrong key set apart: the 13 characters stand alone, and the two digits after
            # them are something else ("… 006 084 / 12 unités").
            found += 1
            return MASK + match[0][match.end("order") - match.start() :]
        return match[0]

    return _NIR.sub(replace, text), found


def mask_nir_in(data: Any) -> tuple[Any, int]:
    """A copy of JSON data with every string cleared of NIRs, and how many were masked."""
    if isinstance(data, str):
        return mask_nir(data)
    if isinstance(data, dict):
        items = {key: mask_nir_in(value) for key, value in data.items()}
        return {key: masked for key, (masked, _) in items.items()}, sum(n for _, n in items.values())
    if isinstance(data, list):
        parts = [mask_nir_in(value) for value in data]
        return [masked for masked, _ in parts], sum(n for _, n in parts)
    return data, 0
