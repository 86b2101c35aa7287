"""Finding 6 of the security review: accepted, then silently lost. A declaration detected on
0001-01-01+14:00 was answered 202, then dead-lettered by enrichment, so no agency heard of it. A
5,000-digit integer, or a list cursor holding such a date, ended in a 500.

Accepting means delivering: whatever the contract lets in, every service downstream can carry
to the agencies. Proved on payloads generated from the published schema itself."""

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

SCHEMA = Path(__file__).resolve().parents[2] / "contracts" / "schemas" / "partner-declaration.v1.json"
# A structure in each region, metropolitan and overseas: the schema gives a FINESS number's
# shape, not its check digit.
FINESS = [finess_in(region, 6100 + i) for i, region in enumerate(("11", "53", "84", "01", "04", "06"))]


async def test_a_declaration_detected_before_1990_is_refused_not_lost(api: httpx.AsyncClient) -> None:
    payload = declaration(finess=finess_in("11", 6001))
    payload["detected_at"] = "0001-01-01T00:00:00+14:00"
    response = await api.post("/v1/declarations", json=payload)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "detected_at", "message": "must not be before 1990-01-01", "type": "value_error"}
    ]
    for field in ("started_at", "cnil_notified_at", "anssi_notified_at", "resolved_at"):
        payload = declaration(finess=finess_in("11", 6002))
        payload[field] = "1989-12-31T23:59:59+00:00"
        response = await api.post("/v1/declarations", json=payload)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field


async def test_an_integer_of_5000_digits_is_a_bad_request(api: httpx.AsyncClient) -> None:
    body = json.dumps(declaration(finess=finess_in("11", 6003)))[:-1] + ', "x": ' + "9" * 5000 + "}"
    response = await api.post("/v1/declarations", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("the body is not valid JSON here: Exceeds the limit (4300 digits)")
    revision = '{"kind": "update", "based_on": ' + "1" * 5000 + ', "changes": {}}'
    created = (await api.post("/v1/declarations", json=declaration(finess=finess_in("11", 6004)))).json()["id"]
    response = await api.post(
        f"/v1/declarations/{created}/revisions", content=revision, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


async def test_a_cursor_holding_an_impossible_date_is_refused(national_api: httpx.AsyncClient) -> None:
    for at in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-01-01T00:00:00"):
        cursor = base64.urlsafe_b64encode(json.dumps([at, "00000000-0000-0000-0000-000000000000"]).encode())
        response = await national_api.get("/v1/declarations", params={"cursor": cursor.decode().rstrip("=")})
        assert response.status_code == 422, at
        assert response.json()["errors"] == [
            {"field": "cursor", "message": "cursor: not a cursor this API gave out", "type": "cursor"}
        ]


def made_valid(payload: dict[str, Any], n: int) -> dict[str, Any]:
    """What the published schema cannot say, made true: a FINESS whose check digit is right,
    instants between 1990 and now in their order (detected after started, CNIL and ANSSI told
    after), and fields that agree (resolved when it says when, filed when it says when, the older
    essential-operator flag not against the regime)."""
    payload["structure"]["finess"] = FINESS[n % len(FINESS)]
    if payload["structure"].get("finess_ej") is not None:
        payload["structure"]["finess_ej"] = FINESS[(n + 1) % len(FINESS)]
    now = datetime.now(UTC)
    detected = now - timedelta(days=1 + n % 3000, seconds=n)
    payload["detected_at"] = detected.isoformat()
    if payload.get("started_at") is not None:
        payload["started_at"] = (detected - timedelta(hours=n % 50)).isoformat()
    for field in (
        "cnil_notified_at",
        "anssi_early_warning_at",
        "anssi_notified_at",
        "anssi_final_report_at",
        "resolved_at",
    ):
        if payload.get(field) is not None:
            payload[field] = (detected + timedelta(hours=1)).isoformat()
    if payload.get("resolved_at") is not None:
        payload["status"] = "resolved"
    complaint = payload.get("complaint")
    if complaint and complaint.get("filed_at") is not None:
        complaint.update(filed=True, filed_at=(detected + timedelta(hours=2)).isoformat())
    if payload["structure"].get("regime") in ("none", "nis2_important"):
        payload["structure"]["essential_operator"] = False
    return payload


def test_every_payload_the_schema_allows_and_the_intake_accepts_reaches_the_agencies(
    stack: Stack, credentials: dict[str, dict[str, str]]
) -> None:
    # Bodies generated from the API's own document, whose body is the published schema.
    published = json.loads(SCHEMA.read_text())
    schema = schemathesis.openapi.from_url(f"{stack.config.service_url('declaration')}/openapi.json")
    operation = schema["/v1/declarations"]["POST"]
    document = httpx.get(f"{stack.config.service_url('declaration')}/openapi.json").json()
    assert (
        document["components"]["schemas"]["DeclarationContent"]["properties"].keys() == published["properties"].keys()
    )
    headers = {"Authorization": f"Bearer {credentials['partner']['secret']}"}
    accepted: list[str] = []
    refused: list[dict[str, Any]] = []
    with httpx.Client(base_url=stack.config.service_url("declaration"), headers=headers, timeout=30) as api:

        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        @given(
            case=operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE), n=st.integers(0, 10_000)
        )
        def post(case: Any, n: int) -> None:
            payload = made_valid(case.body, n)
            assert set(payload) <= set(published["properties"])
            response = api.post("/v1/declarations", json=payload)
            assert response.status_code in (202, 422), response.text
            if response.status_code == 202:
                accepted.append(response.json()["id"])
            else:
                problem = response.json()
                assert problem["errors"], problem
                refused.append(problem)

        post()
        # What the schema allows and the intake still refuses must be rare, and said precisely.
        assert len(accepted) >= 30, [e for problem in refused for e in problem["errors"]]
        deadline = time.monotonic() + 120
        pending = set(accepted)
        while pending and time.monotonic() < deadline:
            for declaration_id in sorted(pending):
                if api.get(f"/v1/declarations/{declaration_id}").json()["status"] == "notified":
                    pending.discard(declaration_id)
            time.sleep(0.5)
        assert not pending, f"{len(pending)} accepted declarations never reached the agencies: {sorted(pending)[:3]}"


@pytest.mark.parametrize("service", ["stats"])
def test_the_stats_api_withstands_schema_driven_requests(stack: Stack, service: str) -> None:
    from .test_fuzzing import _withstands  # noqa: PLC0415

    schema = schemathesis.openapi.from_url(f"{stack.config.service_url(service)}/openapi.json")
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        for mode in schemathesis.GenerationMode:
            _withstands(operation, mode, {})
