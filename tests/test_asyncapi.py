"""The AsyncAPI document is what the services declare, and it tells every topic whole: one
producer a topic, every consumer group with the event it takes and its dead-letter channel."""

from pathlib import Path
from typing import Any

import pytest
from faststream.kafka import KafkaBroker

from vigie_contracts.events import EVENTS, DeclarationEnriched
from vigie_contracts.topics import ALL_TOPICS
from vigie_kit.consumer import NotBound, Subscription
from vigie_kit.messaging import Channels, Messaging, UndeclaredTopic
from vigie_stack.asyncapi import SERVICES, document, is_current, render


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return document()


def test_the_checked_in_document_is_what_the_services_declare() -> None:
    assert is_current(), "run `make schemas` and commit contracts/asyncapi.json"


def test_a_stale_document_is_detected(tmp_path: Path, spec: dict[str, Any]) -> None:
    path = tmp_path / "asyncapi.json"
    path.write_text(render(spec))
    assert is_current(path)
    path.write_text(render({**spec, "channels": {}}))
    assert not is_current(path)


def test_every_topic_has_one_producer_publishing_its_event(spec: dict[str, Any]) -> None:
    producers = {name: channel for name, channel in spec["channels"].items() if channel["address"] == name}
    assert set(producers) == {topic.name for topic in ALL_TOPICS}
    published = [event for channels in SERVICES.values() for event in channels.publishes]
    assert sorted(event.topic.name for event in published) == sorted(topic.name for topic in ALL_TOPICS)
    for event in EVENTS:
        (message,) = producers[event.topic.name]["messages"].values()
        payload = spec["components"]["messages"][message["$ref"].rsplit("/", 1)[1]]["payload"]
        assert payload == {"$ref": f"#/components/schemas/{event.__name__}"}


def test_every_consumer_group_takes_its_event_and_has_dead_letters(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for channels in SERVICES.values():
        for subscription in channels.consumes:
            channel = spec["channels"][subscription.group]
            assert channel["address"] == subscription.topic.name
            assert channel["description"] == subscription.description
            (message,) = channel["messages"].values()
            payload = spec["components"]["messages"][message["$ref"].rsplit("/", 1)[1]]["payload"]
            batch = schemas[payload["$ref"].rsplit("/", 1)[1]]
            assert batch["type"] == "array"
            assert batch["items"] == {"$ref": f"#/components/schemas/{subscription.event_type.__name__}"}
            dead = spec["channels"][f"{subscription.group}:dead-letters"]
            assert dead["address"] == subscription.topic.dead_letter
            assert spec["operations"][f"{subscription.group}:dead-letters"]["action"] == "send"
            assert spec["operations"][subscription.group]["action"] == "receive"


def test_consumer_groups_are_unique_across_services() -> None:
    groups = [subscription.group for channels in SERVICES.values() for subscription in channels.consumes]
    assert len(groups) == len(set(groups))


PLAN = Subscription("tests.plan", DeclarationEnriched, "tests")
OTHER = Subscription("tests.other", DeclarationEnriched, "tests")


async def _handler(*_: object) -> None:
    return None


def test_every_declared_subscription_gets_a_handler_and_no_other() -> None:
    messaging = Messaging(KafkaBroker(), Channels(consumes=(PLAN,)), lambda: pytest.fail("not run"))
    assert messaging.unbound() == ["tests.plan"]
    with pytest.raises(
        NotBound, match=r"handlers are given for \['tests.other'\], the service declares \['tests.plan'\]"
    ):
        messaging.bind({OTHER: _handler})
    messaging.bind({PLAN: _handler})
    assert messaging.unbound() == []


def test_an_event_for_an_undeclared_topic_is_refused_by_name() -> None:
    messaging = Messaging(KafkaBroker(), Channels(publishes=(DeclarationEnriched,)), lambda: pytest.fail("not run"))
    assert messaging.publisher("declaration.enriched.v1") is messaging.publishers["declaration.enriched.v1"]
    with pytest.raises(UndeclaredTopic, match=r"declaration.submitted.v1, which this service does not declare"):
        messaging.publisher("declaration.submitted.v1")
