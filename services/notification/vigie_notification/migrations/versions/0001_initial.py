"""The delivery ledger, the outbox and the processed-events ledger.

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
        "deliveries",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("declaration_id", postgresql.UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("recipient_kind", sa.Text, nullable=False),
        sa.Column("recipient_code", sa.Text, nullable=False),
        sa.Column("recipient_name", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("payload", postgresql.JSONB, nullable=False),
        sa.Column("trace_headers", postgresql.JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("declaration_id", "revision", "recipient_code", "channel"),
    )
    # The worker's question, "what is due?", answered from an index of the unfinished rows only.
    op.execute(
        "CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'retrying', 'sending')"
    )
    op.execute(
        """
        CREATE FUNCTION deliveries_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('vigie_deliveries', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER deliveries_notify AFTER INSERT ON deliveries"
        " FOR EACH STATEMENT EXECUTE FUNCTION deliveries_notify()"
    )
