"""What the notification service sent, and what still waits to be sent."""

from prometheus_client import Counter, Gauge

DELIVERY_ATTEMPTS = Counter(
    "vigie_delivery_attempts",
    "Delivery attempts by recipient, channel and outcome (sent, retrying, failed)",
    ["recipient", "channel", "outcome"],
)
DELIVERIES_PENDING = Gauge(
    "vigie_deliveries_pending",
    "Deliveries not yet attempted, or being attempted",
)
RETRIES_PENDING = Gauge(
    "vigie_delivery_retries_pending",
    "Deliveries that failed and wait for their next attempt",
)
DEAD_LETTERED = Gauge(
    "vigie_deliveries_dead_lettered",
    "Deliveries that gave up after their last attempt and wait for a replay",
)
