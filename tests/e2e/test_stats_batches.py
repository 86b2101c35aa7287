"""Stats applies a batch of events at once: what it keeps must be what one-by-one would keep."""

from datetime import timedelta
from uuid import uuid4

import httpx

from vigie_contracts.events import DeclarationEnriched
from vigie_kit.db import create_engine, driver
from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack
from vigie_stats.handlers import record_facts

from ..support.pipeline import read_topic, wait_for_status


async def test_two_revisions_in_one_batch_keep_the_first_declared_at_and_the_latest_values(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    response = await api.post("/v1/declarations", json=declaration(finess=finess_in("53", 880001)))
    declaration_id = response.json()["id"]
    await wait_for_status(api, [declaration_id])
    (record,) = [r for r in await read_topic(stack, "declaration.enriched.v1") if r.key == declaration_id.encode()]
    assert record.value is not None
    first = DeclarationEnriched.model_validate_json(record.value)

    # The same declaration under an id of its own, and a second revision that changes its category.
    other = uuid4()
    first = first.model_copy(update={"declaration_id": other, "event_id": uuid4()})
    revised_content = first.data.declaration.model_copy(update={"category": "phishing"})
    later = first.data.submitted_at + timedelta(hours=2)
    second = first.model_copy(
        update={
            "event_id": uuid4(),
            "data": first.data.model_copy(
                update={"revision": 2, "submitted_at": later, "declaration": revised_content}
            ),
        }
    )

    engine = create_engine(stack.postgres.database_url("stats"), pool_size=1)
    try:
        async with driver(engine, transaction=False) as connection:
            applied = connection.transaction()
            await applied.start()
            try:
                await record_facts(connection, [first, second])
                fact = await connection.fetchrow(
                    "SELECT revision, category, declared_at FROM declaration_facts WHERE declaration_id = $1", other
                )
            finally:
                await applied.rollback()  # leave the live aggregates as the topics make them
    finally:
        await engine.dispose()

    assert fact is not None
    assert (fact["revision"], fact["category"]) == (2, "phishing")
    assert fact["declared_at"] == first.data.submitted_at
