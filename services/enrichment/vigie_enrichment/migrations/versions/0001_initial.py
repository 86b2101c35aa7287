"""Enrichment results, the outbox and the processed-events ledger.

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
    op.create_table(
        "enrichments",
        sa.Column("declaration_id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("finess", sa.Text, nullable=False, index=True),
        sa.Column("departement_code", sa.Text, nullable=False),
        sa.Column("region_code", sa.Text, nullable=False),
        sa.Column("result", postgresql.JSONB, nullable=False),
        sa.Column("enriched_at", sa.DateTime(timezone=True), nullable=False),
    )
