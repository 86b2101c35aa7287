"""The tables every service keeps beside its own: the outbox it publishes from and the ledger of
events it has processed. Each service's first migration creates them (``create_kit_tables``)."""

import json
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import AutoString, Field, SQLModel

from vigie_contracts.nir import mask_nir_in

OUTBOX_CHANNEL = "vigie_outbox"


class OutboxMessage(SQLModel, table=True):
    """An event committed with the change that caused it, waiting for the relay to publish it."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, sa.Identity(), primary_key=True))
    event_id: UUID = Field(sa_column=sa.Column(postgresql.UUID(as_uuid=True), nullable=False, unique=True))
    aggregate_type: str
    aggregate_id: str
    type: str
    topic: str
    payload: dict[str, Any] = Field(sa_column=sa.Column(postgresql.JSONB, nullable=False))
    headers: dict[str, str] = Field(sa_column=sa.Column(postgresql.JSONB, nullable=False))
    created_at: datetime | None = Field(
        default=None,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


class ProcessedEvent(SQLModel, table=True):
    """An event a consumer has applied; recorded in the same transaction as its effects."""

    __tablename__ = "processed_events"

    consumer: str = Field(primary_key=True)
    event_id: UUID = Field(sa_column=sa.Column(postgresql.UUID(as_uuid=True), primary_key=True))
    processed_at: datetime = Field(
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())
    )


def service_schema(*models: type[SQLModel], outbox: bool = True) -> sa.MetaData:
    """The schema a service's migrations must build: its models' tables and the kit's (the
    processed-events ledger, and the outbox when it publishes). Alembic's ``target_metadata``,
    and what ``schema_drift`` compares the migrated database with."""
    metadata = sa.MetaData()
    kit: list[type[SQLModel]] = [ProcessedEvent, *([OutboxMessage] if outbox else [])]
    for model in (*models, *kit):
        model.__table__.to_metadata(metadata)  # type: ignore[attr-defined]
    return metadata


def same_type_or_not(
    _context: Any,
    _inspected_column: Any,
    _metadata_column: Any,
    inspected_type: sa.types.TypeEngine[Any],
    metadata_type: sa.types.TypeEngine[Any],
) -> bool | None:
    """Alembic's type comparison, but a model's ``str`` (sqlmodel's length-less ``AutoString``)
    is the ``text`` the migrations create: the same type to PostgreSQL. None: Alembic decides."""
    if isinstance(metadata_type, AutoString) and metadata_type.length is None and isinstance(inspected_type, sa.Text):
        return False
    return None


def create_kit_tables(*, outbox: bool = True) -> None:
    """Create the processed-events ledger and, for a service that publishes, the outbox
    (call from a service's first migration).

    The outbox notifies the relay on insert, so a declaration is published within milliseconds
    rather than at the next poll.
    """
    from alembic import op  # noqa: PLC0415 - only importable while a migration runs

    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    if not outbox:
        return
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", postgresql.UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("aggregate_type", sa.Text, nullable=False),
        sa.Column("aggregate_id", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("payload", postgresql.JSONB, nullable=False),
        sa.Column("headers", postgresql.JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.execute(
        f"""
        CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{OUTBOX_CHANNEL}', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()"
    )


def mask_nir_in_column(table: str, column: str) -> int:
    """Mask the NIRs an earlier, narrower masking left in a JSONB column (call from a data
    migration, which holds the rows it reads); returns how many rows changed. Table and column
    names are the migration's constants, never input."""
    from alembic import op  # noqa: PLC0415 - only importable while a migration runs

    connection = op.get_bind()
    rows = connection.execute(sa.text(f"SELECT ctid::text, {column} FROM {table} WHERE {column} IS NOT NULL"))  # noqa: S608
    changed = 0
    for row, data in rows.all():
        masked, count = mask_nir_in(data)
        if count:
            connection.execute(
                sa.text(f"UPDATE {table} SET {column} = CAST(:data AS jsonb) WHERE ctid = CAST(:row AS tid)"),  # noqa: S608
                {"data": json.dumps(masked), "row": row},
            )
            changed += 1
    return changed
