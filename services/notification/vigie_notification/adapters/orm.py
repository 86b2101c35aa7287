"""The delivery ledger: one row per declaration revision, recipient and channel."""

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from vigie_kit.tables import service_schema


def _timestamp(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=nullable))


class Delivery(SQLModel, table=True):
    __tablename__ = "deliveries"
    __table_args__ = (
        sa.UniqueConstraint("declaration_id", "revision", "recipient_code", "channel"),
        # The worker's questions, answered from indexes of the rows they are about only.
        sa.Index(
            "deliveries_due",
            "recipient_code",
            "channel",
            "next_attempt_at",
            postgresql_where=sa.text("status IN ('pending', 'retrying')"),
        ),
        sa.Index("deliveries_leased", "lease_until", postgresql_where=sa.text("status = 'sending'")),
        sa.Index("deliveries_failed", "updated_at", postgresql_where=sa.text("status = 'failed'")),
    )

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


# What the migrations must build, and what Alembic compares them with (test_migrations).
SCHEMA = service_schema(
    Delivery,
)
