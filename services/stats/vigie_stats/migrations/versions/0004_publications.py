"""A year's published figures, decided at once and frozen: what the public reads.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "publications",
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("figures", postgresql.JSONB, nullable=False),
        sa.Column("delivery", postgresql.JSONB, nullable=False),
        sa.Column("declarations", sa.Integer, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.Text, nullable=False),
    )
