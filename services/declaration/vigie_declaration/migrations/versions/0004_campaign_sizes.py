"""The latest size enrichment told of each campaign, shown on every member of it.

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
        "campaign_sizes",
        sa.Column("id", postgresql.UUID, primary_key=True),
        sa.Column("declarations", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    # The declarations already enriched say the sizes of their campaigns as they were told.
    op.execute(
        """
        INSERT INTO campaign_sizes (id, declarations, updated_at)
        SELECT (link->>'id')::uuid, max((link->>'declarations')::int), now()
        FROM declarations,
             jsonb_array_elements(coalesce(threat->'campaigns', '[]') || jsonb_build_array(threat->'parent_incident'))
                 AS link
        WHERE threat IS NOT NULL AND jsonb_typeof(link) = 'object'
        GROUP BY 1
        """
    )
