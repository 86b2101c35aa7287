"""Who may see exact figures: the credentials that read them (a copy kept from the declaration
service's ``credential.changed`` events) and the dashboard's signed-in sessions.

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

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reader_credentials",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("principal", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("region_code", sa.Text),
        sa.Column("secret_sha256", sa.LargeBinary, nullable=False, unique=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP),
        sa.CheckConstraint("kind IN ('ars', 'national')", name="reader_credentials_kind"),
        sa.CheckConstraint("kind <> 'ars' OR region_code IS NOT NULL", name="reader_credentials_ars_region"),
    )
    op.create_table(
        "reader_sessions",
        sa.Column("secret_sha256", sa.LargeBinary, primary_key=True),
        sa.Column(
            "credential_id", postgresql.UUID(as_uuid=True), sa.ForeignKey("reader_credentials.id"), nullable=False
        ),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False, index=True),
    )
