"""A real OTLP/HTTP trace receiver for the tests: the services export their spans to it exactly
as they would to a collector, and the tests walk the traces it received."""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from vigie_stack.serving import BackgroundServer


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str | None
    kind: int
    attributes: dict[str, Any]


@dataclass
class OtlpCollector:
    port: int = 0
    spans: list[ReceivedSpan] = field(default_factory=list)
    _server: BackgroundServer | None = None

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/traces")
        async def traces(request: Request) -> Response:
            export = ExportTraceServiceRequest()
            export.ParseFromString(await request.body())
            for resource_spans in export.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        self.spans.append(
                            ReceivedSpan(
                                service=resource.get("service.name", "?"),
                                name=span.name,
                                trace_id=span.trace_id.hex(),
                                span_id=span.span_id.hex(),
                                parent_id=span.parent_span_id.hex() or None,
                                kind=span.kind,
                                attributes={a.key: _value(a.value) for a in span.attributes},
                            )
                        )
            return Response(ExportTraceServiceRequest().SerializeToString(), media_type="application/x-protobuf")

        return app

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        return [span for span in self.spans if span.trace_id == trace_id]

    def traces_with(self, attribute: str, value: str) -> set[str]:
        return {span.trace_id for span in self.spans if span.attributes.get(attribute) == value}

    def services_by_trace(self) -> dict[str, set[str]]:
        services: dict[str, set[str]] = defaultdict(set)
        for span in self.spans:
            services[span.trace_id].add(span.service)
        return services

    def start(self) -> None:
        self._server = BackgroundServer(self.app(), port=self.port)
        self._server.start()
        self.port = self._server.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/traces"


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None
