"""Stopping and restarting the whole stack loses no accepted declaration and tells nobody twice."""

import asyncio
from collections import Counter

import httpx

from vigie_contracts.territory import REGIONS
from vigie_stack.receiver import CERT_SANTE, WebhookReceiver
from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..support.pipeline import settle, wait_for_status


async def test_a_restart_of_the_whole_stack_loses_nothing_and_tells_nobody_twice(
    stack: Stack, api: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    await settle(stack)
    duplicates_before = len(receiver.duplicates)
    regions = list(REGIONS)
    accepted: dict[str, tuple[str, str]] = {}

    async def post(count: int, offset: int) -> None:
        for index in range(offset, offset + count):
            region = regions[index % len(regions)]
            response = await api.post("/v1/declarations", json=declaration(finess=finess_in(region, 720000 + index)))
            assert response.status_code == 202
            accepted[response.json()["id"]] = (response.json()["reference"], region)

    # Declarations still flowing through the pipeline when everything stops.
    await post(24, 0)
    await asyncio.to_thread(stack.stop_services)
    await asyncio.to_thread(stack.kafka.stop)
    await asyncio.to_thread(stack.postgres.stop)
    assert not stack.kafka.running()
    assert not stack.postgres.running()

    await asyncio.to_thread(stack.start_infrastructure)
    await asyncio.to_thread(stack.start_services)
    await post(12, 24)

    states = await wait_for_status(api, list(accepted), timeout=120)
    assert {state["reference"] for state in states.values()} == {ref for ref, _ in accepted.values()}
    await settle(stack)

    told = Counter((code, reference) for code in receiver.secrets for reference in receiver.references(code))
    for reference, region in accepted.values():
        assert told[(REGIONS[region].ars_code, reference)] == 1
        assert told[(CERT_SANTE, reference)] == 1
    assert receiver.duplicates[duplicates_before:] == [], "a notification was sent twice"
