"""The stack's tracing backend: a real Zipkin server, from its executable jar on Maven Central.

Every service sends its spans there (``OTEL_TRACES_EXPORTER=zipkin``); its UI, at
``http://127.0.0.1:<zipkin port>/zipkin/``, finds one declaration's trace by its id or reference.
Spans are kept in memory, the newest ``MEM_MAX_SPANS`` of them: traces serve to follow and
diagnose, the system of record is the database.
"""

import os
import time
from typing import Any

import httpx

from .config import StackConfig
from .maven import MavenComponent
from .process import is_running, spawn, stop, wait_for

# About 60 spans per declaration (HTTP, database, each Kafka hop, each of its seven deliveries):
# the last eight hundred or so declarations stay searchable. Counted in spans, not bytes, so the
# bound must hold for the heaviest spans: ones that each carry 2 KB of tags exhaust the 512 MB
# heap near 130,000 (tests/reliability/test_zipkin.py keeps 50,000 of those).
MAX_SPANS = 50_000


class ZipkinServer:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.maven = MavenComponent(config, "zipkin")
        self.pid_file = config.state / "run" / "zipkin.pid"
        self.log_file = config.logs / "zipkin.log"

    @property
    def url(self) -> str:
        return self.config.zipkin_url

    @property
    def spans_endpoint(self) -> str:
        """Where the services' Zipkin exporter posts (``OTEL_EXPORTER_ZIPKIN_ENDPOINT``)."""
        return f"{self.url}/api/v2/spans"

    def running(self) -> bool:
        return is_running(self.pid_file) is not None

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self, *, wait: bool = True, timeout: float = 90.0) -> None:
        if not self.running():
            (jar,) = self.maven.install().glob("zipkin-server-*-exec.jar")
            spawn(
                [
                    "java",
                    "-Xms64m",
                    "-Xmx512m",
                    "-XX:+UseSerialGC",
                    "-XX:TieredStopAtLevel=1",
                    "-Djava.awt.headless=true",
                    "-jar",
                    str(jar),
                    # Loopback only, like every other part of the local stack.
                    f"--armeria.ports[0].port={self.config.zipkin_port}",
                    "--armeria.ports[0].ip=127.0.0.1",
                    "--spring.main.banner-mode=off",
                ],
                pid_file=self.pid_file,
                log_file=self.log_file,
                env={**os.environ, "STORAGE_TYPE": "mem", "MEM_MAX_SPANS": str(MAX_SPANS)},
            )
        if wait:
            self.wait(timeout=timeout)

    def wait(self, *, timeout: float = 90.0) -> None:
        wait_for(lambda: self._alive() and self.healthy(), timeout=timeout, what="Zipkin", log_file=self.log_file)

    def _alive(self) -> bool:
        if not self.running():
            raise RuntimeError(f"Zipkin exited; see {self.log_file}")
        return True

    def stop(self) -> bool:
        return stop(self.pid_file, timeout=20.0)

    def traces_tagged(self, tag: str, value: str, *, limit: int = 20, hours: int = 24) -> list[list[dict[str, Any]]]:
        """The traces (each a list of Zipkin v2 spans) holding a span tagged ``tag=value``:
        ``vigie.declaration.reference=DEC-…`` finds the declaration's own traces."""
        response = httpx.get(
            f"{self.url}/api/v2/traces",
            params={
                "annotationQuery": f"{tag}={value}",
                "limit": limit,
                "lookback": hours * 3_600_000,
                "endTs": int(time.time() * 1000),
            },
            timeout=10,
        )
        response.raise_for_status()
        traces: list[list[dict[str, Any]]] = response.json()
        return traces

    def trace_url(self, trace_id: str) -> str:
        return f"{self.url}/zipkin/traces/{trace_id}"


def span_tree(spans: list[dict[str, Any]]) -> list[str]:
    """A trace as indented lines, parents before children, siblings in time order:
    ``  12.3 ms  enrichment  declaration.submitted.v1 process``."""
    children: dict[str | None, list[dict[str, Any]]] = {}
    ids = {span["id"] for span in spans}
    for span in sorted(spans, key=lambda s: s.get("timestamp", 0)):
        parent = span.get("parentId")
        children.setdefault(parent if parent in ids else None, []).append(span)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for span in children.get(parent, []):
            service = span.get("localEndpoint", {}).get("serviceName", "?")
            milliseconds = span.get("duration", 0) / 1000
            lines.append(f"{milliseconds:>9.1f} ms  {'  ' * depth}{service:<13} {span.get('name', '')}")
            walk(span["id"], depth + 1)

    walk(None, 0)
    return lines
