"""The local stack's Zipkin keeps a bounded number of spans (``MAX_SPANS``) in a bounded heap:
sent three times as many spans as it keeps, each carrying 2 KB of tags (the size of a database
span with its statement), it still answers, and so the services' spans are never dropped."""

import dataclasses
import random
import shutil
import time

import httpx

from vigie_stack.config import profile
from vigie_stack.zipkin import MAX_SPANS, ZipkinServer


def test_zipkin_holds_its_bound_of_spans_without_running_out_of_memory() -> None:
    config = dataclasses.replace(profile("test"), name="test-zipkin", zipkin_port=29499)
    zipkin = ZipkinServer(config)
    tags = {"db.statement": "SELECT id FROM deliveries WHERE status = 'pending' " * 40, "vigie.n": ""}
    try:
        zipkin.start()
        with httpx.Client(timeout=30) as client:
            for batch in range(3 * MAX_SPANS // 500):
                trace = f"{random.getrandbits(128):032x}"
                spans = [
                    {
                        "traceId": trace,
                        "id": f"{random.getrandbits(64):016x}",
                        "name": "select",
                        "timestamp": int(time.time() * 1e6),
                        "duration": 1000,
                        "localEndpoint": {"serviceName": "notification"},
                        "tags": {**tags, "vigie.n": str(batch)},
                    }
                    for _ in range(500)
                ]
                response = client.post(f"{zipkin.url}/api/v2/spans", json=spans)
                assert response.status_code == 202, response.text[:200]
            assert zipkin.healthy()
            found = client.get(f"{zipkin.url}/api/v2/traces", params={"serviceName": "notification", "limit": 5})
            assert found.status_code == 200
            assert len(found.json()) == 5
    finally:
        zipkin.stop()
        shutil.rmtree(config.state, ignore_errors=True)
