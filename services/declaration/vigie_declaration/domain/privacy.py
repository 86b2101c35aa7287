"""Patient data stays out: French social security numbers (NIR) are masked in everything a
declaration says before it is stored or published (see ``vigie_contracts.nir``).

Every string is looked at, not a list of free-text fields: a number slips into an indicator's
value, a structure's or declarant's name, a revision's changes as easily as into the description.
Identifiers with a shape of their own (FINESS, dates, e-mail addresses, enumerations) cannot hold
a NIR's 13 digits and come out as they went in.
"""

from dataclasses import dataclass
from typing import Any

from vigie_contracts.nir import MASK, mask_nir, mask_nir_in, nir_key

__all__ = ["MASK", "Redaction", "mask_nir", "nir_key", "redact"]


@dataclass(frozen=True)
class Redaction:
    content: Any
    nir: int


def redact(content: Any) -> Redaction:
    """A copy of JSON data (a declaration, a revision's changes) with every string cleared of
    NIRs, and how many were masked. The input is left as it was."""
    return Redaction(*mask_nir_in(content))
