"""The facts the observatory counts: one row per declaration, its latest revision's values."""

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class DeclarationFact(SQLModel, table=True):
    __tablename__ = "declaration_facts"

    declaration_id: UUID = Field(primary_key=True)
    revision: int
    reference: str
    finess: str
    # When the declaration was first made: the date the observatory counts it under.
    declared_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    region_code: str
    departement_code: str
    structure_type: str
    category: str
    origin: str
    essential_operator: bool
    degraded_mode: bool
    patient_safety: str
    support_requested: bool
