"""Outcomes of a revision's deliveries are queued for one transaction, without waiting long for a
slow one."""

import asyncio
from collections.abc import Sequence
from typing import Any, cast

from vigie_notification.entrypoints.deliveries import Together


class Outcomes:
    """Stands in for the group commit: records what was queued together, and commits at once."""

    def __init__(self) -> None:
        self.transactions: list[list[str]] = []

    def enqueue(self, items: Sequence[str]) -> list["asyncio.Future[bool]"]:
        self.transactions.append(list(items))
        futures = [asyncio.get_running_loop().create_future() for _ in items]
        for future in futures:
            future.set_result(True)
        return futures


async def _after(seconds: float, together: Together, attempt: str) -> bool:
    await asyncio.sleep(seconds)
    return await together.record(cast(Any, attempt))


async def test_outcomes_arriving_within_the_window_share_one_transaction() -> None:
    outcomes = Outcomes()
    together = Together(cast(Any, outcomes), expected=3, window=0.5)
    recorded = await asyncio.gather(
        _after(0.0, together, "ars webhook"), _after(0.05, together, "ars email"), _after(0.1, together, "cert")
    )
    assert list(recorded) == [True, True, True]
    assert outcomes.transactions == [["ars webhook", "ars email", "cert"]]


async def test_a_slow_delivery_holds_the_others_back_no_longer_than_the_window() -> None:
    outcomes = Outcomes()
    together = Together(cast(Any, outcomes), expected=3, window=0.1)
    started = asyncio.get_running_loop().time()
    fast = asyncio.gather(_after(0.0, together, "ars webhook"), _after(0.02, together, "ars email"))
    slow = asyncio.create_task(_after(0.5, together, "hung"))
    assert list(await fast) == [True, True]
    assert asyncio.get_running_loop().time() - started < 0.4
    assert outcomes.transactions == [["ars webhook", "ars email"]]
    assert await slow is True
    assert outcomes.transactions == [["ars webhook", "ars email"], ["hung"]]


async def test_a_delivery_that_never_reports_does_not_hold_the_others_forever() -> None:
    outcomes = Outcomes()
    together = Together(cast(Any, outcomes), expected=2, window=0.05)
    assert await asyncio.wait_for(together.record(cast(Any, "ars webhook")), 1.0) is True
    assert outcomes.transactions == [["ars webhook"]]
