"""The delivery worker's claims on the real ledger: no channel is given more than its room, a
resting channel is left alone, a claim whose worker died is taken again, and a claim reads what it
takes, not the backlog of the channels that wait."""

import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest_asyncio

from vigie_kit.db import migrate
from vigie_notification.adapters.ledger import _CLAIM, Claimed, claim_due, next_due_in
from vigie_notification.bootstrap import MIGRATIONS
from vigie_stack.stack import Stack

from ..support.pipeline import scratch_database

LEASE = timedelta(seconds=60)
ROOM_ELSEWHERE = 4


@pytest_asyncio.fixture
async def ledger(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    """An empty delivery ledger, migrated as the service's is, that no worker reads."""
    async with scratch_database(stack, "notification") as (engine, connection):
        await migrate(engine, MIGRATIONS)
        yield connection


async def _waiting(
    db: asyncpg.Connection,
    channel: str,
    count: int,
    *,
    due: datetime,
    status: str = "pending",
    lease_until: datetime | None = None,
) -> None:
    """``count`` deliveries on ``channel`` (``"<recipient>/<channel>"``), due a millisecond apart
    from ``due``, each with a payload of the size of a real one."""
    recipient, kind = channel.split("/")
    await db.execute(
        "INSERT INTO deliveries (id, declaration_id, revision, reference, recipient_kind, recipient_code,"
        " recipient_name, channel, status, attempts, next_attempt_at, lease_until, payload, trace_headers,"
        " created_at, updated_at)"
        " SELECT gen_random_uuid(), gen_random_uuid(), 1, 'VIG-2026-' || i, 'ars', $1, $1, $2, $3, 0,"
        "   $4::timestamptz + i * interval '1 millisecond', $5, jsonb_build_object('declaration', repeat('x', 1200)),"
        "   '{}'::jsonb, now(), now()"
        " FROM generate_series(1, $6) AS i",
        recipient,
        kind,
        status,
        due,
        lease_until,
        count,
    )


def _channels(claimed: list[Claimed]) -> Counter[str]:
    return Counter(f"{d.recipient_code}/{d.channel}" for d in claimed)


async def test_no_channel_is_given_more_than_its_room_and_a_resting_one_is_left_alone(
    ledger: asyncpg.Connection,
) -> None:
    now = datetime.now(UTC)
    for channel in ("ars-idf/webhook", "cert-sante/email", "declarant/email"):
        await _waiting(ledger, channel, 6, due=now - timedelta(minutes=5))
    await _waiting(ledger, "ars-bre/webhook", 1, due=now + timedelta(minutes=5))  # not due yet

    claimed = await claim_due(
        ledger,
        limit=50,
        lease=LEASE,
        # Two of ars-idf's four places are taken; CERT Santé's e-mail rests after failures.
        room={"ars-idf/webhook": 2, "cert-sante/email": 0},
        room_elsewhere=ROOM_ELSEWHERE,
    )

    assert _channels(claimed) == {"ars-idf/webhook": 2, "declarant/email": 4}
    # Each channel's oldest, now marked as being sent.
    assert sorted(d.reference for d in claimed if d.recipient_code == "ars-idf") == ["VIG-2026-1", "VIG-2026-2"]
    rows = await ledger.fetch(
        "SELECT status, attempts, lease_until FROM deliveries WHERE id = ANY($1)", [d.id for d in claimed]
    )
    assert {(r["status"], r["attempts"]) for r in rows} == {("sending", 1)}
    assert all(r["lease_until"] > now for r in rows)
    assert await ledger.fetchval("SELECT count(*) FROM deliveries WHERE status = 'pending'") == 4 + 6 + 2 + 1


async def test_a_claim_whose_worker_died_is_taken_again_unless_its_channel_rests(ledger: asyncpg.Connection) -> None:
    now = datetime.now(UTC)
    past = now - timedelta(minutes=10)
    await _waiting(ledger, "ars-idf/webhook", 1, due=past, status="sending", lease_until=now - timedelta(seconds=1))
    await _waiting(ledger, "cert-sante/email", 1, due=past, status="sending", lease_until=now - timedelta(seconds=1))
    await _waiting(ledger, "ars-ara/webhook", 1, due=past, status="sending", lease_until=now + timedelta(seconds=30))

    claimed = await claim_due(
        ledger, limit=50, lease=LEASE, room={"cert-sante/email": 0}, room_elsewhere=ROOM_ELSEWHERE
    )

    # The claim that ran out is taken again, one attempt more; the one still under way is not.
    assert [(d.recipient_code, d.attempts) for d in claimed] == [("ars-idf", 1)]
    assert await ledger.fetchval("SELECT attempts FROM deliveries WHERE recipient_code = 'ars-idf'") == 1


async def test_the_next_due_time_is_that_of_a_channel_with_room(ledger: asyncpg.Connection) -> None:
    now = datetime.now(UTC)
    assert await next_due_in(ledger, room={}, room_elsewhere=ROOM_ELSEWHERE) is None

    # Due now but resting, so not a reason to claim again: the next due is the declarant's.
    await _waiting(ledger, "cert-sante/email", 3, due=now - timedelta(minutes=1))
    await _waiting(ledger, "declarant/email", 1, due=now + timedelta(seconds=30))
    due_in = await next_due_in(ledger, room={"cert-sante/email": 0}, room_elsewhere=ROOM_ELSEWHERE)
    assert due_in is not None
    assert 25 < due_in <= 30

    # A claim under way runs out before that: then it is the next thing due.
    await _waiting(ledger, "ars-idf/webhook", 1, due=now, status="sending", lease_until=now + timedelta(seconds=10))
    due_in = await next_due_in(ledger, room={"cert-sante/email": 0}, room_elsewhere=ROOM_ELSEWHERE)
    assert due_in is not None
    assert 5 < due_in <= 10


async def test_a_claim_reads_what_it_takes_not_the_backlog_of_the_channels_that_wait(
    ledger: asyncpg.Connection,
) -> None:
    # A mass campaign's backlog: thousands due on the national channels, at their limit, and
    # a few agencies with one each.
    now = datetime.now(UTC)
    await _waiting(ledger, "cert-sante/email", 5000, due=now - timedelta(minutes=5))
    await _waiting(ledger, "declarant/email", 5000, due=now - timedelta(minutes=5))
    for code in ("ars-ara", "ars-bre", "ars-idf"):
        await _waiting(ledger, f"{code}/webhook", 1, due=now - timedelta(minutes=1))
    await ledger.execute("ANALYZE deliveries")
    pages = await ledger.fetchval("SELECT relpages FROM pg_class WHERE relname = 'deliveries'")

    plan = await ledger.fetchval(
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + _CLAIM,
        ["cert-sante/email", "declarant/email"],
        [0, 1],
        ROOM_ELSEWHERE,
        50,
        LEASE,
    )

    root = json.loads(plan)[0]["Plan"]
    assert root["Actual Rows"] == 4  # the three agencies' and one declarant's
    touched = root["Shared Hit Blocks"] + root["Shared Read Blocks"]
    # The ledger holds more than a thousand pages; the claim reads a few dozen, index included.
    assert pages > 1000
    assert touched < 150, f"{touched} pages read for a claim of 4"
