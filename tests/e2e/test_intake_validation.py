"""Bad input gets a precise problem+json answer, and nothing is stored or published for it."""

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..support.pipeline import end_offsets, scalar, settle, wait_until

Payload = dict[str, Any]


def valid() -> Payload:
    return declaration(finess=finess_in("11", 123456))


def changed(path: str, value: Any) -> Callable[[], Payload]:
    """A valid payload with the field at ``path`` (dotted) set to ``value``, or removed."""

    def build() -> Payload:
        payload = valid()
        *parents, leaf = path.split(".")
        target = payload
        for part in parents:
            target = target[part]
        if value is REMOVE:
            del target[leaf]
        else:
            target[leaf] = value
        return payload

    return build


REMOVE = object()
NOW = datetime.now(UTC)

# (case, payload builder, field named in the error, words of the message)
# fmt: off
INVALID: list[tuple[str, Callable[[], Payload], str, str]] = [
    ("finess missing", changed("structure.finess", REMOVE), "structure.finess", "required"),
    ("finess check digit", changed("structure.finess", "130783237"), "structure.finess", "check digit is 7, expected 6"),
    ("finess too long", changed("structure.finess", "1307832360"), "structure.finess", "at most 9"),
    ("finess département 20", changed("structure.finess", "200000001"), "structure.finess", "Corsican numbers start with 2A"),
    ("finess overseas 975", changed("structure.finess", "975000001"), "structure.finess", "overseas numbers"),
    ("finess_ej invalid", changed("structure.finess_ej", "130783230"), "structure.finess_ej", "check digit"),
    ("structure name empty", changed("structure.name", ""), "structure.name", "at least 1"),
    ("structure type unknown", changed("structure.type", "hospital"), "structure.type", "health_facility"),
    ("essential_operator not bool", changed("structure.essential_operator", "maybe"), "structure.essential_operator", "boolean"),
    ("declarant missing", changed("declarant", REMOVE), "declarant", "required"),
    ("declarant email invalid", changed("declarant.email", "not-an-email"), "declarant.email", "pattern"),
    ("declarant phone invalid", changed("declarant.phone", "call me"), "declarant.phone", "pattern"),
    ("detected_at missing", changed("detected_at", REMOVE), "detected_at", "required"),
    ("detected_at naive", changed("detected_at", "2026-11-20T10:00:00"), "detected_at", "timezone"),
    ("detected_at future", changed("detected_at", (NOW + timedelta(days=1)).isoformat()), "detected_at", "future"),
    ("detected_at not a date", changed("detected_at", "yesterday"), "detected_at", "datetime"),
    ("started_at after detection", changed("started_at", NOW.isoformat()), "started_at", "after detected_at"),
    ("origin unknown", changed("origin", "aliens"), "origin", "malicious"),
    ("category unknown", changed("category", "hack"), "category", "ransomware"),
    ("description empty", changed("description", ""), "description", "at least 1"),
    ("description too long", changed("description", "x" * 10_001), "description", "at most 10000"),
    ("status unknown", changed("status", "done"), "status", "ongoing"),
    ("scope item unknown", changed("scope", ["servers", "cloud"]), "scope[1]", "workstations"),
    ("scope not a list", changed("scope", "servers"), "scope", "array"),
    ("patient_safety unknown", changed("impacts.patient_safety", "high"), "impacts.patient_safety", "potential"),
    ("impact not bool", changed("impacts.degraded_mode", 3), "impacts.degraded_mode", "boolean"),
    ("indicator type unknown", changed("indicators", [{"type": "ssn", "value": "x"}]), "indicators[0].type", "ipv4"),
    ("indicator value empty", changed("indicators", [{"type": "ipv4", "value": ""}]), "indicators[0].value", "at least 1"),
    ("too many indicators", changed("indicators", [{"type": "md5", "value": "a"}] * 501), "indicators", "at most 500"),
    ("provider without name", changed("provider", {}), "provider.name", "required"),
    ("support_requested not bool", changed("support_requested", "yes please"), "support_requested", "boolean"),
    ("unknown top-level field", changed("severity", "high"), "severity", "unknown field"),
    ("unknown nested field", changed("structure.siret", "123"), "structure.siret", "unknown field"),
]
# fmt: on


async def counts(stack: Stack) -> tuple[int, int, dict[Any, int]]:
    return (
        await scalar(stack, "declaration", "SELECT count(*) FROM declarations"),
        await scalar(stack, "declaration", "SELECT count(*) FROM outbox"),
        await end_offsets(stack, ["declaration.submitted.v1"]),
    )


