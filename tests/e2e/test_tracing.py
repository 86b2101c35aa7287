"""One declaration is one trace, from the HTTP request to the last webhook, across the four
services: the trace context travels through the outbox and in the Kafka headers."""

import httpx
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..support.otlp import OtlpCollector
from ..support.pipeline import settle, wait_for_status, wait_until

SERVICES = {"declaration", "enrichment", "notification", "stats"}


async def test_one_declaration_is_one_trace_across_the_four_services(
    stack: Stack, api: httpx.AsyncClient, otlp: OtlpCollector
) -> None:
    response = await api.post("/v1/declarations", json=declaration(finess=finess_in("76", 730001)))
    declaration_id = response.json()["id"]
    await wait_for_status(api, [declaration_id])
    await settle(stack)

    async def whole_trace_exported() -> bool:
        traces = otlp.traces_with("vigie.declaration.id", declaration_id)
        if len(traces) != 1:
            return False
        spans = otlp.trace(next(iter(traces)))
        return {span.service for span in spans} == SERVICES and sum(
            1 for span in spans if span.name.startswith("notify ")
        ) == 5  # ARS and CERT Santé by webhook and e-mail, the declarant by e-mail

    await wait_until(whole_trace_exported, timeout=30, what="the declaration's whole trace")
    (trace_id,) = otlp.traces_with("vigie.declaration.id", declaration_id)
    spans = otlp.trace(trace_id)
    by_id = {span.span_id: span for span in spans}

    roots = [span for span in spans if span.parent_id is None]
    assert len(roots) == 1
    assert roots[0].service == "declaration"
    assert roots[0].kind == Span.SPAN_KIND_SERVER
    assert roots[0].name.startswith("POST /v1/declarations")
    assert all(span.parent_id in by_id for span in spans if span.parent_id), "a span's parent is missing"

    def hop(service: str, name: str) -> list[str]:
        """The services of the chain of parents above each ``name`` span of ``service``."""
        chains = []
        for span in spans:
            if span.service == service and span.name == name:
                chain, current = [], span
                while current.parent_id is not None:
                    current = by_id[current.parent_id]
                    chain.append(f"{current.service}:{current.name}")
                chains.append(" <- ".join(chain))
        assert chains, f"no {name} span in {service}"
        return chains

    # Each Kafka hop: the consumer's process span is the child of the producer's publish span.
    for chain in hop("enrichment", "declaration.submitted.v1 process"):
        assert chain.startswith("declaration:declaration.submitted.v1 publish")
    for service in ("notification", "stats", "declaration"):
        for chain in hop(service, "declaration.enriched.v1 process"):
            assert chain.startswith(
                "enrichment:declaration.enriched.v1 publish <- enrichment:declaration.submitted.v1 process"
            )
    for chain in hop("declaration", "notification.dispatched.v1 process"):
        assert chain.startswith("notification:notification.dispatched.v1 publish <- notification:notify ")
    webhook_posts = [
        s for s in spans if s.service == "notification" and s.kind == Span.SPAN_KIND_CLIENT and s.name == "POST"
    ]
    assert len(webhook_posts) == 2
    assert all(by_id[s.parent_id].name.startswith("notify ") for s in webhook_posts if s.parent_id)
