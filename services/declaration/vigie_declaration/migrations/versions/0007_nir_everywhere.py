"""Social security numbers masked in every string a declaration holds, not only its free text:
indicators, revisions' changes (kept as sent until now), names, and what enrichment concluded.

Revision ID: 0007
Revises: 0006
"""

from vigie_kit.tables import mask_nir_in_column

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table, column in [
        ("declarations", "content"),
        ("declarations", "threat"),
        ("declaration_revisions", "content"),
        ("declaration_revisions", "changes"),
        ("outbox", "payload"),
    ]:
        mask_nir_in_column(table, column)
