"""Social security numbers masked in every string a delivery holds: the payload of a webhook
still to be sent carries the declaration, indicators and names included.

Revision ID: 0004
Revises: 0003
"""

from vigie_kit.tables import mask_nir_in_column

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table, column in [("deliveries", "payload"), ("outbox", "payload")]:
        mask_nir_in_column(table, column)
