"""Hostile and malformed input, generated rather than imagined: whatever arrives, the API
answers with a precise problem+json error or accepts a valid declaration, never a 500."""

import json
from typing import Any, cast

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

EXPECTED = {202, 400, 413, 415, 422}
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*prefix, index))
    return found


@st.composite
def mutated_declarations(draw: st.DrawFn) -> dict[str, Any]:
    """A valid declaration with one part replaced, removed, or joined by an unknown field."""
    payload = declaration(finess=finess_in("11", 830000), indicators=[{"type": "ipv4", "value": "203.0.113.7"}])
    path = draw(st.sampled_from(paths(payload)))
    *parents, leaf = path
    target: Any = payload
    for part in parents:
        target = target[part]
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    if action == "replace":
        target[leaf] = draw(json_values)
    elif action == "remove" and isinstance(target, dict):
        del target[leaf]
    elif isinstance(target, dict):
        target[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
    return payload


def check(response: httpx.Response, api: httpx.Client) -> None:
    assert response.status_code in EXPECTED, response.text
    if response.status_code == 202:
        assert api.get(f"/v1/declarations/{response.json()['id']}").status_code == 200
    else:
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == response.status_code
        assert problem["detail"]


@pytest.fixture(scope="module")
def sync_api(stack: Stack, credentials: dict[str, dict[str, str]]) -> Any:
    headers = {"Authorization": f"Bearer {credentials['partner']['secret']}"}
    with httpx.Client(base_url=stack.config.service_url("declaration"), headers=headers, timeout=10) as api:
        yield api


@FUZZ
@given(payload=mutated_declarations())
def test_mutated_declarations_are_accepted_or_refused_precisely(
    sync_api: httpx.Client, payload: dict[str, Any]
) -> None:
    check(sync_api.post("/v1/declarations", json=payload), sync_api)


@FUZZ
@given(body=json_values)
def test_any_json_document_is_refused_precisely(sync_api: httpx.Client, body: Any) -> None:
    check(
        sync_api.post(
            "/v1/declarations",
            content=json.dumps(body),
            headers={"content-type": "application/json"},
        ),
        sync_api,
    )


@FUZZ
@given(body=st.binary(max_size=300))
def test_arbitrary_bytes_are_refused_precisely(sync_api: httpx.Client, body: bytes) -> None:
    check(
        sync_api.post("/v1/declarations", content=body, headers={"content-type": "application/json"}),
        sync_api,
    )


def test_every_operation_withstands_schema_driven_requests(
    stack: Stack, credentials: dict[str, dict[str, str]]
) -> None:
    """Requests generated from the service's own OpenAPI document, valid and not, for every
    operation: none may end in a server error, and every error is problem+json."""
    schema = schemathesis.openapi.from_url(f"{stack.config.service_url('declaration')}/openapi.json")
    headers = {"Authorization": f"Bearer {credentials['partner']['secret']}"}
    operations = [cast(Any, result).ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5

    for operation in operations:
        for mode in schemathesis.GenerationMode:
            _withstands(operation, mode, headers)


def _withstands(operation: Any, mode: schemathesis.GenerationMode, headers: dict[str, str]) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def withstands(case: Any) -> None:
        response = case.call(headers=headers)
        assert response.status_code < 500, (mode, case.method, case.path, response.text)
        if response.status_code >= 400:
            content_type = response.headers.get("content-type")
            if isinstance(content_type, list):
                content_type = content_type[0]
            assert content_type == "application/problem+json", (mode, case.path, response.text)

    try:
        withstands()
    except Unsatisfiable:
        # An operation with no parameter and no body (a health probe) has nothing to get wrong.
        if mode is not schemathesis.GenerationMode.NEGATIVE:
            raise
