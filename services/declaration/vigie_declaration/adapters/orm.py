"""Tables of the declaration service (its own database; no other service reads them)."""

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel


def _jsonb(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(postgresql.JSONB, nullable=nullable))


def _timestamp(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=nullable))


class Declaration(SQLModel, table=True):
    __tablename__ = "declarations"

    id: UUID = Field(primary_key=True)
    reference: str = Field(unique=True)
    revision: int
    finess: str = Field(index=True)
    content: dict[str, Any] = _jsonb()
    status: str
    received_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()
    enriched_revision: int | None = None
    departement: dict[str, Any] | None = _jsonb(nullable=True)
    region: dict[str, Any] | None = _jsonb(nullable=True)
    ars: dict[str, Any] | None = _jsonb(nullable=True)


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
