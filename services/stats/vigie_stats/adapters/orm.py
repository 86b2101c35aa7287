"""The facts the observatory counts: one row per declaration, its latest revision's values."""

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from vigie_kit.tables import service_schema


class DeclarationFact(SQLModel, table=True):
    __tablename__ = "declaration_facts"
    __table_args__ = (
        sa.Index("declaration_facts_by_detection", "detected_at"),
        sa.Index("ix_declaration_facts_declared_at", "declared_at"),
    )

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
    legal_status: str = "not_stated"
    regime: str = "not_stated"
    data_unavailable: bool = False
    data_integrity: bool = False
    data_disclosure: bool = False
    care_interrupted: bool = False
    territorial_extent: str = "not_stated"


class ArsNotification(SQLModel, table=True):
    """When the ARS of a declaration's region was first told of it (revision 1, any channel)."""

    __tablename__ = "ars_notifications"

    declaration_id: UUID = Field(primary_key=True)
    notified_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class Credential(SQLModel, table=True):
    """A credential that reads figures (ARS or national), as the declaration service announced
    it: only the SHA-256 of its secret is known here."""

    __tablename__ = "reader_credentials"

    id: UUID = Field(primary_key=True)
    principal: str
    kind: str
    name: str
    region_code: str | None = None
    secret_sha256: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False, unique=True))
    created_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))


class Session(SQLModel, table=True):
    """A person signed in to the dashboard with a credential: the cookie holds a secret of its
    own, of which only the SHA-256 is kept; it ends at ``expires_at``, or with its credential."""

    __tablename__ = "reader_sessions"
    __table_args__ = (sa.Index("ix_reader_sessions_expires_at", "expires_at"),)

    secret_sha256: bytes = Field(sa_column=sa.Column(sa.LargeBinary, primary_key=True))
    credential_id: UUID = Field(foreign_key="reader_credentials.id")
    created_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class PublishedYear(SQLModel, table=True):
    """A year's published figures, frozen once published (``domain.publication``)."""

    __tablename__ = "publications"

    year: int = Field(primary_key=True)
    # Each figure (``domain.publication.encode``) and what is shown of it: a count, "<5" or "masqué".
    figures: dict[str, Any] = Field(sa_column=sa.Column(postgresql.JSONB, nullable=False))
    # Per region whose count is published: median, p90 and p99 of the time to tell its ARS.
    delivery: dict[str, Any] = Field(sa_column=sa.Column(postgresql.JSONB, nullable=False))
    declarations: int  # how many declarations the publication counted (exact: for CERT Santé)
    published_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    published_by: str


# What the migrations must build, and what Alembic compares them with (test_migrations).
SCHEMA = service_schema(
    DeclarationFact,
    ArsNotification,
    Credential,
    Session,
    PublishedYear,
    outbox=False,
)
