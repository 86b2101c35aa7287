"""Idempotency-Key: a retried request gets the original answer and creates nothing twice."""

import asyncio
from collections import Counter

import httpx

from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..conftest import client
from ..support.pipeline import read_topic, scalar, settle


async def test_the_same_key_and_body_return_the_original_declaration(stack: Stack, api: httpx.AsyncClient) -> None:
    payload = declaration(finess=finess_in("53", 780001))
    headers = {"Idempotency-Key": "retry-me-780001"}
    first = await api.post("/v1/declarations", json=payload, headers=headers)
    assert first.status_code == 202
    # the same content, written differently (key order, spacing) is the same request
    again = await api.post(
        "/v1/declarations",
        content=httpx.Request("POST", "/", json=dict(reversed(payload.items()))).content,
        headers={**headers, "content-type": "application/json"},
    )
    assert again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers

    await settle(stack)
    declaration_id = first.json()["id"]
    assert (
        await scalar(
            stack,
            "declaration",
            "SELECT count(*) FROM declarations WHERE content->'structure'->>'finess' = $1",
            payload["structure"]["finess"],
        )
        == 1
    )
    events = Counter(r.key for r in await read_topic(stack, "declaration.submitted.v1"))
    assert events[declaration_id.encode()] == 1


async def test_the_same_key_with_another_body_is_refused(api: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "retry-me-780002"}
    first = await api.post("/v1/declarations", json=declaration(finess=finess_in("53", 780002)), headers=headers)
    assert first.status_code == 202
    other = await api.post(
        "/v1/declarations",
        json=declaration(finess=finess_in("53", 780002), category="phishing"),
        headers=headers,
    )
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"
    assert "was used for a different request" in other.json()["detail"]
    assert other.json()["declaration_id"] == first.json()["id"]


async def test_concurrent_retries_with_one_key_create_one_declaration(stack: Stack, api: httpx.AsyncClient) -> None:
    payload = declaration(finess=finess_in("53", 780003))
    headers = {"Idempotency-Key": "burst-780003"}
    responses = await asyncio.gather(*(api.post("/v1/declarations", json=payload, headers=headers) for _ in range(8)))
    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["id"] for r in responses}) == 1
    assert (
        await scalar(
            stack,
            "declaration",
            "SELECT count(*) FROM declarations WHERE finess = $1",
            payload["structure"]["finess"],
        )
        == 1
    )


async def test_declarations_arriving_together_are_each_recorded_once_and_refused_alone(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    """The intake writes declarations that arrive together in one transaction: each still gets
    its own reference and event, and a refused one (its key reused for another body) is alone."""
    # Fewer at once than the intake takes in progress (16), so that none is shed.
    payloads = [declaration(finess=finess_in("53", 780100 + n)) for n in range(12)]
    keyed = declaration(finess=finess_in("53", 780200))
    other = declaration(finess=finess_in("53", 780200), category="phishing")
    key = {"Idempotency-Key": "together-780200"}
    answers = await asyncio.gather(
        *(api.post("/v1/declarations", json=payload) for payload in payloads),
        *(api.post("/v1/declarations", json=body, headers=key) for body in (keyed, keyed, other)),
    )
    plain, with_key = answers[:12], answers[12:]
    assert [a.status_code for a in plain] == [202] * 12
    assert len({a.json()["reference"] for a in plain}) == 12
    # Whichever body came first made the declaration; the other body is refused, whatever the order.
    assert sorted(a.status_code for a in with_key) in ([202, 202, 409], [202, 409, 409])
    assert len({a.json()["id"] for a in with_key if a.status_code == 202}) == 1
    await settle(stack)
    finess = [p["structure"]["finess"] for p in [*payloads, keyed]]
    count = "SELECT count(*) FROM declarations WHERE finess = ANY($1)"
    assert await scalar(stack, "declaration", count, finess) == 13
    # Written together: fewer transactions than declarations (first revisions are never updated).
    transactions = (
        "SELECT count(DISTINCT r.xmin::text) FROM declaration_revisions r"
        " JOIN declarations d ON d.id = r.declaration_id WHERE d.finess = ANY($1)"
    )
    assert await scalar(stack, "declaration", transactions, finess) < 13
    events = Counter(r.key for r in await read_topic(stack, "declaration.submitted.v1"))
    assert all(events[a.json()["id"].encode()] == 1 for a in [*plain, with_key[0]] if a.status_code == 202)


async def test_a_key_belongs_to_its_partner_and_is_validated(stack: Stack, api: httpx.AsyncClient) -> None:
    other = await asyncio.to_thread(
        stack.credential, "--kind", "partner", "--name", "Autre éditeur", "--departement", "35"
    )
    payload = declaration(finess=finess_in("53", 780004))
    headers = {"Idempotency-Key": "shared-key"}
    mine = await api.post("/v1/declarations", json=payload, headers=headers)
    async with client(stack, other["secret"]) as other_api:
        theirs = await other_api.post("/v1/declarations", json=payload, headers=headers)
    assert mine.status_code == theirs.status_code == 202
    assert mine.json()["id"] != theirs.json()["id"]

    for key in (b"x" * 201, "clé-accentuée".encode(), b""):
        bad = await api.post("/v1/declarations", json=payload, headers=[(b"Idempotency-Key", key)])
        assert bad.status_code == 400, key.decode()
        assert "Idempotency-Key" in bad.json()["detail"]
