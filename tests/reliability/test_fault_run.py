"""The fault run's short variant (``vigie-stack chaos --quick``) on a cluster of its own: three
Kafka nodes, two instances of each service behind HAProxy, a steady load with client retries,
and a fault of each kind. Nothing accepted is lost or duplicated, nothing goes to a dead-letter
topic, the statistics count each declaration once, and the rolling restart costs the client
nothing. The whole run is ``vigie-stack chaos`` (RELIABILITY.md)."""

import json
from pathlib import Path

import pytest

from vigie_stack.chaos import run_chaos


# A stack of its own to build from nothing (three Kafka nodes formatted, eight services
# migrated), then a few minutes of load: longer than one test of the shared stack.
@pytest.mark.timeout(600)
def test_the_short_fault_run_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    results = tmp_path / "chaos.json"
    ok = run_chaos(quick=True, results=results)
    found = json.loads(results.read_text())
    faults = {t["fault"]: t for t in found["tallies"]}
    for name, tally in faults.items():
        assert (tally["lost"], tally["duplicated"]) == (0, 0), name
        assert tally["never_accepted"] == 0, name
    rolling = next(t for name, t in faults.items() if name.startswith("rolling restart"))
    assert rolling["attempts_failed"] == 0
    assert found["dead_letters"] == 0
    assert found["stats_total"] == sum(t["accepted"] for t in found["tallies"]) > 0
    assert ok
