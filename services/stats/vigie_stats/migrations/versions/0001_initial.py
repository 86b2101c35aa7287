"""Declaration facts and the processed-events ledger (stats publishes nothing: no outbox).

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
    create_kit_tables(outbox=False)
    op.create_table(
        "declaration_facts",
        sa.Column("declaration_id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("finess", sa.Text, nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("region_code", sa.Text, nullable=False),
        sa.Column("departement_code", sa.Text, nullable=False),
        sa.Column("structure_type", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("essential_operator", sa.Boolean, nullable=False),
        sa.Column("degraded_mode", sa.Boolean, nullable=False),
        sa.Column("patient_safety", sa.Text, nullable=False),
        sa.Column("support_requested", sa.Boolean, nullable=False),
    )
