"""Tracing and logging set-up, and W3C trace context carried through outbox rows and Kafka headers.

Exporters follow the standard ``OTEL_*`` variables: ``OTEL_TRACES_EXPORTER`` (``otlp``, the
default, ``zipkin``, ``console`` or ``none``, several separated by commas),
``OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`` for OTLP over HTTP, ``OTEL_EXPORTER_ZIPKIN_ENDPOINT`` for
Zipkin, ``OTEL_TRACES_SAMPLER[_ARG]`` for sampling and ``OTEL_BSP_*`` for batching.
"""

import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

from vigie_contracts.nir import mask_nir
from vigie_contracts.tracing import DECLARATION_ID, DECLARATION_REFERENCE

KafkaHeaders = Iterable[tuple[str, bytes]]

__all__ = [
    "DECLARATION_ID",
    "DECLARATION_REFERENCE",
    "SECRET_NAMES",
    "DatabaseSpans",
    "JsonLogFormatter",
    "ScrubbedSpans",
    "context_from_headers",
    "scrub",
    "setup_logging",
    "setup_tracing",
    "trace_headers",
    "tracer_provider",
]


def setup_tracing(service_name: str, *processors: SpanProcessor) -> TracerProvider:
    """Install this process's tracer provider; extra processors serve tests and benchmarks."""
    provider = tracer_provider(service_name, *processors)
    trace.set_tracer_provider(provider)
    return provider


def tracer_provider(service_name: str, *processors: SpanProcessor) -> TracerProvider:
    """A tracer provider exporting where the ``OTEL_*`` variables say."""
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    provider.add_span_processor(ScrubbedSpans())
    for name in os.environ.get("OTEL_TRACES_EXPORTER", "otlp").split(","):
        match name.strip():
            case "otlp":
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
                    OTLPSpanExporter,
                )

                provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            case "zipkin":
                from opentelemetry.exporter.zipkin.json import ZipkinExporter  # noqa: PLC0415

                provider.add_span_processor(BatchSpanProcessor(ZipkinExporter()))
            case "console":
                provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
            case "none" | "":
                pass
            case other:
                raise ValueError(f"OTEL_TRACES_EXPORTER: unknown exporter {other!r}")
    for processor in processors:
        provider.add_span_processor(processor)
    return provider


class ScrubbedSpans(SpanProcessor):
    """Spans leave the process without a secret or a social security number in what they say of
    the request: its query (where a careless client puts its token) and any header captured.

    Done as each span starts, when the HTTP server span already holds these attributes and can
    still take new values; a span is read-only once it ends."""

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        for name, value in (span.attributes or {}).items():
            if isinstance(value, str) and (name in _SCRUBBED_ATTRIBUTES or ".header." in name):
                span.set_attribute(name, scrub_query(value) if name == "url.query" else scrub(value))


_SCRUBBED_ATTRIBUTES = frozenset({"url.query", "url.full", "http.url", "http.target"})
# Names under which a request may carry a secret: their values never leave the process.
SECRET_NAMES = frozenset({"access_token", "token", "secret", "api_key", "apikey", "password", "authorization"})


def scrub_query(query: str) -> str:
    """A query string whose secret parameters read ``***`` and whose other values are scrubbed."""
    parts = []
    for part in query.split("&"):
        name, equals, value = part.partition("=")
        parts.append(f"{name}={'***' if name.lower() in SECRET_NAMES else scrub(value)}" if equals else scrub(part))
    return "&".join(parts)


class DatabaseSpans(AsyncPGInstrumentor):
    """A client span for each statement run inside a trace being recorded, and none otherwise.

    The stock instrumentor works out each span's name and attributes and starts it whatever the
    sampler then decides; with one trace in a hundred kept, that CPU goes almost all to spans
    nobody would see (BENCHMARKS.md). A statement outside any span (the
    outbox relay's poll, say) would have made a trace of its own: one span, with no story."""

    async def _do_execute(self, func: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        if not trace.get_current_span().is_recording():
            return await func(*args, **kwargs)
        return await super()._do_execute(func, instance, args, kwargs)  # type: ignore[no-untyped-call]

    async def _do_cursor_execute(self, func: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        if not trace.get_current_span().is_recording():
            return await func(*args, **kwargs)
        return await super()._do_cursor_execute(func, instance, args, kwargs)  # type: ignore[no-untyped-call]

    async def _do_prepared_execute(self, func: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        if not trace.get_current_span().is_recording():
            return await func(*args, **kwargs)
        return await super()._do_prepared_execute(func, instance, args, kwargs)  # type: ignore[no-untyped-call]


def trace_headers() -> dict[str, str]:
    """The current trace context as W3C headers (``traceparent``, ``tracestate``)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_from_headers(headers: Mapping[str, str] | KafkaHeaders) -> otel_context.Context:
    """The trace context a message or an outbox row carries, to continue its trace."""
    if isinstance(headers, Mapping):
        carrier = dict(headers)
    else:
        carrier = {key: value.decode("latin-1") for key, value in headers}
    return propagate.extract(carrier)


# What must never reach a log line even when a library puts it in an error message: bearer
# tokens, Vigie's own secrets wherever they appear, the password in a URL, and
# ``password=…``/``secret: …`` pairs.
_SECRET = re.compile(
    r"(?P<own>\bvig[pan]_)[A-Za-z0-9_-]{8,}"
    r"|(?P<bearer>\b[Bb]earer\s+)[^\s\"',;]+"
    r"|(?P<userinfo>://[^/\s:@]*:)[^@\s/]+(?=@)"
    r"|(?P<pair>\b(?:password|passwd|pwd|secret|token|api[_-]?key)\b[\"']?\s*[=:]\s*[\"']?)[^\s\"',;&}]+",
    re.IGNORECASE,
)


def scrub(text: str) -> str:
    """``text`` with secrets and social security numbers masked."""
    text = _SECRET.sub(lambda m: f"{m['own'] or m['bearer'] or m['userinfo'] or m['pair']}***", text)
    return mask_nir(text)[0]


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, with the trace and span of the work being logged; secrets and
    social security numbers are masked whatever logged them."""

    def __init__(self, service_name: str, instance: str | None = None) -> None:
        super().__init__()
        self.service_name = service_name
        self.instance = instance

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service_name,
            **({"instance": self.instance} if self.instance else {}),
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            entry["trace_id"] = format(span_context.trace_id, "032x")
            entry["span_id"] = format(span_context.span_id, "016x")
        for key in ("declaration_id", "reference", "topic", "event_id"):
            if (value := record.__dict__.get(key)) is not None:
                entry[key] = str(value)
        if record.exc_info:
            entry["error"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(service_name: str, level: str = "INFO", instance: str | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter(service_name, instance))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka reports every reconnection attempt at ERROR; the relay reports outages once.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
