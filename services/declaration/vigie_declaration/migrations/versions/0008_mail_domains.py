"""The mail domains registered with a partner's credential: its acknowledgements go there only.

Vigie sent its acknowledgement to whatever address a declaration named, with a structure name of
the partner's choosing: a relay for anyone's mail. A credential made before holds none, so its
declarations are acknowledged in their answer, and by mail once domains are registered.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "credentials", sa.Column("mail_domains", postgresql.ARRAY(sa.Text), nullable=False, server_default="{}")
    )
