"""Statements get client spans inside a trace being recorded, and cost no span outside one."""

from collections.abc import Sequence

import asyncpg
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, TraceState
from opentelemetry.util.types import Attributes

from vigie_kit.telemetry import DatabaseSpans
from vigie_stack.stack import Stack


class Counting(Sampler):
    """Roots are never kept, so that only a parent's decision makes a span recorded; and every
    span started is counted, kept or not."""

    def __init__(self) -> None:
        self.decisions: list[str] = []
        self.inner = ParentBased(ALWAYS_OFF)

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        self.decisions.append(name)
        return self.inner.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return "counting"


async def test_statements_are_spans_of_a_recorded_trace_and_nothing_elsewhere(stack: Stack) -> None:
    exporter = InMemorySpanExporter()
    sampler = Counting()
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")
    instrumentor = DatabaseSpans()
    instrumentor.instrument(tracer_provider=provider)
    connection = await asyncpg.connect(stack.postgres.dsn("stats"))
    try:
        await connection.fetchval("SELECT 1")  # outside any span
        with tracer.start_as_current_span("not kept"):
            await connection.fetchval("SELECT 2")
        sampled = trace.SpanContext(
            trace_id=0x5EED, span_id=0x1, is_remote=True, trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED)
        )
        with tracer.start_as_current_span("kept", context=trace.set_span_in_context(trace.NonRecordingSpan(sampled))):
            await connection.fetchval("SELECT 3")
            await connection.execute("SELECT 4")
    finally:
        await connection.close()
        instrumentor.uninstrument()

    spans = exporter.get_finished_spans()
    (kept,) = [span for span in spans if span.name == "kept"]
    statements = [span for span in spans if span.name == "SELECT"]
    assert len(statements) == 2
    assert all(span.parent is not None and span.parent.span_id == kept.context.span_id for span in statements)
    assert {span.name for span in spans} == {"kept", "SELECT"}
    # No span was even started for the statements outside a recorded trace.
    assert sampler.decisions == ["not kept", "kept", "SELECT", "SELECT"]
