"""Spans leave over OTLP unless ``OTEL_TRACES_EXPORTER`` says otherwise: sent by the SDK's own
exporter to a real OTLP/HTTP receiver."""

import pytest

from vigie_contracts.tracing import DECLARATION_ID
from vigie_kit.telemetry import tracer_provider

from .support.otlp import OtlpCollector


def test_spans_are_exported_over_otlp_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    collector = OtlpCollector()
    collector.start()
    try:
        monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", collector.endpoint)
        provider = tracer_provider("enrichment")
        with provider.get_tracer("tests").start_as_current_span("work", attributes={DECLARATION_ID: "d-1"}):
            pass
        assert provider.force_flush(10_000)
        provider.shutdown()
    finally:
        collector.stop()
    (span,) = collector.spans
    assert (span.service, span.name, span.attributes[DECLARATION_ID]) == ("enrichment", "work", "d-1")


def test_an_unknown_exporter_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "jaeger-thrift")
    with pytest.raises(ValueError, match="unknown exporter 'jaeger-thrift'"):
        tracer_provider("stats")
