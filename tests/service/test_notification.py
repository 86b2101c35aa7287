"""The notification service's delivery ledger on a real database: a planned delivery is claimed
once, its outcome is recorded once and told in one event, a resting channel waits its turn, and
a dead-lettered delivery is replayed."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from vigie_kit.db import driver, sessions, unit_of_work
from vigie_notification.adapters import ledger
from vigie_notification.domain.delivery import DeliveryStatus, delivery_id
from vigie_notification.handlers import attempt_outcome, record_attempts, replay_deliveries

from .conftest import Database

LEASE = timedelta(seconds=60)


def _planned(declaration_id: UUID, recipient: str, channel: str = "webhook") -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "id": delivery_id(declaration_id, 1, recipient, channel),
        "declaration_id": declaration_id,
        "revision": 1,
        "reference": "VIG-2026-000001",
        "recipient_kind": "cert_sante" if recipient == "cert-sante" else "ars",
        "recipient_code": recipient,
        "recipient_name": recipient.upper(),
        "channel": channel,
        "address": None,
        "status": DeliveryStatus.pending,
        "attempts": 0,
        "next_attempt_at": now,
        "payload": {"reference": "VIG-2026-000001"},
        "trace_headers": {},
        "created_at": now,
        "updated_at": now,
    }


async def _plan(db: Database, *rows: dict[str, Any]) -> None:
    engine, _ = db
    async with driver(engine) as connection:
        await ledger.add(connection, list(rows))


async def test_a_delivery_is_claimed_once_and_its_outcome_recorded_and_told_once(notification_db: Database) -> None:
    engine, raw = notification_db
    declaration = uuid4()
    await _plan(notification_db, _planned(declaration, "ars-pac"), _planned(declaration, "cert-sante"))
    await _plan(notification_db, _planned(declaration, "ars-pac"))  # planned again: nothing added
    async with driver(engine, transaction=False) as connection:
        claimed = await ledger.claim_due(connection, limit=10, lease=LEASE, room={}, room_elsewhere=4)
        claimed_again = await ledger.claim_due(connection, limit=10, lease=LEASE, room={}, room_elsewhere=4)
    assert sorted(c.recipient_code for c in claimed) == ["ars-pac", "cert-sante"]
    assert claimed_again == [], "a claimed delivery is not claimed twice while its lease runs"

    attempts = [
        attempt_outcome(c, delivered=True, error=None, give_up=False, retry_in=timedelta(seconds=2)) for c in claimed
    ]
    async with driver(engine) as connection:
        assert await record_attempts(connection, attempts) == [True, True]
    async with driver(engine) as connection:
        assert await record_attempts(connection, attempts) == [False, False], "an outcome is recorded once"
    statuses = await raw.fetch("SELECT status, attempts, sent_at IS NOT NULL AS sent FROM deliveries")
    assert {tuple(r) for r in statuses} == {("sent", 1, True)}
    events = await raw.fetch("SELECT topic, payload FROM outbox")
    assert [e["topic"] for e in events] == ["notification.dispatched.v2"], "one event for the revision"


async def test_a_resting_channel_waits_while_the_others_are_served(notification_db: Database) -> None:
    engine, _ = notification_db
    declaration = uuid4()
    await _plan(notification_db, _planned(declaration, "ars-pac"), _planned(declaration, "cert-sante"))
    async with driver(engine, transaction=False) as connection:
        claimed = await ledger.claim_due(
            connection, limit=10, lease=LEASE, room={"ars-pac/webhook": 0}, room_elsewhere=4
        )
        assert [c.recipient_code for c in claimed] == ["cert-sante"]
        waiting = await ledger.next_due_in(connection, room={"ars-pac/webhook": 0}, room_elsewhere=4)
    # Not the resting channel's delivery, due now: the claim's lease, a minute away.
    assert waiting is not None
    assert LEASE.total_seconds() - 10 < waiting <= LEASE.total_seconds()


async def test_a_delivery_given_up_is_dead_lettered_then_replayed(notification_db: Database) -> None:
    engine, raw = notification_db
    await _plan(notification_db, _planned(uuid4(), "ars-pac"))
    async with driver(engine, transaction=False) as connection:
        (claimed,) = await ledger.claim_due(connection, limit=10, lease=LEASE, room={}, room_elsewhere=4)
    gone = attempt_outcome(claimed, delivered=False, error="HTTP 410", give_up=True, retry_in=timedelta(0))
    async with driver(engine) as connection:
        await record_attempts(connection, [gone])
    assert await raw.fetchval("SELECT status FROM deliveries") == "failed"
    async with unit_of_work(sessions(engine)) as session:
        assert await replay_deliveries(session, None) == [claimed.id]
    rows = await raw.fetch("SELECT status, attempts, replays FROM deliveries")
    assert [tuple(row) for row in rows] == [("pending", 0, 1)]
