"""The national form's dimensions: the structure's legal status and cybersecurity regime, the
three data impacts, care interrupted, and the territorial extent.

Facts recorded before this revision read "not_stated" and false here until the aggregates are
rebuilt from the topics (``vigie-stack rebuild --swap``), which hold every declaration as it was
made.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TEXT = ("legal_status", "regime", "territorial_extent")
_FLAGS = ("data_unavailable", "data_integrity", "data_disclosure", "care_interrupted")


def upgrade() -> None:
    for name in _TEXT:
        op.add_column("declaration_facts", sa.Column(name, sa.Text, nullable=False, server_default="not_stated"))
    for name in _FLAGS:
        op.add_column("declaration_facts", sa.Column(name, sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    for name in (*_TEXT, *_FLAGS):
        op.drop_column("declaration_facts", name)
