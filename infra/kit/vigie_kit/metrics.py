"""Prometheus metrics of a service process, served at ``/metrics``.

Names follow the Prometheus conventions: a ``vigie_`` prefix, base units in the name (seconds,
messages), ``_total`` on counters (added by the client library). Counters and histograms are
updated where the work happens; gauges that describe the state of the database or of the broker
(outbox backlog, consumer lag, pending retries) are read when Prometheus scrapes, so they are
never stale and cost nothing between scrapes.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

log = logging.getLogger(__name__)

Refresh = Callable[[], Awaitable[None]]

# Each scrape-time reading is bounded: an unreachable database must not hang the scrape.
_REFRESH_SECONDS = 2.0

# From a millisecond to ten seconds: a handler's normal work to a stalled database.
_DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

EVENTS_PROCESSED = Counter(
    "vigie_events_processed",
    "Events applied by a consumer group (committed, duplicates excluded)",
    ["consumer", "topic"],
)
HANDLER_DURATION = Histogram(
    "vigie_event_handler_duration_seconds",
    "Time a consumer group's handler took to apply one event",
    ["consumer", "topic"],
    buckets=_DURATION_BUCKETS,
)
DEAD_LETTERED = Counter(
    "vigie_messages_dead_lettered",
    "Messages a consumer group could not process and sent to the topic's dead-letter twin",
    ["consumer", "topic"],
)
CONSUMER_LAG = Gauge(
    "vigie_consumer_lag_messages",
    "Messages in a partition that the consumer group has not yet committed",
    ["consumer", "topic", "partition"],
)
OUTBOX_PUBLISHED = Counter(
    "vigie_outbox_published",
    "Events the outbox relay published and Kafka acknowledged",
    ["topic"],
)
OUTBOX_BACKLOG = Gauge(
    "vigie_outbox_backlog_messages",
    "Events committed in the outbox and not yet acknowledged by Kafka",
)
OUTBOX_OLDEST_AGE = Gauge(
    "vigie_outbox_oldest_age_seconds",
    "Age of the oldest event waiting in the outbox (0 when it is empty)",
)


def metrics_router(refreshers: list[Refresh], operator: Callable[..., Awaitable[None]]) -> APIRouter:
    """``GET /metrics``, in the Prometheus text format, gauges read at the moment of the scrape,
    for the ``operator`` alone (a dependency that refuses anyone else)."""
    router = APIRouter(tags=["health"])

    @router.get(
        "/metrics", response_class=Response, summary="Prometheus metrics (operators)", dependencies=[Depends(operator)]
    )
    async def metrics() -> Response:
        for refresh in refreshers:
            try:
                await asyncio.wait_for(refresh(), _REFRESH_SECONDS)
            except Exception as error:  # a gauge left as it was beats no metrics at all
                log.warning("metrics: %s could not be read (%s)", getattr(refresh, "__name__", "gauge"), error)
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router