@pytest.mark.parametrize(("case", "build", "field", "words"), INVALID, ids=[case for case, *_ in INVALID])
async def test_an_invalid_declaration_is_refused_naming_the_field(
    api: httpx.AsyncClient, case: str, build: Callable[[], Payload], field: str, words: str
) -> None:
    response = await api.post("/v1/declarations", json=build())
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert field in problem["detail"]
    messages = {error["field"]: error["message"] for error in problem["errors"]}
    assert field in messages, messages
    assert words.lower() in messages[field].lower(), messages[field]


@pytest.mark.parametrize(
    ("case", "body", "content_type", "status", "words"),
    [
        ("malformed JSON", b'{"structure": ', "application/json", 400, "not valid JSON"),
        (
            "not UTF-8",
            '{"description": "é"}'.encode("latin-1"),
            "application/json",
            400,
            "not valid UTF-8",
        ),
        ("empty body", b"", "application/json", 400, "empty"),
        ("a JSON array", b"[1, 2]", "application/json", 422, "(body)"),
        ("a JSON string", b'"declaration"', "application/json", 422, "(body)"),
        ("form encoded", b"a=1", "application/x-www-form-urlencoded", 415, "application/json"),
        ("no content type", b"{}", "", 415, "application/json"),
        (
            "deeply nested",
            b"[" * 100_000 + b"]" * 100_000,
            "application/json",
            400,
            "not valid JSON",
        ),
        ("NaN", b'{"description": NaN}', "application/json", 422, "description"),
    ],
)
async def test_a_body_that_is_not_a_declaration_gets_a_precise_error(
    api: httpx.AsyncClient, case: str, body: bytes, content_type: str, status: int, words: str
) -> None:
    response = await api.post("/v1/declarations", content=body, headers={"content-type": content_type})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert words in response.text


async def test_an_oversized_body_is_refused_before_it_is_read(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/declarations",
        content=b"{" + b" " * 2_000_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert "limit is 1048576 bytes" in response.json()["detail"]


async def test_a_client_that_hangs_up_mid_body_leaves_no_trace_and_no_error(
    stack: Stack, api: httpx.AsyncClient, credentials: dict[str, dict[str, str]]
) -> None:
    declarations_before = await scalar(stack, "declaration", "SELECT count(*) FROM declarations")
    log = stack.services["declaration"].log_file
    log_before = len(log.read_text().splitlines())
    body = json.dumps(valid()).encode()
    _, writer = await asyncio.open_connection("127.0.0.1", stack.config.service_ports["declaration"])
    writer.write(
        b"POST /v1/declarations HTTP/1.1\r\nHost: vigie\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {credentials['partner']['secret']}\r\n".encode()
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body[: len(body) // 2]
    )
    await writer.drain()
    await asyncio.sleep(0.3)
    writer.close()
    await writer.wait_closed()

    async def told() -> bool:
        return "hung up before sending its whole request" in "".join(log.read_text().splitlines()[log_before:])

    await wait_until(told, timeout=10, what="the hang-up logged")
    new_lines = log.read_text().splitlines()[log_before:]
    assert not [line for line in new_lines if '"level": "error"' in line]
    assert await scalar(stack, "declaration", "SELECT count(*) FROM declarations") == declarations_before
    assert (await api.post("/v1/declarations", json=valid())).status_code == 202


async def test_refused_declarations_leave_no_trace_and_accepted_ones_are_unharmed(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    accepted = await api.post("/v1/declarations", json=valid())
    assert accepted.status_code == 202
    await settle(stack)
    before = await counts(stack)
    for _, build, _, _ in INVALID:
        assert (await api.post("/v1/declarations", json=build())).status_code == 422
    await api.post("/v1/declarations", content=b"{", headers={"content-type": "application/json"})
    await settle(stack)
    # The outbox is the only way to Kafka: no row, no event.
    assert await counts(stack) == before
    assert before[1] == 0
    still_there = await api.get(f"/v1/declarations/{accepted.json()['id']}")
    assert still_there.status_code == 200
    assert still_there.json()["status"] == "notified"


async def test_reading_an_unknown_or_malformed_id(api: httpx.AsyncClient) -> None:
    missing = await api.get("/v1/declarations/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    malformed = await api.get("/v1/declarations/not-a-uuid")
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "declaration_id"
