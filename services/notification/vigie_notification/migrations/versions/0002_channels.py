"""E-mail addresses of declarants, and replays of dead-lettered deliveries.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Where to write when the recipient is not in the directory (the declarant).
    op.add_column("deliveries", sa.Column("address", sa.Text))
    op.add_column("deliveries", sa.Column("replays", sa.Integer, nullable=False, server_default="0"))
    op.create_index("deliveries_failed", "deliveries", ["updated_at"], postgresql_where=sa.text("status = 'failed'"))
