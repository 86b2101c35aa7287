"""The worker claims due deliveries channel by channel: what a claim reads is what it takes, not
the backlog of every channel at its limit.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX deliveries_due")
    # Waiting to be sent, by channel and due time: the channels that have any, and each one's
    # oldest, are a few index probes.
    op.execute(
        "CREATE INDEX deliveries_due ON deliveries (recipient_code, channel, next_attempt_at)"
        " WHERE status IN ('pending', 'retrying')"
    )
    # Being sent, by when its claim runs out (a worker that died leaves its claims behind).
    op.execute("CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE status = 'sending'")
