"""Credentials, revisions, idempotency keys, audit trail and timeline; intake-time territory.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from vigie_contracts.finess import parse_finess
from vigie_contracts.territory import DEPARTEMENTS

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UUID = postgresql.UUID(as_uuid=True)
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "credentials",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("principal", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("token_hash", sa.LargeBinary, nullable=False, unique=True),
        sa.Column("token_hint", sa.Text, nullable=False),
        sa.Column("finess", postgresql.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("departements", postgresql.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("region_code", sa.Text),
        sa.Column("rate_per_minute", sa.Integer),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP),
        sa.CheckConstraint("kind IN ('partner', 'ars', 'national')", name="credentials_kind"),
        sa.CheckConstraint("kind <> 'ars' OR region_code IS NOT NULL", name="credentials_ars_region"),
    )

    op.add_column("declarations", sa.Column("declared_by", sa.Text, nullable=False, server_default=""))
    op.add_column("declarations", sa.Column("credential_id", UUID))
    op.add_column("declarations", sa.Column("departement_code", sa.Text))
    op.add_column("declarations", sa.Column("region_code", sa.Text))
    op.add_column("declarations", sa.Column("category", sa.Text))
    op.add_column("declarations", sa.Column("redacted", sa.Integer, nullable=False, server_default="0"))
    connection = op.get_bind()
    for declaration_id, finess, content in connection.execute(
        sa.text("SELECT id, finess, content FROM declarations")
    ).all():
        departement = DEPARTEMENTS[parse_finess(finess, admitting=False).departement]
        connection.execute(
            sa.text("UPDATE declarations SET departement_code = :d, region_code = :r, category = :c WHERE id = :id"),
            {
                "d": departement.code,
                "r": departement.region.code,
                "c": content["category"],
                "id": declaration_id,
            },
        )
    op.alter_column("declarations", "departement_code", nullable=False)
    op.alter_column("declarations", "region_code", nullable=False)
    op.alter_column("declarations", "category", nullable=False)
    op.create_index("declarations_by_time", "declarations", [sa.text("received_at DESC"), sa.text("id DESC")])
    op.create_index(
        "declarations_by_region",
        "declarations",
        ["region_code", sa.text("received_at DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "declarations_by_declarant",
        "declarations",
        ["declared_by", sa.text("received_at DESC"), sa.text("id DESC")],
    )

    op.create_table(
        "declaration_revisions",
        sa.Column("declaration_id", UUID, sa.ForeignKey("declarations.id"), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("based_on", sa.Integer),
        sa.Column("content", postgresql.JSONB, nullable=False),
        sa.Column("changes", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("submitted_at", TIMESTAMP, nullable=False),
        sa.Column("principal", sa.Text, nullable=False),
        sa.Column("credential_id", UUID),
        sa.Column("redacted", sa.Integer, nullable=False, server_default="0"),
    )
    op.execute(
        "INSERT INTO declaration_revisions"
        " (declaration_id, revision, kind, content, submitted_at, principal)"
        " SELECT id, 1, 'initial', content, received_at, '' FROM declarations"
    )

    op.create_table(
        "idempotency_keys",
        sa.Column("principal", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("request_hash", sa.LargeBinary, nullable=False),
        sa.Column("declaration_id", UUID, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("response", postgresql.JSONB, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("principal", sa.Text, nullable=False),
        sa.Column("credential_id", UUID),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("declaration_id", UUID),
        sa.Column("revision", sa.Integer),
        sa.Column("detail", postgresql.JSONB, nullable=False, server_default="{}"),
    )
    op.create_index("audit_by_declaration", "audit_log", ["declaration_id", "at"])

    op.create_table(
        "declaration_timeline",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("declaration_id", UUID, sa.ForeignKey("declarations.id"), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("what", sa.Text, nullable=False),
        sa.Column("detail", postgresql.JSONB, nullable=False, server_default="{}"),
    )
    op.create_index("timeline_by_declaration", "declaration_timeline", ["declaration_id", "at", "id"])
    op.execute(
        "INSERT INTO declaration_timeline (declaration_id, at, revision, what)"
        " SELECT id, received_at, 1, 'submitted' FROM declarations"
    )
