"""The dimensions the observatory counts declarations along, and the periods it counts over."""

from collections.abc import Hashable
from enum import StrEnum

from vigie_contracts.declaration import (
    Category,
    LegalStatus,
    Origin,
    PatientSafety,
    Regime,
    Structure,
    StructureType,
    TerritorialExtent,
)
from vigie_contracts.territory import REGIONS
from vigie_kit.periods import FRANCE

# The observatory counts days and months as they are lived in metropolitan France.
OBSERVATORY_TZ = FRANCE
MAX_DIMENSIONS = 2


class Dimension(StrEnum):
    region = "region"
    category = "category"
    month = "month"
    structure_type = "structure_type"
    origin = "origin"
    degraded_mode = "degraded_mode"
    patient_safety = "patient_safety"
    support_requested = "support_requested"
    severity = "severity"
    legal_status = "legal_status"
    regime = "regime"
    data_unavailable = "data_unavailable"
    data_integrity = "data_integrity"
    data_disclosure = "data_disclosure"
    care_interrupted = "care_interrupted"
    territorial_extent = "territorial_extent"


# What the declaration did not say, counted as such rather than guessed (the fields that say it
# came after the first declarations).
NOT_STATED = "not_stated"


def regime_of(structure: Structure) -> str:
    """The regime as declared, or as the older flag said it; not stated otherwise: a structure
    that did not say is not counted as bound by none."""
    if structure.regime is None and not structure.essential_operator:
        return NOT_STATED
    return structure.binding_regime.value


class SeverityGrade(StrEnum):
    """Severity as one dimension: grave and/or significatif, or neither."""

    grave_significatif = "grave_significatif"
    grave = "grave"
    significatif = "significatif"
    none = "none"


def severity_grade(grave: bool, significatif: bool) -> SeverityGrade:
    if grave and significatif:
        return SeverityGrade.grave_significatif
    if grave:
        return SeverityGrade.grave
    if significatif:
        return SeverityGrade.significatif
    return SeverityGrade.none


# The values a dimension can take, so that a published table shows its empty cells too.
UNIVERSE: dict[Dimension, list[Hashable]] = {
    Dimension.region: list(REGIONS),
    Dimension.category: [c.value for c in Category],
    Dimension.structure_type: [t.value for t in StructureType],
    Dimension.origin: [o.value for o in Origin],
    Dimension.patient_safety: [p.value for p in PatientSafety],
    Dimension.severity: [s.value for s in SeverityGrade],
    Dimension.degraded_mode: [False, True],
    Dimension.support_requested: [False, True],
    Dimension.legal_status: [*(s.value for s in LegalStatus), NOT_STATED],
    Dimension.regime: [*(r.value for r in Regime), NOT_STATED],
    Dimension.data_unavailable: [False, True],
    Dimension.data_integrity: [False, True],
    Dimension.data_disclosure: [False, True],
    Dimension.care_interrupted: [False, True],
    Dimension.territorial_extent: [*(e.value for e in TerritorialExtent), NOT_STATED],
}


class InvalidQuery(ValueError):
    pass


def parse_group_by(value: str) -> list[Dimension]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise InvalidQuery("group_by names at least one dimension")
    if len(names) > MAX_DIMENSIONS:
        raise InvalidQuery(f"group_by takes at most {MAX_DIMENSIONS} dimensions, got {len(names)}")
    if len(set(names)) != len(names):
        raise InvalidQuery("group_by names a dimension twice")
    unknown = [name for name in names if name not in Dimension.__members__]
    if unknown:
        known = ", ".join(Dimension)
        raise InvalidQuery(f"unknown dimension {', '.join(unknown)}; known: {known}")
    return [Dimension(name) for name in names]
