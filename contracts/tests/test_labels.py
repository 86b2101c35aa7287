"""Every value of every enumeration reads in French: a new value without its label would show
as a raw key in an e-mail or on the dashboard."""

from enum import StrEnum

import pytest

from vigie_contracts import labels
from vigie_contracts.declaration import (
    Category,
    DataKind,
    IncidentStatus,
    LegalStatus,
    Origin,
    PatientSafety,
    Regime,
    StructureType,
    TerritorialExtent,
)
from vigie_contracts.events import RevisionKind


@pytest.mark.parametrize(
    ("enum", "table"),
    [
        (Category, labels.CATEGORIES),
        (Origin, labels.ORIGINS),
        (StructureType, labels.STRUCTURE_TYPES),
        (PatientSafety, labels.PATIENT_SAFETY),
        (IncidentStatus, labels.STATUSES),
        (RevisionKind, labels.KINDS),
        (LegalStatus, labels.LEGAL_STATUSES),
        (Regime, labels.REGIMES),
        (TerritorialExtent, labels.TERRITORIAL_EXTENTS),
        (DataKind, labels.DATA_KINDS),
    ],
)
def test_every_value_has_its_label(enum: type[StrEnum], table: dict[str, str]) -> None:
    assert set(table) == {member.value for member in enum}
    assert all(label and label == label.strip() for label in table.values())
