"""Principals: the organisations credentials act for, each an explicit and unique identifier.

A principal was a slug of its credential's display name, so that "Éditeur A" and "Editeur A"
became one organisation. The principals in use become rows of their own, unchanged (every
credential keeps working, every declaration stays its declarant's); new ones are named
explicitly or generated, and a credential joins an existing one only when asked to.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "principals",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('partner', 'ars', 'national')", name="principals_kind"),
    )
    op.execute(
        """
        INSERT INTO principals (id, kind, name, created_at)
        SELECT DISTINCT ON (principal) principal, kind, name, created_at FROM credentials
        ORDER BY principal, created_at
        """
    )
    op.create_foreign_key("credentials_principal", "credentials", "principals", ["principal"], ["id"])
