"""What the observatory counts beyond the basics: the day of detection, severity, the parent
incident of provider outages, and when each ARS was told.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("declaration_facts", sa.Column("detected_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE declaration_facts SET detected_at = declared_at")
    op.alter_column("declaration_facts", "detected_at", nullable=False)
    op.create_index("declaration_facts_by_detection", "declaration_facts", ["detected_at"])
    op.add_column("declaration_facts", sa.Column("severity", sa.Text, nullable=False, server_default="none"))
    op.add_column("declaration_facts", sa.Column("parent_incident", sa.Text))
    op.create_table(
        "ars_notifications",
        sa.Column("declaration_id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False),
    )
