"""Threat intelligence store, campaigns and recurrence.

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

UUID = postgresql.UUID(as_uuid=True)
TIMESTAMP = sa.DateTime(timezone=True)
TEXTS = postgresql.ARRAY(sa.Text)


def upgrade() -> None:
    op.create_table(
        "ti_indicators",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("tags", TEXTS, nullable=False, server_default="{}"),
        sa.Column("threat_actor", sa.Text),
        sa.Column("malware", sa.Text),
        sa.Column("description", sa.Text),
        sa.Column("first_seen", TIMESTAMP),
    )
    op.create_index("ti_indicators_lookup", "ti_indicators", ["type", "value"])
    op.create_index("ti_indicators_by_source", "ti_indicators", ["source"])
    op.create_table(
        "ti_vulnerabilities",
        sa.Column("source", sa.Text, primary_key=True),
        sa.Column("cve", sa.Text, primary_key=True),
        sa.Column("vendor", sa.Text, nullable=False),
        sa.Column("product", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("date_added", sa.Date, nullable=False),
        sa.Column("known_ransomware_use", sa.Boolean, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
    )
    op.create_index("ti_vulnerabilities_by_cve", "ti_vulnerabilities", ["cve"])
    op.create_table(
        "ti_loads",
        sa.Column("source", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("indicators", sa.Integer, nullable=False),
        sa.Column("vulnerabilities", sa.Integer, nullable=False),
        sa.Column("skipped", postgresql.JSONB, nullable=False),
        sa.Column("loaded_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "structure_incidents",
        sa.Column("declaration_id", UUID, primary_key=True),
        sa.Column("finess", sa.Text, nullable=False),
        sa.Column("detected_at", TIMESTAMP, nullable=False),
    )
    op.create_index("structure_incidents_by_finess", "structure_incidents", ["finess", "detected_at"])
    op.create_table(
        "declaration_links",
        sa.Column("declaration_id", UUID, primary_key=True),
        sa.Column("kind", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("detected_at", TIMESTAMP, nullable=False),
    )
    op.create_index("declaration_links_by_key", "declaration_links", ["kind", "key", "detected_at"])
    op.create_table(
        "campaigns",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("first_detected_at", TIMESTAMP, nullable=False),
        sa.Column("last_detected_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("campaigns_by_key", "campaigns", ["kind", "key"])
    op.create_table(
        "campaign_members",
        sa.Column("campaign_id", UUID, sa.ForeignKey("campaigns.id"), primary_key=True),
        sa.Column("declaration_id", UUID, primary_key=True),
        sa.Column("joined_at", TIMESTAMP, nullable=False),
    )
    op.create_index("campaign_members_by_declaration", "campaign_members", ["declaration_id"])
