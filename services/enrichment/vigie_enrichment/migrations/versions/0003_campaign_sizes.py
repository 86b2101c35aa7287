"""Campaigns know their size, and links whether they joined one: linking a declaration into a
mass campaign reads what is new, not the thousands already in it.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("size", sa.Integer, nullable=False, server_default="0"))
    op.execute("UPDATE campaigns c SET size = (SELECT count(*) FROM campaign_members m WHERE m.campaign_id = c.id)")
    op.add_column("declaration_links", sa.Column("joined", sa.Boolean, nullable=False, server_default="false"))
    op.execute(
        "UPDATE declaration_links l SET joined = true WHERE EXISTS ("
        " SELECT FROM campaign_members m JOIN campaigns c ON c.id = m.campaign_id"
        " WHERE m.declaration_id = l.declaration_id AND c.kind = l.kind AND c.key = l.key)"
    )
    op.create_index(
        "declaration_links_not_joined",
        "declaration_links",
        ["kind", "key", "detected_at"],
        postgresql_where=sa.text("NOT joined"),
    )
