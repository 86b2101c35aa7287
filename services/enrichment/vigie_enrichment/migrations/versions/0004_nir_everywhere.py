"""Social security numbers masked in every string an enrichment holds: the declaration it was
told of (its indicators and names included), and the events waiting in the outbox.

Revision ID: 0004
Revises: 0003
"""

from vigie_kit.tables import mask_nir_in_column

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table, column in [("enrichments", "result"), ("outbox", "payload")]:
        mask_nir_in_column(table, column)
