"""The delivery ledger: one row per declaration revision, recipient and channel."""

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel


def _timestamp(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=nullable))


class Delivery(SQLModel, table=True):
    __tablename__ = "deliveries"

    id: UUID = Field(primary_key=True)
    declaration_id: UUID = Field(index=True)
    revision: int
    reference: str
    recipient_kind: str
    recipient_code: str
    recipient_name: str
    channel: str
    status: str
    attempts: int = 0
    next_attempt_at: datetime = _timestamp()
    lease_until: datetime | None = _timestamp(nullable=True)
    last_error: str | None = None
    payload: dict[str, Any] = Field(sa_column=sa.Column(postgresql.JSONB, nullable=False))
    # The trace this delivery belongs to, so that a retry an hour later still joins it.
    trace_headers: dict[str, str] = Field(sa_column=sa.Column(postgresql.JSONB, nullable=False))
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()
    sent_at: datetime | None = _timestamp(nullable=True)
    address: str | None = None
    replays: int = 0
