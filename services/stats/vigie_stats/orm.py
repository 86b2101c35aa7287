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
    # When the declaration was first made (the start of the delivery clock).
    declared_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    # When the incident was detected: the day and month the observatory counts it under.
    detected_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    region_code: str
    departement_code: str
    structure_type: str
    category: str
    origin: str
    essential_operator: bool
    degraded_mode: bool
    patient_safety: str
    support_requested: bool
    severity: str = "none"
    # Incidents at a shared provider belong to one parent incident, counted once.
    parent_incident: str | None = None


class ArsNotification(SQLModel, table=True):
    """When the ARS of a declaration's region was first told of it (revision 1, any channel)."""

    __tablename__ = "ars_notifications"

    declaration_id: UUID = Field(primary_key=True)
    notified_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
