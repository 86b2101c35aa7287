"""One declaration is one trace, from the HTTP request to the last webhook and e-mail, across
the four services, found in the stack's real Zipkin server by the declaration's reference, as
an ops person would find it."""

import asyncio
from typing import Any

import httpx

from vigie_contracts.tracing import DECLARATION_ID, DECLARATION_REFERENCE
from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..support.pipeline import settle, wait_for_status, wait_until

SERVICES = {"declaration", "enrichment", "notification", "stats"}
# ARS, CERT Santé and the HFDS by webhook and by e-mail, and the declarant's acknowledgement.
DELIVERIES = 7


async def test_one_declaration_is_one_trace_across_the_four_services(stack: Stack, api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/declarations", json=declaration(finess=finess_in("76", 730001)))
    accepted = response.json()
    await wait_for_status(api, [accepted["id"]])
    await settle(stack)

    found: list[list[dict[str, Any]]] = []

    async def whole_trace_in_zipkin() -> bool:
        traces = await asyncio.to_thread(stack.zipkin.traces_tagged, DECLARATION_REFERENCE, accepted["reference"])
        if len(traces) != 1:
            return False
        spans = traces[0]
        found[:] = traces
        return {service(s) for s in spans} == SERVICES and sum(
            1 for s in spans if s.get("name", "").startswith("notify ")
        ) == DELIVERIES

    await wait_until(whole_trace_in_zipkin, timeout=60, what="the declaration's whole trace in Zipkin")
    (spans,) = found
    by_id = {span["id"]: span for span in spans}
    assert len({span["traceId"] for span in spans}) == 1

    roots = [span for span in spans if "parentId" not in span]
    assert len(roots) == 1, [span["name"] for span in roots]
    (root,) = roots
    assert service(root) == "declaration"
    assert root["kind"] == "SERVER"
    assert root["name"].startswith("post /v1/declarations")
    tagged = [
        s for s in spans if service(s) == "declaration" and s.get("tags", {}).get(DECLARATION_ID) == accepted["id"]
    ]
    assert any(s["tags"].get(DECLARATION_REFERENCE) == accepted["reference"] for s in tagged)
    assert all(span["parentId"] in by_id for span in spans if "parentId" in span), "a span's parent is missing"
    # The database work of the request is in the trace, under the request.
    assert any(service(s) == "declaration" and s["name"].startswith("insert") for s in spans)

    def chains(of_service: str, name: str) -> list[str]:
        """For each ``name`` span of ``of_service``, the chain of its parents, nearest first."""
        found_chains = []
        for span in spans:
            if service(span) == of_service and span["name"] == name:
                chain, current = [], span
                while "parentId" in current:
                    current = by_id[current["parentId"]]
                    chain.append(f"{service(current)}:{current['name']}")
                found_chains.append(" <- ".join(chain))
        assert found_chains, f"no {name} span in {of_service}"
        return found_chains

    # Each Kafka hop: the consumer's process span is the child of the producer's publish span,
    # itself under the work that wrote the outbox row.
    for chain in chains("enrichment", "declaration.submitted.v1 process"):
        assert chain == (
            "declaration:declaration.submitted.v1 publish <- declaration:fastapi.endpoint"
            " <- declaration:post /v1/declarations"
        )
    for of_service in ("notification", "stats", "declaration"):
        for chain in chains(of_service, "declaration.enriched.v1 process"):
            assert chain.startswith(
                "enrichment:declaration.enriched.v1 publish <- enrichment:declaration.submitted.v1 process"
            )
    for chain in chains("declaration", "notification.dispatched.v2 process"):
        assert chain.startswith("notification:notification.dispatched.v2 publish <- notification:notify ")
    for chain in chains("stats", "notification.dispatched.v2 process"):
        assert chain.startswith("notification:notification.dispatched.v2 publish <- notification:notify ")

    # Each delivery joins the trace from its durable row, under the event that planned it, and
    # each webhook POST is a client span under its delivery.
    notify = [span for span in spans if span["name"].startswith("notify ")]
    assert all(by_id[span["parentId"]]["name"] == "declaration.enriched.v1 process" for span in notify)
    assert all(span["tags"][DECLARATION_REFERENCE] == accepted["reference"] for span in notify)
    posts = [span for span in spans if service(span) == "notification" and span.get("kind") == "CLIENT"]
    webhooks = [span for span in posts if span["name"] == "post"]
    assert len(webhooks) == 3
    assert all(by_id[span["parentId"]]["name"].endswith(" by webhook") for span in webhooks)
    emails = [span for span in posts if span["name"] == "smtp send"]
    assert len(emails) == 4
    assert all(by_id[span["parentId"]]["name"].endswith(" by email") for span in emails)


def service(span: dict[str, Any]) -> str:
    return str(span.get("localEndpoint", {}).get("serviceName", "?"))


async def test_declarations_handled_together_keep_a_trace_each(stack: Stack, api: httpx.AsyncClient) -> None:
    """The intake writes declarations arriving together in one transaction, and consumers take
    events in batches: each declaration's events still continue its own request's trace."""
    answers = await asyncio.gather(
        *(api.post("/v1/declarations", json=declaration(finess=finess_in("76", 730100 + n))) for n in range(8))
    )
    accepted = [answer.json() for answer in answers]
    await wait_for_status(api, [a["id"] for a in accepted])
    await settle(stack)

    async def each_whole_in_its_own_trace() -> bool:
        for one in accepted:
            traces = await asyncio.to_thread(stack.zipkin.traces_tagged, DECLARATION_REFERENCE, one["reference"])
            if len(traces) != 1:
                return False
            spans = traces[0]
            # Everything of this declaration, and nothing of the seven others.
            ids = {s["tags"][DECLARATION_ID] for s in spans if DECLARATION_ID in s.get("tags", {})}
            notified = sum(1 for s in spans if s.get("name", "").startswith("notify "))
            if {service(s) for s in spans} != SERVICES or ids != {one["id"]} or notified != DELIVERIES:
                return False
        return True

    await wait_until(each_whole_in_its_own_trace, timeout=60, what="each declaration's whole trace, apart")
