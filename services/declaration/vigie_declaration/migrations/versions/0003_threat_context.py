"""Severity and threat context from enrichment, shown on the declaration.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("declarations", sa.Column("severity", postgresql.JSONB))
    op.add_column("declarations", sa.Column("threat", postgresql.JSONB))
