"""Declarations, their delivery outcomes, the outbox and the processed-events ledger.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from vigie_kit.tables import create_kit_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kit_tables()
    op.execute("CREATE SEQUENCE declaration_reference_seq")
    op.create_table(
        "declarations",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("reference", sa.Text, nullable=False, unique=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("finess", sa.Text, nullable=False, index=True),
        sa.Column("content", postgresql.JSONB, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enriched_revision", sa.Integer),
        sa.Column("departement", postgresql.JSONB),
        sa.Column("region", postgresql.JSONB),
        sa.Column("ars", postgresql.JSONB),
    )
    op.create_table(
        "declaration_notifications",
        sa.Column("delivery_id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "declaration_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("declarations.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("recipient_kind", sa.Text, nullable=False),
        sa.Column("recipient_code", sa.Text, nullable=False),
        sa.Column("recipient_name", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text),
    )
