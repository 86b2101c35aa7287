"""A batch is decoded record by record: a record that is no event of the contract, however it
fails, is set aside with why, and the others go on, in order, each with its record."""

import json
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import uuid4

from aiokafka import ConsumerRecord
from pydantic import field_validator

from vigie_contracts.events import Envelope
from vigie_contracts.topics import TopicSpec
from vigie_kit.consumer import decode


class Fragile(Envelope):
    topic = TopicSpec("tests.fragile")
    type: Literal["tests.fragile"] = "tests.fragile"
    schema_version: Literal["1.0"] = "1.0"

    @field_validator("producer")
    @classmethod
    def _fails_otherwise(cls, value: str) -> str:
        if value == "crash":
            raise RuntimeError("the validator itself broke")  # not a ValueError: pydantic lets it through
        return value


def _event(producer: str) -> bytes:
    fields = {
        "event_id": str(uuid4()),
        "occurred_at": datetime.now(UTC).isoformat(),
        "producer": producer,
        "declaration_id": str(uuid4()),
        "type": "tests.fragile",
        "schema_version": "1.0",
    }
    return json.dumps(fields).encode()


def _record(offset: int, value: bytes | None) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(Fragile.topic.name, 0, offset, 0, 0, b"k", value, None, 1, len(value or b""), [])


def test_each_record_is_decoded_on_its_own_and_none_stops_the_others() -> None:
    records = [
        _record(0, _event("first")),
        _record(1, b"{not json"),
        _record(2, _event("crash")),
        _record(3, None),
        _record(4, _event("last")),
    ]
    decoded = decode(records, Fragile)
    assert [event.producer for event in decoded] == ["first", "last"]
    assert [record.offset for record, _ in decoded.pairs()] == [0, 4]
    reasons = {record.offset: reason for record, reason in decoded.rejected}
    assert set(reasons) == {1, 2, 3}
    assert reasons[1].startswith("not a valid Fragile: 1 validation error")
    assert reasons[2] == "not a valid Fragile: RuntimeError: the validator itself broke"
    assert reasons[3] == "empty message (no value)"
