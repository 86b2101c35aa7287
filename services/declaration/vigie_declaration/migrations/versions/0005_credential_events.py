"""The credentials that read figures (ARS, national), announced to the services that check them.

The stats service checks the credentials presented to it against its own copy, which it keeps
from ``credential.changed`` events; the credentials made before those events existed are
announced once, here, through the outbox.

Revision ID: 0005
Revises: 0004
"""

from uuid import uuid4

import sqlalchemy as sa
from alembic import op

from vigie_contracts.events import CredentialChanged, CredentialData, CredentialKind
from vigie_kit.outbox import OUTBOX, outbox_message

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT id, principal, kind, name, region_code, token_hash, created_at, revoked_at, now() AS now"
            " FROM credentials WHERE kind IN ('ars', 'national') ORDER BY created_at"
        )
    ).all()
    messages = [
        outbox_message(
            CredentialChanged(
                event_id=uuid4(),
                occurred_at=row.now,
                producer="declaration",
                credential_id=row.id,
                data=CredentialData(
                    principal=row.principal,
                    kind=CredentialKind(row.kind),
                    name=row.name,
                    region_code=row.region_code,
                    secret_sha256=bytes(row.token_hash).hex(),
                    created_at=row.created_at,
                    revoked_at=row.revoked_at,
                ),
            ),
            trace={},
        )
        for row in rows
    ]
    if messages:
        connection.execute(sa.insert(OUTBOX), messages)
