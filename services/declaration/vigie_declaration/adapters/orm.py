"""Tables of the declaration service (its own database; no other service reads them)."""

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from vigie_kit.tables import service_schema


def _jsonb(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(postgresql.JSONB, nullable=nullable))


def _timestamp(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=nullable))


def _texts() -> Any:
    return Field(default_factory=list, sa_column=sa.Column(postgresql.ARRAY(sa.Text), nullable=False))


class Principal(SQLModel, table=True):
    """An organisation credentials act for: a partner, an ARS, CERT Santé. Its id is explicit and
    unique; what it declared is its own, whichever of its credentials declared it."""

    __tablename__ = "principals"

    id: str = Field(primary_key=True)
    kind: str
    name: str
    created_at: datetime = _timestamp()


class Credential(SQLModel, table=True):
    """A bearer credential; only the SHA-256 of its secret is kept (secrets are 256 random bits,
    so a fast hash is enough: there is nothing to guess)."""

    __tablename__ = "credentials"

    id: UUID = Field(primary_key=True)
    principal: str = Field(foreign_key="principals.id")
    kind: str
    name: str
    token_hash: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False, unique=True))
    token_hint: str
    finess: list[str] = _texts()
    departements: list[str] = _texts()
    region_code: str | None = None
    rate_per_minute: int | None = None
    # Where a partner's acknowledgements may go: the declarant's address must be in one of these.
    mail_domains: list[str] = _texts()
    created_at: datetime = _timestamp()
    revoked_at: datetime | None = _timestamp(nullable=True)


class Declaration(SQLModel, table=True):
    __tablename__ = "declarations"
    __table_args__ = (
        sa.Index("declarations_by_time", sa.text("received_at DESC"), sa.text("id DESC")),
        sa.Index("declarations_by_region", "region_code", sa.text("received_at DESC"), sa.text("id DESC")),
        sa.Index("declarations_by_declarant", "declared_by", sa.text("received_at DESC"), sa.text("id DESC")),
    )

    id: UUID = Field(primary_key=True)
    reference: str = Field(unique=True)
    revision: int
    finess: str = Field(index=True)
    departement_code: str
    region_code: str
    category: str
    content: dict[str, Any] = _jsonb()
    status: str
    declared_by: str
    credential_id: UUID | None = None
    redacted: int = 0
    received_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()
    enriched_revision: int | None = None
    departement: dict[str, Any] | None = _jsonb(nullable=True)
    region: dict[str, Any] | None = _jsonb(nullable=True)
    ars: dict[str, Any] | None = _jsonb(nullable=True)
    severity: dict[str, Any] | None = _jsonb(nullable=True)
    # Classification, indicators, intelligence matches, campaigns: what enrichment concluded.
    threat: dict[str, Any] | None = _jsonb(nullable=True)


class CampaignSize(SQLModel, table=True):
    """The largest size enrichment told of a campaign. Each declaration's enrichment carries its
    campaigns as they were when it joined; their newest members carry their sizes since, and
    each member is shown the latest."""

    __tablename__ = "campaign_sizes"

    id: UUID = Field(primary_key=True)
    declarations: int
    updated_at: datetime = _timestamp()


class DeclarationRevision(SQLModel, table=True):
    __tablename__ = "declaration_revisions"

    declaration_id: UUID = Field(primary_key=True, foreign_key="declarations.id")
    revision: int = Field(primary_key=True)
    kind: str
    based_on: int | None = None
    content: dict[str, Any] = _jsonb()
    changes: dict[str, Any] = _jsonb()
    submitted_at: datetime = _timestamp()
    principal: str
    credential_id: UUID | None = None
    redacted: int = 0


class DeclarationNotification(SQLModel, table=True):
    """The latest known outcome of one delivery (revision × recipient × channel)."""

    __tablename__ = "declaration_notifications"

    delivery_id: UUID = Field(primary_key=True)
    declaration_id: UUID = Field(foreign_key="declarations.id", index=True)
    revision: int
    recipient_kind: str
    recipient_code: str
    recipient_name: str
    channel: str
    outcome: str
    attempt: int
    at: datetime = _timestamp()
    error: str | None = None


class IdempotencyKey(SQLModel, table=True):
    __tablename__ = "idempotency_keys"

    principal: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    request_hash: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    declaration_id: UUID
    status_code: int
    response: dict[str, Any] = _jsonb()
    created_at: datetime = _timestamp()


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("audit_by_declaration", "declaration_id", "at"),)

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, sa.Identity(), primary_key=True))
    at: datetime = _timestamp()
    principal: str
    credential_id: UUID | None = None
    action: str
    declaration_id: UUID | None = None
    revision: int | None = None
    detail: dict[str, Any] = _jsonb()


class TimelineEntry(SQLModel, table=True):
    __tablename__ = "declaration_timeline"
    __table_args__ = (sa.Index("timeline_by_declaration", "declaration_id", "at", "id"),)

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, sa.Identity(), primary_key=True))
    declaration_id: UUID = Field(foreign_key="declarations.id")
    at: datetime = _timestamp()
    revision: int
    what: str
    detail: dict[str, Any] = _jsonb()


# What the migrations must build, and what Alembic compares them with (test_migrations).
SCHEMA = service_schema(
    Principal,
    Credential,
    Declaration,
    CampaignSize,
    DeclarationRevision,
    DeclarationNotification,
    IdempotencyKey,
    AuditEntry,
    TimelineEntry,
)
