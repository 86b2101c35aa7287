"""Patient data stays out: French social security numbers (NIR) are masked in a declaration's
free text before it is stored or published (see ``vigie_contracts.nir``)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vigie_contracts.nir import MASK, mask_nir, nir_key

__all__ = ["FREE_TEXT", "MASK", "Redaction", "mask_nir", "nir_key", "redact"]


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
